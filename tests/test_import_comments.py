"""Reviewers' comments in the Word draft come back as notes, each at its field's file:line, and never as edits."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from compendium.cli import main
from compendium.draft_fields import draft_fields
from compendium.pipeline import load_collection

from .test_docx_round_trip import PRACTICE, Draft, export_draft, snapshot

W15_NAMESPACE = "http://schemas.microsoft.com/office/word/2012/wordml"
W14_PARA_ID = "{http://schemas.microsoft.com/office/word/2010/wordml}paraId"
COMMENTS_EXTENDED = "http://schemas.microsoft.com/office/2011/relationships/commentsExtended"
COMMENTS_EXTENDED_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.commentsExtended+xml"


def line_of(edition: Path, key: str) -> int:
    """The line of a key (the first one so written) in the practice's record, as a reader counts."""
    lines = (edition / PRACTICE).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.startswith(f"{key}:"))


def generated_paragraph(draft: Draft, text: str) -> Paragraph:
    """The first paragraph the build generated (a heading) with this text."""
    for mark in draft.document.element.body.iter(qn("w:bookmarkStart")):
        paragraph = Paragraph(next(mark.iterancestors(qn("w:p"))), draft.document._body)
        if mark.get(qn("w:name"), "").startswith("cx_") and paragraph.text == text:
            return paragraph
    raise KeyError(text)


def add_reply(draft: Draft, parent, reply) -> None:
    """Threads ``reply`` under ``parent`` as Word does: by their last paragraphs' ids, in commentsExtended."""
    parent.paragraphs[-1]._p.set(W14_PARA_ID, "1A2B3C4D")
    reply.paragraphs[-1]._p.set(W14_PARA_ID, "5E6F7A8B")
    blob = (f'<w15:commentsEx xmlns:w15="{W15_NAMESPACE}"><w15:commentEx w15:paraId="1A2B3C4D" w15:done="0"/>'
            '<w15:commentEx w15:paraId="5E6F7A8B" w15:paraIdParent="1A2B3C4D" w15:done="0"/></w15:commentsEx>')
    package = draft.document.part.package
    part = Part(PackURI("/word/commentsExtended.xml"), COMMENTS_EXTENDED_TYPE, blob.encode(), package)
    draft.document.part.relate_to(part, COMMENTS_EXTENDED)


@pytest.fixture
def fields(edition_copy, project):
    return {field.name: field for field in draft_fields(load_collection(edition_copy, project)).values()}


@pytest.fixture
def commented(edition_copy, project, tmp_path, fields) -> Path:
    """A draft with comments: in a field, on a generated heading, in a list's third item, across two fields,
    and one answered."""
    draft = Draft(export_draft(edition_copy, project, tmp_path / "draft.docx"))
    document = draft.document
    content = draft.field_paragraph(fields[f"{PRACTICE}: content"].key)
    parent = document.add_comment(content.runs, "Проверьте название организации", "Иванова И. И.", "ИИ")
    reply = document.add_comment(content.runs, "Название верное, см. устав", "Петров П. П.", "ПП")
    add_reply(draft, parent, reply)
    heading = generated_paragraph(draft, "Предпосылки реализации практики")
    document.add_comment(heading.runs, "Заголовок бы короче", "Сидоров С. С.", "СС")
    third = draft.next_paragraph(draft.next_paragraph(draft.field_paragraph(fields[f"{PRACTICE}: prerequisites"].key)))
    document.add_comment(third.runs, "Уточнить", "Козлова К. К.", "КК")
    count = draft.field_paragraph(fields[f"{PRACTICE}: participants.count"].key)
    noun = draft.field_paragraph(fields[f"{PRACTICE}: participants.noun"].key)
    document.add_comment([count.runs[0], noun.runs[-1]], "Их четыре:\nдобавьте Яковлевский МО", "Иванова И. И.")
    return draft.save()


