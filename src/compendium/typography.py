"""Russian typography, shared by the PDF and the Word draft.

Quotes become «ёлочки» with „лапки“ nested inside; a dash between words becomes an em dash bound to
the word before it; short words, abbreviations and numbers are bound to the word that follows;
numbers of five digits or more are grouped. Hyphenation is left to the renderer (CSS ``hyphens``,
Word's auto-hyphenation), which knows the line width.

Text often arrives split into runs (plain and bold); every rule is decided on the runs joined
together, so a quote opened in a bold run is closed correctly in a plain one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

NBSP = "\u00a0"
EM_DASH = "\u2014"
EN_DASH = "\u2013"

_QUOTES = "«»„“”\""
_OPENING_CONTEXT = set(" \u00a0\t\n([{/" + EM_DASH + EN_DASH + "-«„")

Replacement = str | Callable[[re.Match[str]], str]

# Each rule is applied to the whole paragraph, in this order.
_NUMBER_RANGE = (re.compile(r"(?<=\d)\s*[-–]\s*(?=\d)"), EN_DASH)
_SPACE_BEFORE_PUNCTUATION = (re.compile(r"(?<=[^\s\d]) +(?=[,.;:!?](?:\s|$))"), "")
_GROUPED_DIGITS = (re.compile(r"(?<=\d) (?=\d{3}(?!\d))"), NBSP)
_LONG_INTEGER = (re.compile(r"(?<![\d,.])\d{5,}"), lambda match: _group_digits(match.group()))
_SPACED_DASH = (re.compile(r"(?<=\S)[ \u00a0][-–—](?= )"), NBSP + EM_DASH)
_SHORT_WORD = (re.compile(r"(?<![\w\-])(\w{1,2}) "), lambda match: match.group(1) + NBSP)
_ABBREVIATION = (
    re.compile(r"(?<![\w\-])(г|гг|п|д|с|т|ул|им|тыс|млн|млрд|руб|см|рис|№)\.? (?=\S)", re.IGNORECASE),
    lambda match: match.group()[:-1] + NBSP,
)
_NUMBER_BEFORE_WORD = (re.compile(r"(?<=\d) (?=\S)"), NBSP)
_RULES: tuple[tuple[re.Pattern[str], Replacement], ...] = (
    _NUMBER_RANGE, _SPACE_BEFORE_PUNCTUATION, _GROUPED_DIGITS, _LONG_INTEGER,
    _SPACED_DASH, _SHORT_WORD, _ABBREVIATION, _NUMBER_BEFORE_WORD,
)


def typeset(text: str) -> str:
    """Applies Russian typography to one piece of text."""
    return typeset_runs([text])[0]


def typeset_runs(runs: Sequence[str]) -> list[str]:
    """Applies Russian typography to consecutive runs of one paragraph, keeping the run boundaries.

    The rules see the paragraph whole; every character remembers its run, and text a rule puts
    in place of a match goes to the run where the match began.
    """
    return list(_typeset_runs(tuple(runs)))


@lru_cache(maxsize=1 << 16)  # a build typesets each text for the screen, for print and for the draft
def _typeset_runs(runs: tuple[str, ...]) -> tuple[str, ...]:
    text = _quotes("".join(runs))
    if len(runs) == 1:  # most text is a single run: no boundaries to keep, a third of the time
        for pattern, replacement in _RULES:
            text = pattern.sub(replacement, text)
        return (text,)
    owners = [index for index, run in enumerate(runs) for _ in run]
    for pattern, replacement in _RULES:
        text, owners = _substitute(text, owners, pattern, replacement)
    result = [""] * len(runs)
    for character, owner in zip(text, owners, strict=True):
        result[owner] += character
    return tuple(result)


def _substitute(text: str, owners: list[int], pattern: re.Pattern[str], replacement: Replacement
                ) -> tuple[str, list[int]]:
    pieces: list[str] = []
    new_owners: list[int] = []
    position = 0
    for match in pattern.finditer(text):
        start, end = match.span()
        new = replacement if isinstance(replacement, str) else replacement(match)
        pieces.append(text[position:start])
        new_owners.extend(owners[position:start])
        pieces.append(new)
        new_owners.extend([owners[start] if start < len(owners) else owners[-1]] * len(new))
        position = end
    pieces.append(text[position:])
    new_owners.extend(owners[position:])
    return "".join(pieces), new_owners


def _group_digits(digits: str) -> str:
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return NBSP.join(groups)


def _quotes(text: str) -> str:
    """Decides each quote mark's direction from its context and its depth from the marks before."""
    characters = list(text)
    depth = 0
    for index, character in enumerate(characters):
        if character not in _QUOTES:
            continue
        before = characters[index - 1] if index else " "
        opening = character in "«„" or (character in "“\"" and before in _OPENING_CONTEXT)
        if opening:
            depth += 1
            characters[index] = "«" if depth == 1 else "„"
        else:
            characters[index] = "»" if depth <= 1 else "“"
            depth = max(0, depth - 1)
    return "".join(characters)
