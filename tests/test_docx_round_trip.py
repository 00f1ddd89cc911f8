"""Staff edits in the Word draft come back into the records field by field, and nothing else changes."""

from __future__ import annotations

import copy
import difflib
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from compendium.cli import main
from compendium.draft_fields import FIELD_PREFIX, Shown, draft_fields, sources_digest
from compendium.errors import SourceProblems
from compendium.markdown_write import merge_prose, to_markdown
from compendium.pipeline import build_date, import_draft, load_collection, write_sources
from compendium.prose import parse_prose
from compendium.render_docx import render_docx
from compendium.source_edit import edit_yaml

from .conftest import DEFAULT_EDITION

PRACTICE = "practices/anuchinsky-beekeeping.yaml"


def export_draft(edition: Path, project, target: Path) -> Path:
    """The Word draft of an edition, as `compendium build` writes it (a small map keeps this quick)."""
    from compendium.geography_map import draw_geography_map

    collection = load_collection(edition, project)
    data = render_docx(collection, project, {}, lambda width: draw_geography_map(collection, project, width)
                       .png(project.fonts, 30), sources_digest(edition), build_date(collection.edition))
    target.write_bytes(data)
    return target


def snapshot(edition: Path) -> dict[str, bytes]:
    return {path.relative_to(edition).as_posix(): path.read_bytes() for path in sorted(edition.rglob("*.yaml"))}


