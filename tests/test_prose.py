"""The Markdown subset of prose fields (`compendium.prose`): what it keeps, what stays literal, what it refuses."""

from __future__ import annotations

import pytest

from compendium.prose import (
    BulletList,
    ListItem,
    OrderedList,
    Paragraph,
    ProseError,
    Span,
    parse_prose,
    parse_rich_line,
)


def paragraph(*spans: str | Span) -> Paragraph:
    """A paragraph from plain strings and bold spans."""
    return Paragraph(tuple(span if isinstance(span, Span) else Span(span) for span in spans))


def bold(text: str) -> Span:
    return Span(text, bold=True)


def item(*blocks: Paragraph | BulletList | OrderedList) -> ListItem:
    return ListItem(tuple(blocks))


def bullets(*texts: str) -> BulletList:
    return BulletList(tuple(item(paragraph(text)) for text in texts))


# --- what the subset keeps --------------------------------------------------------------------


def test_blank_lines_separate_paragraphs() -> None:
    prose = parse_prose("Первый абзац.\n\nВторой абзац.\n")
    assert prose.blocks == (paragraph("Первый абзац."), paragraph("Второй абзац."))


def test_lines_of_one_paragraph_are_joined_with_a_space() -> None:
    assert parse_prose("Первая строка\nвторая строка").blocks == (paragraph("Первая строка вторая строка"),)


def test_bold_spans() -> None:
    prose = parse_prose("Обрабатываются **все** поступающие ТКО")
    assert prose.blocks == (paragraph("Обрабатываются ", bold("все"), " поступающие ТКО"),)


def test_bold_at_the_start_of_a_paragraph() -> None:
    prose = parse_prose("**100%** организаций")
    assert prose.blocks == (paragraph(bold("100%"), " организаций"),)


def test_bullet_list() -> None:
    prose = parse_prose("- Заседания\n- Участие в съездах\n- Создание агрокласса\n")
    assert prose.blocks == (bullets("Заседания", "Участие в съездах", "Создание агрокласса"),)


def test_numbered_list_starts_at_one() -> None:
    prose = parse_prose("1. Создание группы\n2. Разработка стандарта\n")
    assert prose.blocks == (OrderedList((item(paragraph("Создание группы")),
                                         item(paragraph("Разработка стандарта"))), start=1),)


def test_numbered_list_keeps_its_start() -> None:
    [block] = parse_prose("3. Цифровизация\n4. Внедрение\n").blocks
    assert isinstance(block, OrderedList)
    assert block.start == 3
    assert len(block.items) == 2


def test_paragraph_followed_by_a_list() -> None:
    prose = parse_prose("Существовал ряд проблем, связанных с:\n\n- отсутствием подхода\n- отсутствием системы\n")
    assert prose.blocks == (paragraph("Существовал ряд проблем, связанных с:"),
                            bullets("отсутствием подхода", "отсутствием системы"))


def test_nested_bullets_under_a_numbered_item_kemerovo_style() -> None:
    source = (
        "1. Создание проектной группы\n"
        "\n"
        "2. Разработка регионального стандарта качества:\n"
        "\n"
        "   - Разработано единое региональное меню\n"
        "   - Возможность родительского контроля\n"
        "\n"
        "3. Цифровизация школьного питания:\n"
        "\n"
        "   - Разработка комплекса\n"
        "\n"
        "В рамках реализации практики осуществлялось взаимодействие с детьми\n"
    )
    numbered, closing = parse_prose(source).blocks
    assert isinstance(numbered, OrderedList)
    assert numbered.start == 1
    assert numbered.items == (
        item(paragraph("Создание проектной группы")),
        item(paragraph("Разработка регионального стандарта качества:"),
             bullets("Разработано единое региональное меню", "Возможность родительского контроля")),
        item(paragraph("Цифровизация школьного питания:"), bullets("Разработка комплекса")),
    )
    assert closing == paragraph("В рамках реализации практики осуществлялось взаимодействие с детьми")


