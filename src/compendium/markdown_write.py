"""Draft paragraphs written back as the records' Markdown subset, keeping what did not change.

Inside a prose field, a paragraph or list item that reads as before keeps its source lines byte
for byte; a new or changed one is written with the list marker and indentation its place needs,
and characters Markdown would read as markup are escaped.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .draft_fields import BOLD_OFF, BOLD_ON, Shown, fingerprint, shown_of_value
from .prose import ProseError, paragraph_lines, parse_prose

_MARKER = re.compile(r"^(\s*)([-+*]|\d{1,9}[.)])(\s+)")
_STARTS_LIKE_MARKER = re.compile(r"^([-+*]|\d{1,9}[.)])(?=\s|$)")


def to_markdown(marked: str) -> str:
    """A paragraph's text with bold marks as Markdown; characters Markdown would read as markup are escaped."""
    text = marked.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")
    text = text.replace(BOLD_ON, "**").replace(BOLD_OFF, "**")
    match = _STARTS_LIKE_MARKER.match(text)
    if match:
        marker = match.group(1)
        text = ("\\" + text) if marker[-1] not in ".)" else text[: len(marker) - 1] + "\\" + text[len(marker) - 1:]
    return text


def merge_prose(source: str, source_shown: Sequence[Shown], draft: Sequence[Shown]) -> str:
    """The field's new Markdown: paragraphs that read as before keep their lines byte for byte;
    changed and added ones are written anew with the list markers their place needs."""
    for reuse, edit_in_place in ((True, True), (True, False), (False, False)):
        text = _compose(source, source_shown, draft, reuse, edit_in_place)
        try:
            parsed = shown_of_value("prose", parse_prose(text))
        except ProseError:
            continue
        if fingerprint("prose", parsed) == fingerprint("prose", draft):
            return text
    raise ValueError("could not be written back as Markdown; simplify its formatting in the draft")


def _key(shown: Shown) -> str:
    return f"{shown.kind}:{shown.level}:{shown.marked()}"


def _compose(source: str, source_shown: Sequence[Shown], draft: Sequence[Shown], reuse: bool,
             edit_in_place: bool) -> str:
    lines = source.split("\n")
    ranges = paragraph_lines(source)
    kept: dict[int, int] = {}
    edited: dict[int, int] = {}  # draft paragraph → the source paragraph it is an edit of
    if reuse and len(ranges) == len(source_shown):
        matcher = difflib.SequenceMatcher(a=[_key(s) for s in source_shown], b=[_key(d) for d in draft],
                                          autojunk=False)
        for block in matcher.get_matching_blocks():
            kept.update({block.b + offset: block.a + offset for offset in range(block.size)})
        for tag, first, end, draft_first, draft_end in matcher.get_opcodes():
            if edit_in_place and tag == "replace" and end - first == draft_end - draft_first:
                edited.update({draft_first + offset: first + offset for offset in range(end - first)})
    output: list[str] = []
    columns: dict[int, int] = {}  # level -> column where the current item's text starts
    counters: dict[int, int] = {}  # level -> number of the current numbered item
    previous: Shown | None = None
    previous_source: int | None = None
    for index, paragraph in enumerate(draft):
        source_index = kept.get(index)
        if source_index is not None:
            chunk = lines[ranges[source_index][0]: ranges[source_index][1]]
        elif index in edited and (chunk := _edited_in_place(
                lines[ranges[edited[index]][0]: ranges[edited[index]][1]], source_shown[edited[index]], paragraph)):
            pass
        else:
            chunk = _new_lines(paragraph, columns, counters)
        if previous is not None:
            if source_index is not None and previous_source is not None and source_index == previous_source + 1:
                output.extend(lines[ranges[previous_source][1]: ranges[source_index][0]])
            else:
                output.extend(_separator(previous, paragraph))
        output.extend(chunk)
        _track(paragraph, chunk[0], columns, counters)
        previous, previous_source = paragraph, source_index
    ending = "\n" if source.endswith("\n") else ""
    return "\n".join(output).rstrip("\n") + ending


