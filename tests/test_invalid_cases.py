"""`compendium validate` against a corpus of broken editions, and against the valid one.

Each folder in ``tests/cases/invalid/`` is one bad input: its files overlay a fresh copy of
``sources/2022-2023/`` (same relative paths; an overlay file replaces the original, and pictures are
added; tests/cases/tools/make_picture_cases.py makes those cases), ``remove.txt``
lists files to delete from the copy, and ``expected.txt`` holds one line per message the command
must print (file relative to the edition folder, line, field path, and the words that matter).
A case with ``xfail.txt`` documents a message that is wrong today; the file says why.

The CLI runs in-process through click's CliRunner, so a traceback would show as an exception.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from compendium.cli import EXIT_PROBLEMS, main
from compendium.errors import display_path

ROOT = Path(__file__).resolve().parents[1]
EDITION = ROOT / "sources" / "2022-2023"
CASES = Path(__file__).resolve().parent / "cases" / "invalid"
CONTROL_FILES = {"expected.txt", "remove.txt", "xfail.txt"}

# "file:line: ..." or "file: ..." (line 0: the whole file), as errors.Problem prints them
_PROBLEM_LINE = re.compile(r"^(?P<file>[^:\s][^:]*?)(?::(?P<line>\d+))?: ")


@dataclass(frozen=True)
class Outcome:
    """What `compendium validate` did with one edition folder."""

    exit_code: int
    stderr: str
    """Error output with the edition folder's prefix removed, so paths read ``practices/x.yaml``."""
    output: str
    """Everything printed (stdout and stderr), prefix removed as well."""
    result: Result


def copy_edition(target: Path) -> Path:
    """A fresh, writable copy of the default edition at ``target``."""
    shutil.copytree(EDITION, target)
    return target


def apply_case(case: Path, edition: Path) -> None:
    """Overlays the case's files on ``edition`` and deletes what its remove.txt lists."""
    for source in sorted(case.rglob("*")):
        relative = source.relative_to(case)
        if source.is_dir() or relative.as_posix() in CONTROL_FILES:
            continue
        destination = edition / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    remove = case / "remove.txt"
    if remove.exists():
        for line in remove.read_text(encoding="utf-8").splitlines():
            if line.strip():
                (edition / line.strip()).unlink()


def run_validate(edition: Path) -> Outcome:
    """Runs ``compendium validate <edition>`` in-process and strips the folder prefix from its output."""
    result = CliRunner().invoke(main, ["validate", str(edition)])
    try:
        stderr = result.stderr
    except ValueError:  # click < 8.2 mixes stderr into output unless asked not to
        stderr = result.output
    prefixes = {f"{edition}/", f"{edition.resolve()}/", f"{display_path(edition)}/"}

    def strip(text: str) -> str:
        for prefix in sorted(prefixes, key=len, reverse=True):
            text = text.replace(prefix, "")
        return text

    return Outcome(result.exit_code, strip(stderr), strip(result.output), result)


def read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def problem_order(stderr: str) -> list[tuple[tuple[str, ...], int]]:
    """(file parts, line) of each printed problem, in printed order."""
    order = []
    for line in stderr.splitlines():
        match = _PROBLEM_LINE.match(line)
        if match and not line.endswith("nothing was written."):
            order.append((Path(match["file"]).parts, int(match["line"] or 0)))
    return order


def _case_params() -> list[object]:
    params = []
    for case in sorted(path for path in CASES.iterdir() if path.is_dir()):
        marks = []
        if (case / "xfail.txt").exists():
            reason = (case / "xfail.txt").read_text(encoding="utf-8").strip()
            marks.append(pytest.mark.xfail(reason=reason, strict=True))
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def test_the_corpus_is_well_formed() -> None:
    cases = [path for path in CASES.iterdir() if path.is_dir()]
    assert len(cases) >= 40
    for case in cases:
        assert read_lines(case / "expected.txt"), f"{case.name}: expected.txt is empty"
        overlays = [p for p in case.rglob("*") if p.is_file() and p.name not in CONTROL_FILES]
        assert overlays or (case / "remove.txt").exists(), f"{case.name} changes nothing"
        for overlay in overlays:
            relative = overlay.relative_to(case)
            # a record overlays its original; pictures are new files the overlaid records name
            is_new_picture = relative.suffix != ".yaml"
            assert is_new_picture or (EDITION / relative).exists(), f"{case.name}: {relative} overlays no source file"