def test_nested_bullets_under_a_bullet_cheboksary_style() -> None:
    source = (
        "- Создание **межмуниципальной системы** на основе строительства:\n"
        "  - полигона твердых бытовых отходов\n"
        "  - мусороперегрузочной станции\n"
    )
    assert parse_prose(source).blocks == (
        BulletList((
            item(paragraph("Создание ", bold("межмуниципальной системы"), " на основе строительства:"),
                 bullets("полигона твердых бытовых отходов", "мусороперегрузочной станции")),
        )),
    )


def test_adjacent_lists_with_different_bullet_characters_stay_two_lists() -> None:
    prose = parse_prose("- первый\n- второй\n* третий\n* четвертый\n")
    assert prose.blocks == (bullets("первый", "второй"), bullets("третий", "четвертый"))


def test_plus_bullets_after_a_blank_line_are_a_list_of_their_own() -> None:
    prose = parse_prose("- первый\n\n+ второй\n")
    assert prose.blocks == (bullets("первый"), bullets("второй"))


def test_escaped_asterisk_is_a_literal_asterisk() -> None:
    assert parse_prose(r"площадь\* участка").blocks == (paragraph("площадь* участка"),)


# --- what stays literal -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "<b>жирный</b> текст",
        "<script>alert(1)</script>",
        "до <br> после",
        "&amp; &lt;b&gt;",
    ],
    ids=["bold-tag", "script", "br", "entities"],
)
def test_html_stays_literal_text(source: str) -> None:
    assert parse_prose(source).blocks == (paragraph(source),)


def test_heading_stays_literal_text() -> None:
    prose = parse_prose("# Заголовок\n\nТекст")
    assert prose.blocks == (paragraph("# Заголовок"), paragraph("Текст"))


@pytest.mark.parametrize(
    "source",
    ["[сайт](https://csr.ru)", "`код`", "> цитата", "---", "![фото](photo.jpg)"],
    ids=["link", "code", "blockquote", "rule", "image"],
)
def test_other_markdown_stays_literal_text(source: str) -> None:
    assert parse_prose(source).blocks == (paragraph(source),)


# --- what is refused --------------------------------------------------------------------------


def test_italic_raises_prose_error() -> None:
    with pytest.raises(ProseError, match=r"italic"):
        parse_prose("Объединение *пчеловодов*")


def test_underscore_italic_raises_prose_error() -> None:
    with pytest.raises(ProseError, match=r"italic"):
        parse_prose("Объединение _пчеловодов_")


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("*курсив* в первой строке", 0),
        ("Первый абзац.\n\nВторой *курсив* абзац.", 2),
        ("- первый\n- второй *курсив*\n- третий", 1),
        ("1. первый\n\n2. второй:\n\n   - вложенный *курсив*\n", 4),
        ("- первый\n  - вложенный\n  - второй *вложенный*\n", 2),
        ("**жирный с *курсивом* внутри**", 0),
    ],
    ids=["first-line", "second-paragraph", "bullet-item", "nested-under-numbered", "nested-bullet",
         "inside-bold"],
)
def test_italic_error_names_the_line_counted_from_zero(source: str, line: int) -> None:
    with pytest.raises(ProseError) as raised:
        parse_prose(source)
    assert raised.value.line == line


def test_italic_error_names_the_continuation_line_of_a_wrapped_paragraph() -> None:
    with pytest.raises(ProseError) as raised:
        parse_prose("Первая строка\nвторая строка\nтретья *курсив*")
    assert raised.value.line == 2


# --- one-paragraph fields ---------------------------------------------------------------------


def test_rich_line_keeps_bold_runs() -> None:
    line = parse_rich_line("в **1,3** раза")
    assert line.spans == (Span("в "), bold("1,3"), Span(" раза"))
    assert line.source == "в **1,3** раза"


@pytest.mark.parametrize(
    "source",
    ["- первый\n- второй", "1. первый\n2. второй", "Первый абзац.\n\nВторой абзац."],
    ids=["bullet-list", "numbered-list", "two-paragraphs"],
)
def test_rich_line_refuses_lists_and_several_paragraphs(source: str) -> None:
    with pytest.raises(ProseError, match=r"single paragraph") as raised:
        parse_rich_line(source)
    assert raised.value.line == 0


def test_rich_line_refuses_italic() -> None:
    with pytest.raises(ProseError, match=r"italic"):
        parse_rich_line("*240*")
