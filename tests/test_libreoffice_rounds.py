"""The Word draft opened, edited and saved in LibreOffice Writer, round after round, comes back as exactly
the edits made (issue 25). Writer is driven through UNO, as a person edits (tests/libreoffice_uno.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from compendium.pipeline import build, import_draft, write_sources

from .libreoffice_uno import Writer, running_writer
from .test_docx_round_trip import PRACTICE, changed_lines, export_draft, snapshot

CONTENT_START = "Объединение пчеловодов Анучинского МО"
"""The first paragraph of a prose field of four (the practice's content), found in the draft by this text."""


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Writer]:
    yield from running_writer(tmp_path_factory)


@pytest.fixture
def draft_path(edition_copy: Path, project, tmp_path: Path) -> Path:
    return export_draft(edition_copy, project, tmp_path / "draft.docx")


@pytest.mark.parametrize("times", [2, 10])
def test_a_draft_saved_again_and_again_without_edits_imports_nothing(writer: Writer, edition_copy, project,
                                                                     draft_path, tmp_path, times):
    # a bookmark spanning a field's paragraphs kept only the last after two saves: 21 fields were cut
    before = snapshot(edition_copy)
    saved = writer.resave(draft_path, tmp_path / "saved.docx", times=times)
    result = import_draft(saved, project, edition_copy, force=False)
    assert not result.plan.problems, [problem.message for problem in result.plan.problems]
    assert not result.plan.changes, [change.field.name for change in result.plan.changes]
    assert not result.plan.notes and not result.plan.conflicts
    assert snapshot(edition_copy) == before


def type_one_edit(writer: Writer, draft_path: Path, project, edition: Path, tmp_path: Path) -> dict[str, list[str]]:
    """One round: replaces a word inside the practice's content and saves; the import written; the lines it changed."""
    before = snapshot(edition)
    saved = tmp_path / "saved.docx"
    writer.rounds([{"open": draft_path, "save": saved, "edits": [
        {"do": "replace", "find": CONTENT_START, "old": "единое", "text": "одно"}]}])
    result = import_draft(saved, project, edition, force=False)
    assert [change.field.name for change in result.plan.changes] == [f"{PRACTICE}: content"]
    assert not result.plan.notes and not result.plan.problems and not result.plan.conflicts
    write_sources(result.edits)
    return changed_lines(before, snapshot(edition))


def test_one_save_with_one_typed_edit_changes_only_that_paragraph(writer: Writer, edition_copy, project,
                                                                  draft_path, tmp_path):
    changed = type_one_edit(writer, draft_path, project, edition_copy, tmp_path)
    assert list(changed) == [PRACTICE]
    removed, added = changed[PRACTICE]
    assert removed.startswith(f"-  {CONTENT_START}") and "в единое сообщество" in removed
    assert added.startswith(f"+  {CONTENT_START}") and "в одно сообщество" in added


def test_one_save_with_one_typed_edit_imports_exactly_that_edit(writer: Writer, edition_copy, project,
                                                                draft_path, tmp_path):
    assert type_one_edit(writer, draft_path, project, edition_copy, tmp_path) == {PRACTICE: [
        "-  Объединение пчеловодов Анучинского МО и соседних муниципалитетов: г. Арсеньев и Яковлевский МО в "
        "единое сообщество - Анучинская районная общественная организация пчеловодов «Возрождение» (далее — "
        "АРООП «Возрождение»)",
        "+  Объединение пчеловодов Анучинского МО и соседних муниципалитетов: г. Арсеньев и Яковлевский МО в "
        "одно сообщество - Анучинская районная общественная организация пчеловодов «Возрождение» (далее — "
        "АРООП «Возрождение»)",
    ]}


PREREQUISITES = [
    "Отсутствие организованных сообществ пчеловодов",
    "Уменьшение кормовой базы пчеловодства",
    "Вопросы по организации сбыта продукции",
    "Отсутствие профориентационной работы",
]
ACTIONS = ["Заседания АРООП «Возрождение»", "Участие в съездах пчеловодов РФ", "Создание агрокласса",
           "Проведение мероприятий в рамках Международного Дня пчелы"]
