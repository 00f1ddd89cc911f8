"""The editable fields of the Word draft: where each lives in the sources and what it shows.

The exporter marks every field with a bookmark named after it; the importer finds the field by that
name and compares what the draft shows now with what it showed when it was made. Both sides reduce
a field to the same `Shown` paragraphs, so "unchanged" means "reads the same after typography",
whatever non-breaking spaces or quote marks the word processor kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .load import FieldPath, format_path
from .model import Collection, Figure, Prose, ResultText, RichLine, Statement
from .prose import Block, BulletList, Paragraph, Span
from .typography import typeset_runs

FieldKind = Literal["line", "rich", "prose", "lines", "count"]
"""line: plain text; rich: one paragraph with bold; prose: Markdown; lines: a list of plain texts; count: a number."""
ParagraphKind = Literal["paragraph", "bullet", "number", "continued"]

FIELD_PREFIX = "cf_"
_FIELD_BOOKMARK = re.compile(rf"{FIELD_PREFIX}[0-9a-f]{{12}}_[0-9a-f]{{10}}")
FIXED_PREFIX = "cx_"
BOLD_ON, BOLD_OFF = "\x02", "\x03"


@dataclass(frozen=True)
class Shown:
    """One paragraph as a reader sees it: its list role, its depth and its text with bold marked."""

    kind: ParagraphKind
    level: int
    runs: tuple[tuple[str, bool], ...]

    def marked(self, typeset: bool = True) -> str:
        """The text with bold runs between BOLD_ON and BOLD_OFF, spaces normalised.

        With ``typeset``, Russian typography is applied first, so that the draft's text (already
        typeset) and a record's text (not yet) compare equal when they read the same.
        """
        texts = [plain_spaces(text) for text, _ in self.runs]
        if typeset:
            texts = [plain_spaces(text) for text in typeset_runs(texts)]
        joined = "".join(
            f"{BOLD_ON}{text}{BOLD_OFF}" if bold else text for text, (_, bold) in zip(texts, self.runs, strict=True)
        )
        return _tidy_marks(joined)

    @property
    def text(self) -> str:
        return self.marked(typeset=False).replace(BOLD_ON, "").replace(BOLD_OFF, "")


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007]+")


def plain_spaces(text: str) -> str:
    """Non-breaking and other special spaces become plain ones; soft hyphens and zero-width marks go."""
    return _SPACES.sub(" ", text.translate(_INVISIBLE))


def _tidy_marks(text: str) -> str:
    # bold that starts or ends with a space means the same as bold around the word alone
    previous = None
    while previous != text:
        previous = text
        text = (text.replace(BOLD_OFF + BOLD_ON, "").replace(BOLD_ON + BOLD_OFF, "")
                .replace(BOLD_ON + " ", " " + BOLD_ON).replace(" " + BOLD_OFF, BOLD_OFF + " ").replace("  ", " "))
    return text.strip()


@dataclass(frozen=True)
class DraftField:
    """A value in the sources that the draft lets staff edit."""

    file: Path
    """The YAML file."""
    relative: str
    """The file relative to the edition folder, as the key and messages name it."""
    path: FieldPath
    """Where the value sits inside the file."""
    kind: FieldKind
    value: Prose | RichLine | str | tuple[str, ...] | int

    @property
    def name(self) -> str:
        """The field for messages: ``practices/anuchinsky.yaml: results[0].caption``."""
        return f"{self.relative}: {format_path(self.path)}"

    @property
    def key(self) -> str:
        """A short stable id: Word allows bookmark names of 40 characters at most."""
        return hashlib.sha1(f"{self.relative}#{format_path(self.path)}".encode()).hexdigest()[:12]

    @property
    def shown(self) -> tuple[Shown, ...]:
        return shown_of_value(self.kind, self.value)

    @property
    def bookmark(self) -> str:
        """The anchor the exporter writes: the field's key and a fingerprint of what it shows."""
        return f"{FIELD_PREFIX}{self.key}_{fingerprint(self.kind, self.shown)}"


def paragraph_bookmark(field_bookmark: str, number: int) -> str:
    """The bookmark of a field's paragraph ``number`` (from 1): the field's own on the first, the field's with
    the number on the others, so that every paragraph names its field wherever staff move it."""
    return field_bookmark if number == 1 else f"{field_bookmark}_{number}"


def field_of_bookmark(name: str) -> str | None:
    """The field's bookmark that a paragraph's bookmark names: its own, a paragraph's of it (``…_2``), or one
    that Writer renamed on a paste (``…_Copy_1``); None for any other bookmark."""
    found = _FIELD_BOOKMARK.match(name)
    return found[0] if found else None


def fingerprint(kind: FieldKind, shown: Sequence[Shown]) -> str:
    """What a field shows, reduced to 10 hex digits; layout-only differences do not count."""
    if kind == "prose":
        parts = [f"{paragraph.kind}:{paragraph.level}:{paragraph.marked()}" for paragraph in shown]
    elif kind == "rich":
        parts = [paragraph.marked() for paragraph in shown]
    else:  # plain fields cannot hold bold, so bold in the draft is no change
        parts = [_unmarked(paragraph.marked()) for paragraph in shown]
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:10]


