"""Before an import writes anything it checks the draft: another edition's draft, a field cut by more than
half, a paragraph moved out of its field are each refused, and --force lets each through, saying so."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from compendium.cli import main
from compendium.errors import CompendiumError
from compendium.import_docx import read_draft
from compendium.import_safety import refuse_another_edition
from compendium.pipeline import load_collection

from .conftest import DEFAULT_EDITION
from .test_docx_round_trip import PRACTICE, Draft, draft_path, export_draft, fields, snapshot

__all__ = ["draft_path", "fields"]  # fixtures shared with the round-trip tests

FOREIGN_TITLE = "Лучшие практики — пробный выпуск"


def field_paragraphs(draft: Draft, field) -> list[Paragraph]:
    """The paragraphs a field of several paragraphs shows in the draft, its anchored first one first."""
    paragraphs = [draft.field_paragraph(field.key)]
    while len(paragraphs) < len(field.shown):
        paragraphs.append(draft.next_paragraph(paragraphs[-1]))
    return paragraphs


def move_anchor(start: Paragraph, to: Paragraph) -> None:
    """The field's bookmark moved from its first paragraph to ``to``, as LibreOffice's second save leaves it."""
    for mark in start._p.findall(qn("w:bookmarkStart")):
        if mark.get(qn("w:name"), "").startswith("cf_"):
            to._p.insert(0, mark)


def import_docx(draft: Path, edition: Path, *options: str):
    return CliRunner().invoke(main, ["import-docx", str(draft), "--edition", str(edition), *options])


@pytest.fixture
def foreign_draft(project, tmp_path) -> Path:
    """The draft of another edition: the default one copied to another folder under another title."""
    other = tmp_path / "other" / "2022-2023-trial"
    shutil.copytree(DEFAULT_EDITION, other)
    edition_file = other / "edition.yaml"
    edition_file.write_text(edition_file.read_text().replace(
        "title: Лучшие практики межмуниципального взаимодействия", f"title: {FOREIGN_TITLE}", 1))
    return export_draft(other, project, tmp_path / "foreign.docx")


def test_a_draft_of_another_edition_is_refused_naming_both(edition_copy, foreign_draft):
    before = snapshot(edition_copy)
    result = import_docx(foreign_draft, edition_copy, "--dry-run")
    assert result.exit_code == 2, result.output
    assert "черновик сделан из другого издания" in result.output
    assert f"«{FOREIGN_TITLE}», 2022–2023 гг. (папка 2022-2023-trial)" in result.output
    assert "«Лучшие практики межмуниципального взаимодействия», 2022–2023 гг. (папка 2022-2023)" in result.output
    assert "2022-2023/edition.yaml" in result.output and "--force" in result.output
    assert "note:" not in result.output  # refused before the fields are compared
    assert snapshot(edition_copy) == before


def test_a_draft_of_another_edition_is_taken_with_force_and_says_so(edition_copy, foreign_draft, fields):
    draft = Draft(foreign_draft)
    draft.set_text(draft.field_paragraph(fields[f"{PRACTICE}: title"].key), "Пчеловодство без границ")
    draft.save()
    result = import_docx(foreign_draft, edition_copy, "--force")
    assert result.exit_code == 0, result.output
    assert (f"note: черновик сделан из издания «{FOREIGN_TITLE}», 2022–2023 гг. (папка 2022-2023-trial), но "
            "импортирован в «Лучшие практики межмуниципального взаимодействия», 2022–2023 гг. (папка 2022-2023), "
            "как велит --force") in result.output
    assert "1 fields updated in 1 files" in result.output
    assert "title: Пчеловодство без границ" in (edition_copy / PRACTICE).read_text()


def test_a_draft_of_other_years_is_another_edition(edition_copy, project, draft_path):
    collection = load_collection(edition_copy, project)
    draft = read_draft(draft_path)
    assert draft.years == "2022 2023"
    assert refuse_another_edition(draft, draft_path, collection, force=False) is None
    with pytest.raises(CompendiumError, match=r"другого издания — «.+», 2019–2020 гг\. \(папка 2022-2023\)"):
        refuse_another_edition(replace(draft, years="2019 2020"), draft_path, collection, force=False)


def test_a_field_cut_to_its_last_paragraph_is_refused_at_its_line(edition_copy, draft_path, fields):
    preface = fields["edition.yaml: preface"]
    draft = Draft(draft_path)
    *cut, last = field_paragraphs(draft, preface)
    move_anchor(cut[0], last)
    for paragraph in cut:
        paragraph._p.getparent().remove(paragraph._p)
    draft.save()
    before = snapshot(edition_copy)

    result = import_docx(draft_path, edition_copy, "--dry-run")
    assert result.exit_code == 2, result.output
    assert ("2022-2023/edition.yaml:18: preface: в черновике поле короче записи больше чем вдвое (374 → 130 знаков "
            "без пробелов, абзацев 2 → 1); если так и задумано, импортируйте с --force") in result.output
    assert "would change" not in result.output
    assert snapshot(edition_copy) == before


def test_a_paragraph_moved_to_another_field_is_refused(edition_copy, draft_path, fields):
    prerequisites, actions = fields[f"{PRACTICE}: prerequisites"], fields[f"{PRACTICE}: actions"]
    draft = Draft(draft_path)
    moved = field_paragraphs(draft, prerequisites)[1]
    field_paragraphs(draft, actions)[-1]._p.addnext(moved._p)
    draft.save()
    before = snapshot(edition_copy)

    result = import_docx(draft_path, edition_copy)
    assert result.exit_code == 2, result.output
    [problem] = [line for line in result.output.splitlines() if "пропал из поля" in line]
    assert re.search(rf"/{PRACTICE}:\d+: prerequisites: абзац «", problem), problem
    assert f"есть в черновике в поле {PRACTICE}: actions" in problem and "--force" in problem
    assert snapshot(edition_copy) == before


def test_force_lets_a_cut_and_a_move_through_and_says_what_it_overrode(edition_copy, draft_path, fields):
    draft = Draft(draft_path)
    *cut, last = field_paragraphs(draft, fields["edition.yaml: preface"])
    move_anchor(cut[0], last)
    for paragraph in cut:
        paragraph._p.getparent().remove(paragraph._p)
    moved = field_paragraphs(draft, fields[f"{PRACTICE}: prerequisites"])[1]
    field_paragraphs(draft, fields[f"{PRACTICE}: actions"])[-1]._p.addnext(moved._p)
    draft.save()

    result = import_docx(draft_path, edition_copy, "--force")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if "как велит --force" in line]
    assert len(notes) == 2, result.output
    assert notes[0].startswith("note: edition.yaml: preface: в черновике поле короче записи больше чем вдвое")
    assert notes[1].startswith(f"note: {PRACTICE}: prerequisites: абзац «")
    assert "3 fields updated in 2 files" in result.output
    preface = (edition_copy / "edition.yaml").read_text().split("preface: |")[1].split("about:")[0]
    assert "В данном сборнике" not in preface and "Сборник подготовлен в целях" in preface


def test_a_one_word_edit_of_a_long_field_passes_untouched(edition_copy, project, draft_path, fields):
    # the checks must not stand in an ordinary edit's way: this passes on the code before them too
    draft = Draft(draft_path)
    [run] = [run for run in draft.field_paragraph(fields["edition.yaml: preface"].key).runs
             if "данном" in run.text]
    run.text = run.text.replace("данном", "этом", 1)  # the bold further on stays bold
    draft.save()
    result = import_docx(draft_path, edition_copy)
    assert result.exit_code == 0, result.output
    assert "note:" not in result.output and "1 fields updated in 1 files" in result.output
    assert "В этом сборнике лучших" in (edition_copy / "edition.yaml").read_text()


def test_force_over_a_conflict_says_so(edition_copy, draft_path, fields):
    practice_file = edition_copy / PRACTICE
    practice_file.write_text(practice_file.read_text().replace("  noun: муниципальных образования",
                                                               "  noun: муниципальных округа"))
    draft = Draft(draft_path)
    draft.set_text(draft.field_paragraph(fields[f"{PRACTICE}: participants.noun"].key), "муниципалитета")
    draft.save()
    result = import_docx(draft_path, edition_copy, "--force")
    assert result.exit_code == 0, result.output
    assert (f"note: {PRACTICE}: participants.noun: изменено и в записях, и в черновике; взят текст черновика, "
            "как велит --force") in result.output