"""How each item of the practice's actions starts, with plain spaces."""
FIND = ["Заседания АРООП", "съездах", "Создание агрокласса", "Международного Дня"]
"""A piece of each item that the draft's typography leaves alone (no short word, whose space it fixes)."""


def list_items(edition: Path, field: str) -> list[str]:
    """The items of a list field of the practice, as the record holds them after the import."""
    import yaml

    text = yaml.safe_load((edition / PRACTICE).read_text(encoding="utf-8"))[field]
    return [line[2:].replace("\u00a0", " ") for line in text.splitlines() if line.startswith("- ")]


def starts(items: list[str], expected: list[str]) -> bool:
    return len(items) == len(expected) and all(item.startswith(start) for item, start in zip(items, expected,
                                                                                           strict=True))


def import_round(draft: Path, project, edition: Path, changed: list[str]) -> None:
    """Imports a round's draft, which must change exactly the fields ``changed`` (of the practice), and
    writes it."""
    result = import_draft(draft, project, edition, force=False)
    assert not result.plan.problems, [str(problem) for problem in result.plan.problems]
    assert not result.plan.notes and not result.plan.conflicts, result.plan.notes
    assert [change.field.name for change in result.plan.changes] == [f"{PRACTICE}: {name}" for name in changed]
    write_sources(result.edits)


def test_three_rounds_of_edits_with_saves_between_import_exactly_the_edits(writer: Writer, edition_copy, project,
                                                                           draft_path, tmp_path):
    # open, edit, save; the next day open it again, edit more, save: each import brings that day's edit only
    days = [
        ("content", {"do": "replace", "find": CONTENT_START, "old": "единое", "text": "одно"}),
        ("prerequisites", {"do": "delete_paragraph", "find": "организованных сообществ"}),
        ("actions", {"do": "move_down", "find": FIND[0]}),
    ]
    draft = draft_path
    for day, (field, edit) in enumerate(days):
        plain, edited = tmp_path / f"day-{day}-opened.docx", tmp_path / f"day-{day}.docx"
        writer.resave(draft, plain)  # opened and saved with no edit in between
        writer.rounds([{"open": plain, "save": edited, "edits": [edit]}])
        import_round(edited, project, edition_copy, [field])
        draft = edited
    assert "в одно сообщество" in (edition_copy / PRACTICE).read_text(encoding="utf-8")
    assert starts(list_items(edition_copy, "prerequisites"), PREREQUISITES[1:])
    assert starts(list_items(edition_copy, "actions"), [ACTIONS[1], ACTIONS[0], *ACTIONS[2:]])
    result = import_draft(writer.resave(draft, tmp_path / "again.docx", times=2), project, edition_copy, False)
    assert not result.plan.changes and not result.plan.problems and not result.plan.notes
    build(edition_copy, project, output_root=tmp_path / "build", profiles=("screen",))  # validates, and builds


@pytest.mark.parametrize(("edit", "field", "expected"), [
    ({"do": "delete_paragraph", "find": FIND[0]}, "actions", ACTIONS[1:]),
    ({"do": "move_down", "find": FIND[0]}, "actions", [ACTIONS[1], ACTIONS[0], *ACTIONS[2:]]),
    ({"do": "cut_paste", "find": FIND[3], "before": FIND[0]}, "actions", [ACTIONS[3], *ACTIONS[:3]]),
    ({"do": "split", "find": FIND[2], "after": "агрокласса,"}, "actions",
     [*ACTIONS[:2], "Создание агрокласса,", "выполнение программы «Юный пчеловод»", ACTIONS[3]]),
    ({"do": "join", "find": FIND[1]}, "actions", [ACTIONS[0], "Участие в съездах пчеловодов РФСоздание", ACTIONS[3]]),
], ids=["delete-first", "move-first-down", "cut-last-paste-first", "split", "join"])
def test_each_kind_of_edit_survives_two_saves(writer: Writer, edition_copy, project, draft_path, tmp_path,
                                               edit, field, expected):
    edited = tmp_path / "edited.docx"
    writer.rounds([{"open": draft_path, "save": edited, "edits": [edit]}])
    writer.resave(edited, edited)
    import_round(edited, project, edition_copy, [field])
    assert starts(list_items(edition_copy, field), expected), list_items(edition_copy, field)