def fixed_bookmark(index: int, text: str) -> str:
    """The anchor of a generated paragraph: its position and a fingerprint of its text."""
    shown = (Shown("paragraph", 0, ((text, False),)),)
    return f"{FIXED_PREFIX}{index:04d}_{fingerprint('line', shown)}"


def _unmarked(text: str) -> str:
    return text.replace(BOLD_ON, "").replace(BOLD_OFF, "")


def shown_of_value(kind: FieldKind, value: Prose | RichLine | str | tuple[str, ...] | int) -> tuple[Shown, ...]:
    """The paragraphs a record's value becomes in the draft."""
    if isinstance(value, Prose):
        return tuple(_shown_blocks(value.blocks, level=0))
    if isinstance(value, RichLine):
        return (Shown("paragraph", 0, _runs(value.spans)),)
    if isinstance(value, tuple):
        return tuple(Shown("number", 0, ((item, False),)) for item in value)
    return (Shown("paragraph", 0, ((str(value), False),)),)


def _runs(spans: tuple[Span, ...]) -> tuple[tuple[str, bool], ...]:
    return tuple((span.text, span.bold) for span in spans)


def _shown_blocks(blocks: Sequence[Block], level: int, item_kind: ParagraphKind | None = None) -> Iterator[Shown]:
    for block in blocks:
        if isinstance(block, Paragraph):
            yield Shown(item_kind or "paragraph", level if item_kind else 0, _runs(block.spans))
            item_kind = "continued" if item_kind else None
        else:
            kind: ParagraphKind = "bullet" if isinstance(block, BulletList) else "number"
            depth = level + 1 if item_kind else level
            for item in block.items:
                yield from _shown_blocks(item.blocks, depth, kind)


def draft_fields(collection: Collection) -> dict[str, DraftField]:
    """Every editable field of an edition, by key, in the order the draft shows them."""
    directory = collection.directory
    fields: list[DraftField] = []

    def add(relative: str, path: FieldPath, kind: FieldKind, value: Prose | RichLine | str | tuple[str, ...] | int
            ) -> None:
        fields.append(DraftField(directory / relative, relative, path, kind, value))

    edition = collection.edition
    add("edition.yaml", ("title",), "line", edition.title)
    add("edition.yaml", ("contest",), "line", edition.contest)
    add("edition.yaml", ("preface",), "prose", edition.preface)
    add("edition.yaml", ("about",), "prose", edition.about)
    for index, organisation in enumerate(edition.organisers):
        add("edition.yaml", ("organisers", index, "name"), "line", organisation.name)
    for index, organisation in enumerate(edition.supporters):
        add("edition.yaml", ("supporters", index, "name"), "line", organisation.name)
    for index, foreword in enumerate(collection.forewords):
        add("forewords.yaml", ("forewords", index, "text"), "prose", foreword.text)
        add("forewords.yaml", ("forewords", index, "author"), "line", foreword.author)
        add("forewords.yaml", ("forewords", index, "position"), "line", foreword.position)
    geography = collection.geography
    add("geography.yaml", ("title",), "line", geography.title)
    for index, region in enumerate(geography.regions):
        add("geography.yaml", ("regions", index, "name"), "line", region.name)
        for number, municipality in enumerate(region.municipalities):
            add("geography.yaml", ("regions", index, "municipalities", number, "name"), "line", municipality.name)
    rules = collection.rules
    add("rules.yaml", ("title",), "line", rules.title)
    add("rules.yaml", ("text",), "prose", rules.text)
    add("rules.yaml", ("criteria_intro",), "line", rules.criteria_intro)
    add("rules.yaml", ("criteria",), "lines", rules.criteria)
    if rules.footnote:
        add("rules.yaml", ("footnote",), "line", rules.footnote)
    for practice in collection.practices:
        relative = f"practices/{collection.locations[practice.id].file.name}"
        add(relative, ("municipality",), "line", practice.municipality)
        add(relative, ("region",), "line", practice.region)
        add(relative, ("title",), "line", practice.title)
        if practice.quote:
            add(relative, ("quote", "text"), "prose", practice.quote.text)
            add(relative, ("quote", "author"), "line", practice.quote.author)
            add(relative, ("quote", "position"), "line", practice.quote.position)
        for name in ("content", "prerequisites", "actions"):
            add(relative, (name,), "prose", getattr(practice, name))
        for index, result in enumerate(practice.results):
            if isinstance(result, Figure):
                add(relative, ("results", index, "figure"), "rich", result.figure)
                add(relative, ("results", index, "caption"), "rich", result.caption)
            elif isinstance(result, Statement):
                add(relative, ("results", index, "statement"), "rich", result.statement)
            elif isinstance(result, ResultText):
                add(relative, ("results", index, "text"), "prose", result.text)
        add(relative, ("participants", "count"), "count", practice.participants.count)
        add(relative, ("participants", "noun"), "line", practice.participants.noun)
    return {field.key: field for field in fields}


def sources_digest(directory: Path) -> str:
    """A short digest of an edition's records: which version of them a draft was made from."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.yaml")):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