class Draft:
    """A draft opened with python-docx, edited the way a person would in Word."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.document = docx.Document(str(path))

    def field_paragraph(self, key: str) -> Paragraph:
        for mark in self.document.element.body.iter(qn("w:bookmarkStart")):
            if mark.get(qn("w:name"), "").startswith(FIELD_PREFIX + key):
                return Paragraph(next(mark.iterancestors(qn("w:p"))), self.document._body)
        raise KeyError(key)

    def next_paragraph(self, paragraph: Paragraph) -> Paragraph:
        return Paragraph(paragraph._p.getnext(), self.document._body)

    def set_text(self, paragraph: Paragraph, text: str) -> None:
        runs = paragraph.runs
        runs[0].text = text
        runs[0].style = None
        for run in runs[1:]:
            run._r.getparent().remove(run._r)

    def add_after(self, paragraph: Paragraph, text: str) -> Paragraph:
        """A new paragraph like ``paragraph`` (same list and style), as pressing Enter at its end makes."""
        new = copy.deepcopy(paragraph._p)
        for mark in new.findall(qn("w:bookmarkStart")) + new.findall(qn("w:bookmarkEnd")):
            new.remove(mark)
        paragraph._p.addnext(new)
        added = Paragraph(new, self.document._body)
        self.set_text(added, text)
        return added

    def save(self, path: Path | None = None) -> Path:
        self.document.save(str(path or self.path))
        return path or self.path


@pytest.fixture
def fields(edition_copy, project):
    collection = load_collection(edition_copy, project)
    return {field.name: field for field in draft_fields(collection).values()}


@pytest.fixture
def draft_path(edition_copy, project, tmp_path) -> Path:
    return export_draft(edition_copy, project, tmp_path / "draft.docx")


def changed_lines(before: dict[str, bytes], after: dict[str, bytes]) -> dict[str, list[str]]:
    """Per file, the lines a unified diff removes (-) and adds (+)."""
    changes = {}
    for name in before:
        old, new = before[name].decode().splitlines(), after[name].decode().splitlines()
        lines = [line for line in difflib.unified_diff(old, new, lineterm="", n=0)
                 if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        if lines:
            changes[name] = lines
    return changes


def test_three_edited_fields_change_exactly_those_lines(edition_copy, project, draft_path, fields):
    before = snapshot(edition_copy)
    draft = Draft(draft_path)
    draft.set_text(draft.field_paragraph(fields[f"{PRACTICE}: title"].key), "Пчеловодство без границ")
    draft.set_text(draft.field_paragraph(fields[f"{PRACTICE}: results[0].figure"].key), "250")
    last_prerequisite = draft.field_paragraph(fields[f"{PRACTICE}: prerequisites"].key)
    for _ in range(3):  # the field's fourth and last item
        last_prerequisite = draft.next_paragraph(last_prerequisite)
    draft.add_after(last_prerequisite, "Рост интереса к «зелёному» туризму")
    draft.save()

    result = import_draft(draft_path, project, edition_copy, force=False)
    assert [change.field.name for change in result.plan.changes] == [
        f"{PRACTICE}: title", f"{PRACTICE}: prerequisites", f"{PRACTICE}: results[0].figure"]
    assert not result.plan.notes and not result.plan.conflicts
    write_sources(result.edits)

    assert changed_lines(before, snapshot(edition_copy)) == {PRACTICE: [
        "-title: Межмуниципальный подход по вопросу развития пчеловодства на территории Анучинского "
        "муниципального округа и Приморского края",
        "+title: Пчеловодство без границ",
        "+  - Рост интереса к «зелёному» туризму",
        "-  - figure: '240'",
        "+  - figure: '250'",
    ]}
    collection = load_collection(edition_copy, project)  # still a valid edition
    practice = next(p for p in collection.practices if p.id == "anuchinsky-beekeeping")
    assert practice.title == "Пчеловодство без границ"


def test_an_unedited_draft_imports_nothing(edition_copy, project, draft_path):
    before = snapshot(edition_copy)
    result = import_draft(draft_path, project, edition_copy, force=False)
    assert not result.plan.changes and not result.plan.notes and not result.edits
    assert not result.plan.sources_changed
    assert snapshot(edition_copy) == before


def test_a_libreoffice_resave_imports_nothing(edition_copy, project, draft_path, libreoffice, tmp_path):
    before = snapshot(edition_copy)
    resaved = libreoffice.convert(draft_path, "docx", tmp_path / "resaved")
    result = import_draft(resaved, project, edition_copy, force=False)
    assert not result.plan.changes, [change.field.name for change in result.plan.changes]
    assert not result.plan.notes and not result.plan.problems and not result.plan.conflicts
    assert snapshot(edition_copy) == before


def test_an_edit_after_a_libreoffice_resave_arrives(edition_copy, project, draft_path, fields, libreoffice, tmp_path):
    resaved = libreoffice.convert(draft_path, "docx", tmp_path / "resaved")
    draft = Draft(resaved)
    caption = draft.field_paragraph(fields[f"{PRACTICE}: results[1].caption"].key)
    draft.set_text(caption, "агроклассов открыто в школах округа")
    content = draft.field_paragraph(fields[f"{PRACTICE}: content"].key)
    draft.set_text(content, "Объединение пчеловодов трёх муниципалитетов в одно сообщество")
    draft.save()
    before = snapshot(edition_copy)
    write_sources(import_draft(resaved, project, edition_copy, force=False).edits)
    assert changed_lines(before, snapshot(edition_copy))[PRACTICE] == [
        "-  Объединение пчеловодов Анучинского МО и соседних муниципалитетов: г. Арсеньев и Яковлевский МО в "
        "единое сообщество - Анучинская районная общественная организация пчеловодов «Возрождение» (далее — "
        "АРООП «Возрождение»)",
        "+  Объединение пчеловодов трёх муниципалитетов в одно сообщество",
        "-    caption: агроклассы созданы в школах по направлению «Пчеловодство-Юный пчеловод»",
        "+    caption: агроклассов открыто в школах округа",
    ]


def test_a_field_changed_on_both_sides_is_a_conflict(edition_copy, project, draft_path, fields):
    practice_file = edition_copy / PRACTICE
    text = practice_file.read_text()
    practice_file.write_text(text.replace("  noun: муниципальных образования", "  noun: муниципальных округа"))
    draft = Draft(draft_path)
    draft.set_text(draft.field_paragraph(fields[f"{PRACTICE}: participants.noun"].key), "муниципалитета")
    draft.set_text(draft.field_paragraph(fields[f"{PRACTICE}: region"].key), "Приморский край")  # unchanged text
    draft.save()
    before = snapshot(edition_copy)

    result = CliRunner().invoke(main, ["import-docx", str(draft_path), "--edition", str(edition_copy)])
    assert result.exit_code == 2
    assert "anuchinsky-beekeeping.yaml:" in result.output and "participants.noun: changed both in the records" \
        in result.output
    assert "nothing was written" in result.output
    assert snapshot(edition_copy) == before

    forced = import_draft(draft_path, project, edition_copy, force=True)
    assert [change.field.name for change in forced.plan.changes] == [f"{PRACTICE}: participants.noun"]
    assert forced.plan.sources_changed


def test_a_change_in_the_records_alone_is_kept(edition_copy, project, draft_path):
    practice_file = edition_copy / PRACTICE
    practice_file.write_text(practice_file.read_text().replace("figure: '240'", "figure: '260'"))
    result = import_draft(draft_path, project, edition_copy, force=False)
    assert not result.plan.changes and not result.plan.conflicts


def test_dry_run_shows_the_diff_and_writes_nothing(edition_copy, draft_path, fields):
    draft = Draft(draft_path)
    draft.set_text(draft.field_paragraph(fields["rules.yaml: title"].key), "Как определяются победители")
    draft.save()
    before = snapshot(edition_copy)
    result = CliRunner().invoke(main, ["import-docx", str(draft_path), "--edition", str(edition_copy), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would change: rules.yaml: title" in result.output
    assert "-title: Определение победителей Конкурса\n+title: Как определяются победители" in result.output
    assert snapshot(edition_copy) == before


def test_text_outside_fields_and_edited_labels_are_reported(edition_copy, project, draft_path):
    draft = Draft(draft_path)
    label = next(p for p in draft.document.paragraphs if p.text == "Предпосылки реализации практики")
    draft.set_text(label, "Предпосылки")
    draft.add_after(label, "Заметка редактора: уточнить у муниципалитета")
    draft.save()
    result = import_draft(draft_path, project, edition_copy, force=False)
    assert not result.plan.changes
    assert any("generated text was changed" in note and "Предпосылки" in note for note in result.plan.notes)
    assert any("outside any field" in note and "Заметка редактора" in note for note in result.plan.notes)


def test_a_one_line_field_split_in_two_is_refused(edition_copy, project, draft_path, fields):
    draft = Draft(draft_path)
    author = draft.field_paragraph(fields["forewords.yaml: forewords[0].author"].key)
    draft.add_after(author, "Лишняя строка")
    draft.save()
    result = import_draft(draft_path, project, edition_copy, force=False)
    assert not result.edits
    [problem] = result.plan.problems
    assert problem.file.name == "forewords.yaml" and problem.line == 4
    assert str(problem).endswith("forewords[0].author: is one paragraph, but the draft has 2 paragraphs there; "
                                 "join them or move the extra text")


def test_an_edit_that_breaks_the_records_is_refused_with_its_location(edition_copy, project, draft_path, fields):
    draft = Draft(draft_path)
    draft.set_text(draft.field_paragraph(fields[f"{PRACTICE}: region"].key), "Приморская губерния")
    draft.save()
    before = snapshot(edition_copy)
    with pytest.raises(SourceProblems) as raised:
        import_draft(draft_path, project, edition_copy, force=False)
    assert any("Приморская губерния" in problem.message or problem.field == "region"
               for problem in raised.value.problems)
    assert snapshot(edition_copy) == before


# ---- the pieces: Markdown written back, YAML edited in place


def shown(kind: str, text: str, level: int = 0, bold: bool = False) -> Shown:
    return Shown(kind, level, ((text, bold),))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["2023. Итоги года", "- не список", "* звёздочка", "1) тоже не список",
                                  "знак * в середине", "подчёркивание_в_слове", "обратная \\ черта"])
def test_text_that_looks_like_markup_stays_text(text):
    parsed = parse_prose(to_markdown(text))
    assert len(parsed.blocks) == 1 and parsed.blocks[0].spans[0].text == text


def test_merge_keeps_untouched_paragraphs_byte_for_byte():
    source = "Первый абзац,\nперенесённый вручную.\n\n- пункт один\n- пункт  два\n\nПоследний абзац.\n"
    prose = parse_prose(source)
    from compendium.draft_fields import shown_of_value

    before = shown_of_value("prose", prose)
    draft = [before[0], before[1], shown("bullet", "новый пункт", level=1), before[2],
             shown("paragraph", "Последний абзац, изменённый.")]
    merged = merge_prose(source, before, draft)
    assert merged == ("Первый абзац,\nперенесённый вручную.\n\n- пункт один\n  - новый пункт\n- пункт  два\n\n"
                      "Последний абзац, изменённый.\n")


def test_merge_writes_bold_and_numbered_items():
    source = "1. первый\n2. второй\n"
    from compendium.draft_fields import shown_of_value

    before = shown_of_value("prose", parse_prose(source))
    draft = [*before, Shown("number", 0, (("третий, ", False), ("важный", True)))]
    assert merge_prose(source, before, draft) == "1. первый\n2. второй\n3. третий, **важный**\n"


def test_yaml_edits_keep_comments_and_every_other_line():
    text = ("# комментарий в начале\ntitle: Старое название  # пометка\ncontent: |\n  Абзац.\n\n"
            "criteria:\n  - один\n  # про второй\n  - два\nfigure: '240'\n")
    edited = edit_yaml(text, [(("title",), "Новое название"), (("content",), "Абзац.\n\nЕщё абзац.\n"),
                              (("criteria",), ("один", "два", "три")), (("figure",), "250")], "test.yaml")
    # the comment keeps its column
    assert edited == ("# комментарий в начале\ntitle: Новое название   # пометка\ncontent: |\n  Абзац.\n\n  Ещё абзац."
                      "\n\ncriteria:\n  - один\n  # про второй\n  - два\n  - три\nfigure: '250'\n")


def test_every_record_survives_a_round_trip_unchanged():
    for path in sorted(DEFAULT_EDITION.rglob("*.yaml")):
        text = path.read_text()
        assert edit_yaml(text, [], str(path)) == text


def test_tracked_changes_count_as_accepted_and_ctrl_b_is_bold(edition_copy, project, draft_path, fields):
    from docx.oxml import OxmlElement

    draft = Draft(draft_path)
    statement = draft.field_paragraph(fields[f"{PRACTICE}: results[2].statement"].key)
    run = statement.runs[0]
    deleted = OxmlElement("w:del")  # «Увеличение» struck out with track changes on …
    run._r.addprevious(deleted)
    old_run = copy.deepcopy(run._r)
    for text in old_run.findall(qn("w:t")):
        text.tag = qn("w:delText")
    deleted.append(old_run)
    run.text = run.text.replace("Увеличение", "Рост", 1)
    inserted = OxmlElement("w:ins")  # … and « (вдвое)» typed in, in bold made with Ctrl+B
    statement._p.append(inserted)
    added = statement.add_run(" вдвое")
    added.bold = True
    inserted.append(added._r)
    draft.save()
    result = import_draft(draft_path, project, edition_copy, force=False)
    [change] = result.plan.changes
    assert change.value == ("Рост туристского потока на мероприятия в рамках проведения Международного Дня пчелы "
                            "и фестиваля меда **вдвое**")


def test_a_word_file_that_is_not_a_draft_is_refused(tmp_path, edition_copy):
    foreign = tmp_path / "letter.docx"
    document = docx.Document()
    document.add_paragraph("Уважаемые коллеги!")
    document.save(str(foreign))
    result = CliRunner().invoke(main, ["import-docx", str(foreign), "--edition", str(edition_copy)])
    assert result.exit_code == 2
    assert "holds no fields of a compendium draft" in result.output
    not_docx = tmp_path / "notes.docx"
    not_docx.write_text("просто текст")
    result = CliRunner().invoke(main, ["import-docx", str(not_docx), "--edition", str(edition_copy)])
    assert result.exit_code == 2 and "cannot be read as a Word document" in result.output


def test_the_first_item_moved_down_with_its_bookmark_keeps_every_item(edition_copy, project, draft_path, fields):
    # as python-docx moves an element (and Word's drag and drop a paragraph): the first item, with its own
    # bookmark, below the second. With one bookmark for the whole field, the item that became first fell
    # outside it and was dropped from the record with only a note.
    actions = fields[f"{PRACTICE}: actions"]
    draft = Draft(draft_path)
    first = draft.field_paragraph(actions.key)
    second = draft.next_paragraph(first)
    second._p.addnext(first._p)
    draft.save()
    result = import_draft(draft_path, project, edition_copy, force=False)
    assert not result.plan.notes and not result.plan.problems
    assert [change.field.name for change in result.plan.changes] == [actions.name]
    write_sources(result.edits)
    items = [line for line in (edition_copy / PRACTICE).read_text(encoding="utf-8").split("actions: |\n")[1]
             .split("\n\n")[0].splitlines()]
    assert [item[4:19] for item in items] == ["Участие в съезд", "Заседания АРООП", "Создание агрокл",
                                              "Проведение меро"]


def test_a_paragraph_whose_bookmark_a_second_save_lost_still_belongs_to_its_field(edition_copy, project,
                                                                                   draft_path, fields):
    # every paragraph carries its field's bookmark: one that lost it (Enter in Word, a paste from outside)
    # between two of its field's own is the field's
    content = fields[f"{PRACTICE}: prerequisites"]
    draft = Draft(draft_path)
    first = draft.field_paragraph(content.key)
    second = draft.next_paragraph(first)
    for mark in second._p.findall(qn("w:bookmarkStart")) + second._p.findall(qn("w:bookmarkEnd")):
        second._p.remove(mark)
    draft.save()
    result = import_draft(draft_path, project, edition_copy, force=False)
    assert not result.plan.changes and not result.plan.notes and not result.plan.problems


@pytest.mark.parametrize(("record", "edit", "expected"), [
    # the draft showed «—», no-break spaces, «ёлочки» and grouped digits: untouched, the records' characters stay
    ("Союз - это 10000 членов и \"Клуб\" в т.ч.", ("это", "всего"), "Союз - всего 10000 членов и \"Клуб\" в т.ч."),
    ("- пункт - один с \"цитатой\"", ("один", "**важный** один"), "- пункт - **важный** один с \"цитатой\""),
    ("Было 2 - 3 раза , и всё", ("раза", "дня"), "Было 2 - 3 дня, и всё"),  # the space went with the word
    # an edit that cuts into what the typography changed takes the draft's characters there
    ("Слово - дело", (" — дело", ", и дело"), "Слово, и дело"),
], ids=["words", "bold-list-item", "dropped-space", "edit-across-a-dash"])
def test_an_edited_paragraph_changes_only_the_edited_words(record, edit, expected):
    from compendium.draft_fields import shown_of_value
    from compendium.typography import typeset_runs

    source = record + "\n"
    before = shown_of_value("prose", parse_prose(source))
    shown_text = "".join(typeset_runs([text for text, _ in before[0].runs])).replace("\u00a0", " ")
    old, new = edit
    assert old in shown_text, shown_text
    edited_text = shown_text.replace(old, new.replace("**", ""), 1)
    bold = new.split("**")[1] if "**" in new else None
    runs = ((edited_text, False),) if bold is None else tuple(
        (part, index % 2 == 1) for index, part in enumerate(edited_text.partition(bold)) if part)
    draft = [Shown(before[0].kind, before[0].level, runs)]
    assert merge_prose(source, before, draft) == expected + "\n"


def test_text_between_two_fields_of_many_paragraphs_that_neither_marks_is_refused(edition_copy, project, fields):
    # an unmarked paragraph after a field's last paragraph goes to that field when a generated paragraph or a
    # one-paragraph field follows; before another field of many paragraphs it may be either's
    from compendium.import_docx import Segment, _between_fields

    prerequisites, actions = fields[f"{PRACTICE}: prerequisites"], fields[f"{PRACTICE}: actions"]
    title = fields[f"{PRACTICE}: title"]
    fields = {field.key: field for field in fields.values()}
    item, typed = shown("bullet", "пункт"), shown("bullet", "новый пункт, набранный после последнего")
    loose = Segment("field", prerequisites.bookmark, [item, typed], marked=1)
    refused = _between_fields(loose, [Segment("field", actions.bookmark, [item], marked=1)], fields)
    assert refused is not None and refused.field == "prerequisites" and refused.line > 0
    assert "«новый пункт, набранный после последнего»" in refused.message and "actions" in refused.message
    inside = Segment("field", prerequisites.bookmark, [typed, item], marked=2)
    assert _between_fields(inside, [Segment("field", actions.bookmark, [item], marked=1)], fields) is None
    assert _between_fields(loose, [Segment("field", title.bookmark, [item], marked=1)], fields) is None
    assert _between_fields(loose, [Segment("fixed", "cx_0001_0", [item])], fields) is None


def _actions(edition: Path) -> list[str]:
    text = (edition / PRACTICE).read_text(encoding="utf-8").split("actions: |\n")[1].split("\n\n")[0]
    return [line[4:].replace("\u00a0", " ") for line in text.splitlines()]


def _word_edit(edition_copy, project, draft_path, fields, edit) -> list[str]:
    """One edit made at the XML level as Word makes it, on the practice's actions; the items after the import."""
    actions = fields[f"{PRACTICE}: actions"]
    draft = Draft(draft_path)
    first = draft.field_paragraph(actions.key)
    edit(draft, first, draft.next_paragraph(first))
    draft.save()
    result = import_draft(draft_path, project, edition_copy, force=False)
    assert not result.plan.notes and not result.plan.problems, (result.plan.notes, result.plan.problems)
    assert [change.field.name for change in result.plan.changes] == [actions.name]
    write_sources(result.edits)
    return _actions(edition_copy)