def test_default_edition_validates() -> None:
    outcome = run_validate(EDITION)
    assert outcome.exit_code == 0, outcome.output
    assert "no problems" in outcome.output
    assert "Traceback" not in outcome.output


def test_copied_edition_validates(tmp_path: Path) -> None:
    """The copy the cases start from is itself valid, so every problem comes from the overlay."""
    outcome = run_validate(copy_edition(tmp_path / "2022-2023"))
    assert outcome.exit_code == 0, outcome.output


@pytest.mark.parametrize("case", _case_params())
def test_invalid_case(case: Path, tmp_path: Path) -> None:
    edition = copy_edition(tmp_path / "2022-2023")
    apply_case(case, edition)

    outcome = run_validate(edition)

    assert "Traceback" not in outcome.output
    assert outcome.result.exception is None or isinstance(outcome.result.exception, SystemExit), (
        f"unexpected {outcome.result.exception!r}"
    )
    assert outcome.exit_code == EXIT_PROBLEMS, outcome.output
    missing = [line for line in read_lines(case / "expected.txt") if line not in outcome.stderr]
    assert not missing, "missing from stderr:\n" + "\n".join(missing) + "\n--- stderr:\n" + outcome.stderr
    order = problem_order(outcome.stderr)
    assert order, outcome.stderr
    assert order == sorted(order), "problems are not sorted by file and line:\n" + outcome.stderr
    assert re.search(r"^\d+ problems? found; nothing was written\.$", outcome.stderr, re.MULTILINE)


VALID_VARIANTS = {
    # a heading-like line is not markup in a record: it stays literal text
    "heading-stays-literal": (
        "practices/anuchinsky-beekeeping.yaml",
        "content: |\n  Объединение",
        "content: |\n  # Объединение пчеловодов\n\n  Объединение",
    ),
    "html-stays-literal": (
        "practices/anuchinsky-beekeeping.yaml",
        "  - Участие в съездах пчеловодов РФ",
        "  - Участие в <b>съездах</b> пчеловодов РФ <script>alert(1)</script>",
    ),
    "escaped-asterisk": (
        "practices/anuchinsky-beekeeping.yaml",
        "  - Участие в съездах пчеловодов РФ",
        "  - Участие в съездах пчеловодов РФ\\*",
    ),
    "unquoted-number-figure": (
        "practices/anuchinsky-beekeeping.yaml", "  - figure: '240'", "  - figure: 240",
    ),
    "document-start-marker": ("geography.yaml", "title: География", "---\ntitle: География"),
    "byte-order-mark": ("rules.yaml", "# yaml-language-server", "\ufeff# yaml-language-server"),
    "leader-place": ("practices/anuchinsky-beekeeping.yaml", "  place: 1\n", "  place: leader\n"),
}


@pytest.mark.parametrize(("relative", "old", "new"), VALID_VARIANTS.values(), ids=VALID_VARIANTS.keys())
def test_valid_variant(relative: str, old: str, new: str, tmp_path: Path) -> None:
    edition = copy_edition(tmp_path / "2022-2023")
    path = edition / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")

    outcome = run_validate(edition)

    assert outcome.exit_code == 0, outcome.output
    assert "Traceback" not in outcome.output


def test_crlf_line_endings_keep_line_numbers(tmp_path: Path) -> None:
    edition = copy_edition(tmp_path / "2022-2023")
    path = edition / "practices" / "anuchinsky-beekeeping.yaml"
    text = path.read_text(encoding="utf-8").replace("  place: 1\n", "  place: 4\n")
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))

    outcome = run_validate(edition)

    assert outcome.exit_code == EXIT_PROBLEMS
    assert "practices/anuchinsky-beekeeping.yaml:6: award.place: expected one of" in outcome.stderr
