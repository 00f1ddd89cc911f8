"""The libraries the code uses: each one declared, and the two the books are made of held to their tested releases."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from compendium import command, versions
from compendium.paths import ProjectPaths
from compendium.pipeline import build
from compendium.versions import TESTED, UnsupportedVersion, check_versions

from .conftest import DEFAULT_EDITION, ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DECLARED = {canonicalize_name(requirement.name): requirement
            for requirement in map(Requirement, PYPROJECT["project"]["dependencies"])}


def installed_as(monkeypatch: pytest.MonkeyPatch, **releases: str | None) -> None:
    """Makes the check see ``releases`` (None: not installed) instead of what is installed."""
    real = versions.version

    def version(name: str) -> str:
        if name not in releases:
            return real(name)
        if releases[name] is None:
            raise PackageNotFoundError(name)
        return releases[name]

    monkeypatch.setattr(versions, "version", version)


@pytest.mark.parametrize("subcommand", ["build", "watch"])
def test_the_command_stops_on_another_weasyprint_before_it_starts_a_worker(
        subcommand: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    installed_as(monkeypatch, weasyprint="71.0")
    started = []
    monkeypatch.setattr(command, "start_early", lambda *arguments, **options: started.append("workers"))
    monkeypatch.setattr("compendium.cli.main", lambda: started.append("command line"))
    monkeypatch.setattr(sys, "argv", ["compendium", subcommand, str(DEFAULT_EDITION), "--output", str(tmp_path)])

    with pytest.raises(SystemExit) as exit_status:
        command.main()

    assert exit_status.value.code == 2
    assert started == []
    assert list(tmp_path.iterdir()) == []
    error = capsys.readouterr().err
    assert error.startswith("error: установлен weasyprint 71.0, а сборка проверена только с weasyprint >=70.0,<70.1.")
    assert "bash scripts/bootstrap.sh" in error
    assert "pip install -c requirements.lock" in error
    assert "Traceback" not in error


def test_a_build_called_as_a_library_stops_too_and_writes_nothing(
        monkeypatch: pytest.MonkeyPatch, project: ProjectPaths, tmp_path: Path) -> None:
    installed_as(monkeypatch, pydyf="0.14.0", weasyprint=None)
    output = tmp_path / "out"

    with pytest.raises(UnsupportedVersion) as raised:
        build(DEFAULT_EDITION, project, output_root=output)

    assert str(raised.value).splitlines()[:2] == [
        "weasyprint не установлен; сборка проверена с weasyprint >=70.0,<70.1.",
        "установлен pydyf 0.14.0, а сборка проверена только с pydyf >=0.13,<0.14.",
    ]
    assert not output.exists()


def test_the_installed_releases_pass() -> None:
    check_versions()


@pytest.mark.parametrize("release", ["69.0", "70.0", "70.0.0", "70.0.1", "70.0.post1", "70.0+debian1", "70.1",
                                     "70.0rc1", "70.1rc1", "70.0.dev3", "71.0", "0.12.1", "0.13", "0.13.0",
                                     "0.13.2", "0.14.0", "0.13.0b2", "70", "seventy"])
@pytest.mark.parametrize("name", sorted(TESTED))
def test_a_release_passes_as_pip_reads_the_pin(name: str, release: str) -> None:
    low, high = TESTED[name]
    pin = SpecifierSet(f">={low},<{high}")
    as_pip_reads_it = re.fullmatch(r"[\d.]+.*", release) is not None and pin.contains(release, prereleases=False)
    assert versions._within(release, low, high) == as_pip_reads_it


@pytest.mark.parametrize("name", sorted(TESTED))
def test_pyproject_and_the_lock_pin_the_tested_releases(name: str) -> None:
    low, high = TESTED[name]
    assert DECLARED[name].specifier == SpecifierSet(f">={low},<{high}")
    locked = dict(line.split("==") for line in (ROOT / "requirements.lock").read_text().splitlines()
                  if "==" in line and not line.startswith("#"))
    assert versions._within({canonicalize_name(n): v for n, v in locked.items()}[name], low, high)


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """The top-level modules that code under ``folder`` imports, other than its own and the standard library's,
    each with the files that import it."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top != folder.name:
                    found.setdefault(top, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_library_the_code_imports_is_declared() -> None:
    distributions = packages_distributions()
    imported = imported_modules(ROOT / "src" / "compendium")
    assert {"weasyprint", "pydyf", "pikepdf"} <= imported.keys()  # the walk sees the imports

    undeclared = {module: sorted(files) for module, files in imported.items()
                  if not {canonicalize_name(name) for name in distributions.get(module, [module])} & DECLARED.keys()}

    assert undeclared == {}, "imported under src/ but not in pyproject's [project.dependencies]"
