"""Russian typography, shared by the PDF and the Word draft.

Quotes become «ёлочки» with „лапки“ nested inside; a dash between words becomes an em dash bound to
the word before it; short words, abbreviations and numbers are bound to the word that follows;
numbers of five digits or more are grouped. Hyphenation is left to the renderer (CSS ``hyphens``,
Word's auto-hyphenation), which knows the line width.

Text often arrives split into runs (plain and bold); quotes and spaces are decided on the runs
joined together, so a quote opened in a bold run is closed correctly in a plain one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

NBSP = "\u00a0"
EM_DASH = "\u2014"
EN_DASH = "\u2013"

_QUOTES = "«»„“”\""
_OPENING_CONTEXT = set(" \u00a0\t\n([{/" + EM_DASH + EN_DASH + "-«„")

# Changes that alter a run's length; each run is its own unit here.
_NUMBER_RANGE = re.compile(r"(?<=\d)\s*[-–]\s*(?=\d)")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"(?<=[^\s\d]) +(?=[,.;:!?](?:\s|$))")
_LONG_INTEGER = re.compile(r"(?<![\d,.])\d{5,}")
_GROUPED_DIGITS = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")

# Changes that keep the length; they run on all runs joined.
_SPACED_DASH = re.compile(r"(?<=\S)[ \u00a0][-–—](?= )")
_SHORT_WORD = re.compile(r"(?<![\w\-])(\w{1,2}) ", re.UNICODE)
_ABBREVIATION = re.compile(r"(?<![\w\-])(г|гг|п|д|с|т|ул|им|тыс|млн|млрд|руб|см|рис|№)\.? (?=\S)", re.IGNORECASE)
_NUMBER_BEFORE_WORD = re.compile(r"(?<=\d) (?=\S)")


def typeset(text: str) -> str:
    """Applies Russian typography to one piece of text."""
    return typeset_runs([text])[0]


def typeset_runs(runs: Sequence[str]) -> list[str]:
    """Applies Russian typography to consecutive runs of one paragraph, keeping the run boundaries."""
    prepared = [_per_run(run) for run in runs]
    joined = _joined("".join(prepared))
    result, position = [], 0
    for run in prepared:
        result.append(joined[position : position + len(run)])
        position += len(run)
    return result


def _per_run(text: str) -> str:
    text = _NUMBER_RANGE.sub(EN_DASH, text)
    text = _SPACE_BEFORE_PUNCTUATION.sub("", text)
    text = _GROUPED_DIGITS.sub(NBSP, text)
    return _LONG_INTEGER.sub(lambda match: _group_digits(match.group()), text)


def _group_digits(digits: str) -> str:
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return NBSP.join(groups)


def _joined(text: str) -> str:
    text = _quotes(text)
    text = _SPACED_DASH.sub(NBSP + EM_DASH, text)
    text = _SHORT_WORD.sub(lambda match: match.group(1) + NBSP, text)
    text = _ABBREVIATION.sub(lambda match: match.group()[:-1] + NBSP, text)
    return _NUMBER_BEFORE_WORD.sub(NBSP, text)


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