def test_word_deleting_a_fields_first_item_with_its_bookmark_keeps_the_rest(edition_copy, project, draft_path,
                                                                           fields):
    def delete_first(draft, first, second):
        first._p.getparent().remove(first._p)

    items = _word_edit(edition_copy, project, draft_path, fields, delete_first)
    assert [item[:15] for item in items] == ["Участие в съезд", "Создание агрокл", "Проведение меро"]


def test_word_splitting_an_item_keeps_both_halves_in_the_field(edition_copy, project, draft_path, fields):
    def split(draft, first, second):  # Enter inside: the bookmark's end goes with the second half
        text = first.text
        half = draft.add_after(first, text[text.index("оказание"):])
        draft.set_text(first, text[: text.index("оказание")].rstrip(" ,") + ",")
        for end in first._p.findall(qn("w:bookmarkEnd")):
            half._p.append(end)

    items = _word_edit(edition_copy, project, draft_path, fields, split)
    assert [item[:15] for item in items] == ["Заседания АРООП", "оказание информ", "Участие в съезд", "Создание агрокл",
                                            "Проведение меро"]


def test_word_joining_two_items_keeps_the_joined_item_in_the_field(edition_copy, project, draft_path, fields):
    def join(draft, first, second):  # Delete at the first's end: both bookmarks in one paragraph
        draft.set_text(first, first.text + " " + second.text)
        for mark in second._p.findall(qn("w:bookmarkStart")) + second._p.findall(qn("w:bookmarkEnd")):
            first._p.append(mark)
        second._p.getparent().remove(second._p)

    items = _word_edit(edition_copy, project, draft_path, fields, join)
    assert len(items) == 3 and items[0].startswith("Заседания АРООП") and "Участие в съездах" in items[0]