def _edited_in_place(lines: list[str], shown: Shown, edited: Shown) -> list[str] | None:
    """A one-line paragraph of the records with only what staff changed in the draft changed: the words they
    did not touch keep the records' characters, so the typography the draft showed (dashes, no-break spaces,
    quotes) is not written back. None when the paragraph is not one line of the same kind and level."""
    if len(lines) != 1 or shown.kind != edited.kind or shown.level != edited.level:
        return None
    marker = _MARKER.match(lines[0]) if shown.kind in ("bullet", "number") else None
    prefix = marker.group(0) if marker else lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    record = lines[0][len(prefix):]
    showed, now = to_markdown(shown.marked()), to_markdown(edited.marked(typeset=False))
    units = _units(record, showed)
    merged = []
    for tag, first, end, now_first, now_end in difflib.SequenceMatcher(None, showed, now, autojunk=False).get_opcodes():
        if tag != "equal":
            merged.append(now[now_first:now_end])
            continue
        at = first
        while at < end:  # a unit the edit left whole keeps the records' characters; one it cut, the draft's
            unit = units[at]
            whole = unit.start >= first and unit.end <= end
            stop = min(unit.end, end)
            merged.append(unit.original if whole else now[now_first + at - first: now_first + stop - first])
            at = stop
    return [prefix + "".join(merged)]


@dataclass
class _Unit:
    """A run of the text the draft showed, and the records' characters it stands for."""

    start: int
    end: int
    original: str


def _units(record: str, showed: str) -> list[_Unit]:
    """For each position of the text the draft showed, its unit: a character the typography left alone is a
    unit of its own; a run it changed (a dash, a quote, a space made no-break, digits grouped) is one unit
    with what the records hold there; characters it dropped go with the unit before them."""
    units: list[_Unit] = []
    leading = ""
    for tag, first, end, shown_first, shown_end in difflib.SequenceMatcher(
            None, record, showed, autojunk=False).get_opcodes():
        if tag == "equal":
            units += [_Unit(shown_first + offset, shown_first + offset + 1, record[first + offset])
                      for offset in range(end - first)]
        elif shown_end > shown_first:
            unit = _Unit(shown_first, shown_end, record[first:end])
            units += [unit] * (shown_end - shown_first)
        elif units:
            units[-1].original += record[first:end]
        else:
            leading += record[first:end]
    if units and leading:
        units[0].original = leading + units[0].original
    return units


def _new_lines(paragraph: Shown, columns: dict[int, int], counters: dict[int, int]) -> list[str]:
    text = to_markdown(paragraph.marked(typeset=False))
    if paragraph.kind == "paragraph":
        return [text]
    if paragraph.kind == "continued":
        return [" " * columns.get(paragraph.level, 0) + text]
    indent = " " * (columns.get(paragraph.level - 1, 0) if paragraph.level else 0)
    marker = "-" if paragraph.kind == "bullet" else f"{counters.get(paragraph.level, 0) + 1}."
    return [f"{indent}{marker} {text}"]


def _track(paragraph: Shown, first_line: str, columns: dict[int, int], counters: dict[int, int]) -> None:
    if paragraph.kind == "paragraph":
        columns.clear()
        counters.clear()
        return
    if paragraph.kind == "continued":
        return
    match = _MARKER.match(first_line)
    columns[paragraph.level] = len(match.group(0)) if match else 0
    for deeper in [level for level in counters if level > paragraph.level]:
        del counters[deeper]
    counters[paragraph.level] = counters.get(paragraph.level, 0) + 1 if paragraph.kind == "number" else 0


def _separator(previous: Shown, current: Shown) -> list[str]:
    in_list = ("bullet", "number")
    if previous.kind in in_list and current.kind in in_list and (current.level > 0 or previous.kind == current.kind
                                                                  or previous.level > 0):
        return []
    return [""]
