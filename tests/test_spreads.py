"""A practice is exactly two facing pages: text that does not fit is a located error, never a third page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from compendium.cli import main
from compendium.errors import SourceProblems
from compendium.paths import ProjectPaths
from compendium.pipeline import build

PRACTICE = Path("practices") / "anuchinsky-beekeeping.yaml"
LONG_PARAGRAPH = "Объединение пчеловодов соседних муниципалитетов в единое сообщество. " * 40


def lengthen(edition: Path, field: str, extra: str) -> int:
    """Appends a paragraph to a block-scalar field; returns the line of the field's key."""
    path = edition / PRACTICE
    lines = path.read_text(encoding="utf-8").splitlines()
    key_index = next(i for i, line in enumerate(lines) if line.startswith(f"{field}:"))
    end = key_index + 1
    while end < len(lines) and (lines[end].startswith("  ") or not lines[end].strip()):
        end += 1
    while not lines[end - 1].strip():
        end -= 1
    lines[end:end] = ["", f"  {extra}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return key_index + 1


def problems_of(edition: Path, project: ProjectPaths, output: Path) -> list:
    with pytest.raises(SourceProblems) as raised:
        build(edition, project, output_root=output)
    return raised.value.problems


def test_too_long_content_names_the_field_on_the_left_page(edition_copy, project, tmp_path):
    line = lengthen(edition_copy, "content", LONG_PARAGRAPH)
    [problem] = problems_of(edition_copy, project, tmp_path / "out")
    assert problem.file.name == PRACTICE.name
    assert (problem.line, problem.field) == (line, "content")
    assert "does not fit on the left page" in problem.message
    assert re.search(r"the page is \d+ mm \(about \d+ lines\) too long", problem.message)


def test_too_long_actions_names_a_field_on_the_right_page(edition_copy, project, tmp_path):
    lengthen(edition_copy, "actions", LONG_PARAGRAPH * 2)  # long enough to cross the page foot itself
    [problem] = problems_of(edition_copy, project, tmp_path / "out")
    assert problem.field == "actions"
    assert "does not fit on the right page" in problem.message


def test_failed_build_leaves_previous_outputs_untouched(edition_copy, project, tmp_path):
    output = tmp_path / "out"
    previous = output / edition_copy.name / f"compendium-{edition_copy.name}.pdf"
    previous.parent.mkdir(parents=True)
    previous.write_bytes(b"%PDF- the previous good build")
    lengthen(edition_copy, "content", LONG_PARAGRAPH)
    problems_of(edition_copy, project, output)
    assert previous.read_bytes() == b"%PDF- the previous good build"
    assert sorted(p.name for p in previous.parent.iterdir()) == [previous.name]


def test_cli_reports_overflow_without_traceback(edition_copy):
    lengthen(edition_copy, "prerequisites", LONG_PARAGRAPH)
    result = CliRunner().invoke(main, ["build", str(edition_copy)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "anuchinsky-beekeeping.yaml:" in result.output
    assert "nothing was written" in result.output
