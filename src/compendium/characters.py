"""Which characters the book can print: those its bundled fonts draw. Any other would come out as a box.

WeasyPrint draws a character that no font of the page has as .notdef, an empty box, and says nothing; a
record's text is therefore checked against the fonts before anything is laid out, and each character
they lack is a located problem.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont

from .errors import Problem
from .load import FieldPath, SourceFile, format_path

_NEVER_DRAWN = frozenset(map(ord, "\n\r\t"))
"""Line breaks and tabs become spaces in the layout."""
SUGGESTED = {
    "→": "«—» или слова «в», «до»",
    "←": "«—» или слова «из», «от»",
    "✓": "«•» или «—» в начале пункта списка",
    "✔": "«•» или «—» в начале пункта списка",
    "′": "«'» или слово «минут»",
    "″": "«\"» или слово «секунд»",
    "\u2009": "обычный пробел (неразрывные пробелы сборка ставит сама)",
    "\u202f": "обычный пробел (неразрывные пробелы сборка ставит сама)",
}
"""What to type instead of a character the fonts lack that staff paste often."""


@lru_cache(maxsize=4)
def font_coverage(fonts: Path) -> frozenset[int]:
    """The code points every bundled font draws. Text of any style may be set in any face, so a character
    counts only if all of them have it (today all ten PT faces cover the same 698)."""
    covered = [frozenset(TTFont(path, lazy=True).getBestCmap()) for path in sorted(fonts.glob("*.[ot]tf"))]
    return frozenset.intersection(*covered) if covered else frozenset()


def printable(character: str, coverage: frozenset[int]) -> bool:
    """Whether the book can print ``character``: a font has it, or it is never drawn (a line break, or a
    format character such as a soft hyphen or a variation selector, which the shaper leaves out)."""
    code = ord(character)
    return code in coverage or code in _NEVER_DRAWN or unicodedata.category(character) == "Cf" or (
        0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF)


def unprintable_characters(source: SourceFile, coverage: frozenset[int], skipped: set[FieldPath]) -> list[Problem]:
    """A problem for each character of each field of ``source`` that the fonts lack, at the line where it
    first stands; ``skipped`` are fields that are never printed (pictures' file names)."""
    problems = []
    for path, text in _texts(source.data, ()):
        if path in skipped:
            continue
        seen: set[str] = set()
        for offset, character in enumerate(text):
            if character in seen or printable(character, coverage):
                continue
            seen.add(character)
            line = source.line_of(path)
            if path in source.text_lines:  # a literal block keeps the file's lines
                line = source.text_lines[path] + text.count("\n", 0, offset)
            problems.append(Problem(source.path, line, format_path(path), _message(character)))
    return problems


def _message(character: str) -> str:
    name = unicodedata.name(character, "без названия в Юникоде")
    shown = f"«{character}» " if unicodedata.category(character)[0] not in "CZ" else ""
    instead = SUGGESTED.get(character)
    advice = f"напишите вместо него {instead}" if instead else "замените его или удалите"
    return (f"символа {shown}(U+{ord(character):04X}, {name}) нет в шрифтах книги; "
            f"в PDF он вышел бы пустым квадратом: {advice}")


def _texts(data: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    """Every text of a record's data, with its field path; keys are names the records' schema knows."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _texts(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _texts(value, (*path, index))