@pytest.fixture
def expected(edition_copy) -> list[str]:
    content, prerequisites = line_of(edition_copy, "content"), line_of(edition_copy, "prerequisites")
    return [
        f"note: комментарий Иванова И. И. к {PRACTICE}:{content} (content) «Объединение пчеловодов Анучинского МО "
        "и соседних муниципали…»: Проверьте название организации",
        f"note: ответ Петров П. П. на комментарий Иванова И. И. к {PRACTICE}:{content} (content) «Объединение "
        "пчеловодов Анучинского МО и соседних муниципали…»: Название верное, см. устав",
        f"note: комментарий Сидоров С. С. к тексту вне полей: «Предпосылки реализации практики», после поля "
        f"{PRACTICE}:{content} (content) «Предпосылки реализации практики»: Заголовок бы короче",
        f"note: комментарий Козлова К. К. к {PRACTICE}:{prerequisites} (prerequisites) «Вопросы по организации "
        "сбыта продукции пчеловодства, в т.ч.…»: Уточнить",
        f"note: комментарий Иванова И. И. к {PRACTICE}:{line_of(edition_copy, '  count')} (participants.count) "
        "«3 / муниципальных образования»: Их четыре: / добавьте Яковлевский МО",
    ]


def import_notes(draft: Path, edition: Path, *options: str) -> tuple[list[str], str]:
    result = CliRunner().invoke(main, ["import-docx", str(draft), "--edition", str(edition), "--dry-run", *options])
    assert result.exit_code == 0, result.output
    return [line for line in result.stderr.splitlines() if line.startswith("note: ")], result.stdout


def test_each_comment_is_a_note_at_its_fields_file_and_line(commented, edition_copy, expected):
    before = snapshot(edition_copy)
    notes, output = import_notes(commented, edition_copy)
    assert notes == expected
    assert output.splitlines()[-1] == ("no changes: the records already say what the draft says; "
                                       "в черновике 5 комментариев (они выше)")
    assert snapshot(edition_copy) == before


def test_comments_are_written_out_for_the_organisers(commented, edition_copy, tmp_path):
    target = tmp_path / "comments.md"
    _, output = import_notes(commented, edition_copy, "--comments", str(target))
    assert f"комментарии для организаторов (5) записаны в {target}" in output
    text = target.read_text(encoding="utf-8")
    assert text.count(f"## {PRACTICE}") == 1
    content, prerequisites = line_of(edition_copy, "content"), line_of(edition_copy, "prerequisites")
    for author, place, said in [
        ("Иванова И. И.", f"{PRACTICE}:{content} (content)", "Проверьте название организации"),
        ("Петров П. П.", f"{PRACTICE}:{content} (content)", "Название верное, см. устав"),
        ("Сидоров С. С.", f"после поля {PRACTICE}:{content} (content)", "Заголовок бы короче"),
        ("Козлова К. К.", f"{PRACTICE}:{prerequisites} (prerequisites)", "Уточнить"),
        ("Иванова И. И.", f"{PRACTICE}:{line_of(edition_copy, '  count')} (participants.count)",
         "  > 3 / муниципальных образования\n\n  Их четыре:\n  добавьте Яковлевский МО"),
    ]:
        entry = next(block for block in text.split("\n- ") if f"**{author}**" in block and said in block)
        assert place in entry.splitlines()[0]
    assert "ответ на комментарий Иванова И. И." in text
    assert len([line for line in text.splitlines() if line.startswith("- **")]) == 5


def test_a_draft_without_comments_writes_an_empty_list(edition_copy, project, tmp_path):
    draft = export_draft(edition_copy, project, tmp_path / "draft.docx")
    target = tmp_path / "comments.md"
    notes, output = import_notes(draft, edition_copy, "--comments", str(target))
    assert not notes and output.splitlines()[-1] == "no changes: the records already say what the draft says"
    assert "Комментариев в черновике нет." in target.read_text(encoding="utf-8")


def test_comments_survive_a_libreoffice_save(commented, edition_copy, expected, libreoffice, tmp_path):
    resaved = libreoffice.convert(commented, "docx", tmp_path / "resaved")
    notes, _ = import_notes(resaved, edition_copy)
    # LibreOffice 7.4 writes no commentsExtended part: the answer stays, as a comment of its own
    assert notes == [expected[0], expected[1].replace("ответ Петров П. П. на комментарий Иванова И. И.",
                                                      "комментарий Петров П. П."), *expected[2:]]
