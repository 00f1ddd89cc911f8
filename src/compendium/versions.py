"""The versions of the libraries whose output the books are made of, and the check that those are installed.

The merger (`assemble_pdf`) joins the PDFs that WeasyPrint writes through pydyf by relying on how they are
written: a font subset keeps the font's glyph ids, links go to named destinations, the tag tree and the
resources have a known shape. A release that writes them otherwise still writes valid PDF, so the merger
would not fail but make a wrong book. A build therefore starts only with the releases it is tested with,
and says which to install otherwise.

WeasyPrint numbers its releases major.fix (62.0, 62.1, 62.2, …), and a fix release may change what it
writes as much as a major one: its tested range is the one release. pydyf numbers them major.minor.patch,
and its range takes a patch release.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version

from .errors import CompendiumError

TESTED: dict[str, tuple[str, str]] = {
    "weasyprint": ("70.0", "70.1"),
    "pydyf": ("0.13", "0.14"),
}
"""Each library's lowest tested release and the first one past it, as [project.dependencies] in pyproject.toml
pins them (>=low,<high): change both together, then requirements.lock (tests/test_versions.py holds them
together)."""

# A final release, possibly a post-release or a local build of one; pre-releases and development builds
# (70.1rc1, 70.0.dev3) are not what was tested.
_FINAL_RELEASE = re.compile(r"(\d+(?:\.\d+)*)(?:\.post\d+)?(?:\+[\w.]+)?")


class UnsupportedVersion(CompendiumError):
    """A library installed at a release the books are not tested with."""


def check_versions() -> None:
    """Fails, before anything is laid out, when a library the books depend on byte by byte is installed at
    a release outside its tested range. Reads only the installed packages' metadata: nothing is imported."""
    problems = [problem for name, (low, high) in TESTED.items()
                if (problem := _version_problem(name, _installed(name), low, high))]
    if problems:
        raise UnsupportedVersion("\n".join([
            *problems,
            "Другая версия может собрать книгу неверно, не сообщив об ошибке. Установите проверенные версии: "
            "bash scripts/bootstrap.sh (или .venv/bin/pip install -c requirements.lock -e .)"]))


def _installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _version_problem(name: str, installed: str | None, low: str, high: str) -> str | None:
    tested = f">={low},<{high}"
    if installed is None:
        return f"{name} не установлен; сборка проверена с {name} {tested}."
    if not _within(installed, low, high):
        return f"установлен {name} {installed}, а сборка проверена только с {name} {tested}."
    return None


def _within(installed: str, low: str, high: str) -> bool:
    final = _FINAL_RELEASE.fullmatch(installed)
    return final is not None and _release(low) <= _release(final.group(1)) < _release(high)


def _release(text: str) -> tuple[int, ...]:
    numbers = tuple(int(part) for part in text.split("."))
    return numbers + (0,) * (4 - len(numbers))  # 70.0 and 70.0.0 are one release
