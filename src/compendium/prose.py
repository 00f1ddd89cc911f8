"""The Markdown subset of prose fields: paragraphs, bold, bullet and numbered lists (nested).

markdown-it-py parses; this module only keeps the tokens the subset allows and turns them into
the frozen block types below. Anything else in a record (HTML, headings, links) stays literal text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

# "zero" switches every rule off; the subset switches back on only what the collection needs.
_PARSER = MarkdownIt("zero").enable(["list", "emphasis", "escape"])
_WHITESPACE = re.compile(r"\s+")
_MAX_NESTING: int = _PARSER.options["maxNesting"]


class ProseError(ValueError):
    """Markup outside the subset; ``line`` counts from the first line of the field's text (0-based)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Span:
    """A run of text with one weight."""

    text: str
    bold: bool = False


@dataclass(frozen=True)
class Paragraph:
    """A paragraph: runs of plain and bold text."""

    spans: tuple[Span, ...]


@dataclass(frozen=True)
class ListItem:
    """One list item: its paragraphs and nested lists."""

    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class BulletList:
    """A bulleted list."""

    items: tuple[ListItem, ...]


@dataclass(frozen=True)
class OrderedList:
    """A numbered list, starting at ``start``."""

    items: tuple[ListItem, ...]
    start: int = 1


Block = Paragraph | BulletList | OrderedList


@dataclass(frozen=True)
class Prose:
    """A prose field: the organiser's Markdown and the blocks it means."""

    source: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class RichLine:
    """A one-paragraph field (caption, statement, figure) that may hold bold runs."""

    source: str
    spans: tuple[Span, ...]


def parse_prose(source: str) -> Prose:
    """Parses a prose field; raises ProseError for markup outside the subset."""
    tokens = _PARSER.parse(source)
    _note_first_lines(tokens, source)
    blocks, position = _blocks(tokens, 0, closing=None)
    assert position == len(tokens)
    return Prose(source, tuple(blocks))


def parse_rich_line(source: str) -> RichLine:
    """Parses a one-paragraph field: bold is allowed, lists and paragraph breaks are not."""
    prose = parse_prose(source)
    if len(prose.blocks) != 1 or not isinstance(prose.blocks[0], Paragraph):
        raise ProseError("expected a single paragraph of text (bold allowed), not a list or several paragraphs", 0)
    return RichLine(source, prose.blocks[0].spans)


def _note_first_lines(tokens: list[Token], source: str) -> None:
    """Notes on each paragraph's inline token the line its text starts on.

    markdown-it strips a paragraph's text with str.strip, which also drops leading lines that hold only
    Unicode spaces (a no-break space, say): not blank to Markdown, they still begin the paragraph's range.
    """
    lines = re.sub(r"\r\n?", "\n", source).replace("\0", "\ufffd").split("\n")  # as markdown-it normalises
    for token in tokens:
        if token.type == "inline" and token.map:
            head = token.content.split("\n", 1)[0].strip()
            token.meta["line"] = next((number for number in range(*token.map) if head in lines[number]),
                                      token.map[0])


def _blocks(tokens: list[Token], position: int, closing: str | None) -> tuple[list[Block], int]:
    blocks: list[Block] = []
    while position < len(tokens):
        token = tokens[position]
        if token.type == closing:
            return blocks, position
        if token.type == "paragraph_open":
            blocks.append(Paragraph(_spans(tokens[position + 1])))
            position += 3  # paragraph_open, inline, paragraph_close
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            close = token.type.replace("_open", "_close")
            items, position = _items(tokens, position + 1, close)
            if token.type == "bullet_list_open":
                blocks.append(BulletList(tuple(items)))
            else:
                blocks.append(OrderedList(tuple(items), int(token.attrGet("start") or 1)))
            position += 1
        else:  # the parser only enables the rules above
            raise ProseError(f"unexpected Markdown element {token.type}", _line(token))
    return blocks, position


def _items(tokens: list[Token], position: int, closing: str) -> tuple[list[ListItem], int]:
    items: list[ListItem] = []
    while tokens[position].type != closing:
        if tokens[position].level + 1 >= _MAX_NESTING:
            # markdown-it stops at this depth and silently drops the rest of the field
            raise ProseError(f"lists are nested more than {(_MAX_NESTING - 1) // 2} levels deep",
                             _line(tokens[position]))
        blocks, position = _blocks(tokens, position + 1, closing="list_item_close")
        items.append(ListItem(tuple(blocks)))
        position += 1
    return items, position


def _spans(inline: Token) -> tuple[Span, ...]:
    spans: list[Span] = []
    bold = False
    lines_before = 0  # soft line breaks stay inside text tokens: count them to locate a problem
    for child in inline.children or []:
        if child.type == "strong_open":
            bold = True
        elif child.type == "strong_close":
            bold = False
        elif child.type == "em_open":
            raise ProseError(
                f"italic ({child.markup}text{child.markup}) is not part of the markup; use **bold**, "
                f"or write \\{child.markup} for a literal {child.markup}",
                inline.meta.get("line", _line(inline)) + lines_before,
            )
        elif child.type == "hardbreak":
            # a backslash ending a line is a hard break in CommonMark; the subset has none, so the
            # lines join with a space, as wrapped lines do, instead of gluing two words together
            lines_before += 1
            _add(spans, " ", bold)
        elif child.type in ("text", "text_special") and child.content:
            lines_before += child.content.count("\n")
            _add(spans, child.content, bold)
    if spans:  # a paragraph's edges carry no meaning; inner spaces between runs do
        spans[0] = Span(spans[0].text.lstrip(), spans[0].bold)
        spans[-1] = Span(spans[-1].text.rstrip(), spans[-1].bold)
    return tuple(span for span in spans if span.text)


def _add(spans: list[Span], text: str, bold: bool) -> None:
    """Appends text to the last span when the weight is the same; runs of whitespace become one space."""
    if spans and spans[-1].bold == bold:
        spans[-1] = Span(_WHITESPACE.sub(" ", spans[-1].text + text), bold)
    else:
        spans.append(Span(_WHITESPACE.sub(" ", text), bold))


def _line(token: Token) -> int:
    return token.map[0] if token.map else 0


def paragraph_lines(source: str) -> list[tuple[int, int]]:
    """The lines [first, end) of each paragraph of a prose field, in order; a list item's first
    paragraph includes its marker. Lines between these ranges are blank separators."""
    return [tuple(token.map) for token in _PARSER.parse(source) if token.type == "paragraph_open" and token.map]
