"""The way back: read a Word draft that staff edited and turn each changed field into a record edit.

Fields are found by their bookmarks (see draft_fields), which Word and LibreOffice both keep. A
field runs from its bookmark to the next bookmarked paragraph, so items that staff add at its end
belong to it; a paragraph after a generated one belongs to no field and is reported. Lists are
recognised by their numbering format, not by style names: LibreOffice renames custom styles, and
staff make lists with the toolbar as often as with styles.
"""

from __future__ import annotations

import dataclasses
import difflib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import docx
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from lxml import etree

from .draft_comments import CommentNote, DraftComment, body_paragraphs, read_comments
from .draft_fields import (
    FIXED_PREFIX,
    DraftField,
    ParagraphKind,
    Shown,
    draft_fields,
    field_of_bookmark,
    fingerprint,
    sources_digest,
)
from .errors import CompendiumError, Problem, SourceProblems, display_path
from .load import read_yaml
from .markdown_write import merge_prose, to_markdown
from .model import Collection
from .render_docx import EDITION_PROPERTY, EDITION_TITLE_PROPERTY, EDITION_YEARS_PROPERTY, SOURCES_PROPERTY
from .source_edit import edit_yaml

W_P, W_R, W_BOOKMARK = qn("w:p"), qn("w:r"), qn("w:bookmarkStart")
W_FLD_CHAR, W_INSTR = qn("w:fldChar"), qn("w:instrText")
_SKIPPED_CONTAINERS = {qn("w:del"), qn("w:moveFrom")}  # tracked deletions: the import accepts all changes
_FALSE = {"0", "false", "off"}


@dataclass
class Segment:
    """A run of draft paragraphs: one field, one generated paragraph, or text that belongs to neither."""

    kind: Literal["field", "fixed", "stray", "joined"]
    bookmark: str
    paragraphs: list[Shown] = field(default_factory=list)
    after: str = ""
    """The text of the anchor before stray text, to say where it is."""
    marked: int = 0
    """How many of a field's paragraphs run to its last one that carries a mark of the field: those past it
    carry none (typed after the field's last paragraph, or pasted from outside)."""


@dataclass(frozen=True)
class Draft:
    """What a draft holds: where it came from and its paragraphs, grouped by field."""

    edition: str | None
    sources: str | None
    segments: tuple[Segment, ...]
    title: str | None = None
    """The edition's title when the draft was made; drafts made before it was recorded have none."""
    years: str | None = None
    """The edition's years, space-separated («2022 2023»); None in older drafts."""
    comments: tuple[DraftComment, ...] = ()
    """Reviewers' comments, each with the segment it is on."""


@dataclass(frozen=True)
class FieldChange:
    field: DraftField
    value: str | int | tuple[str, ...]


@dataclass(frozen=True)
class ImportPlan:
    """What an import would do: the changes, the conflicts that stop it, and what it leaves alone."""

    changes: tuple[FieldChange, ...]
    conflicts: tuple[Problem, ...]
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    sources_changed: bool
    comments: tuple[CommentNote, ...] = ()
    """Reviewers' comments, placed at the fields they are on: notes, never edits."""


# ---- reading the draft


def read_draft(path: Path) -> Draft:
    """Reads a .docx made by `compendium build` (or re-saved by Word or LibreOffice)."""
    try:
        document = docx.Document(str(path))
    except Exception as error:  # python-docx raises several kinds for a file that is not a .docx
        raise CompendiumError(f"{display_path(path)}: cannot be read as a Word document ({error})") from None
    properties = _custom_properties(document)
    formats = _ListFormats(document)
    segments: list[Segment] = []
    placed: dict[Any, tuple[int, bool]] = {}  # paragraph → its segment, and whether it is part of it
    opened: set[str] = set()  # the fields whose paragraphs began a segment
    for paragraph, bookmarks in _paragraphs(document.element.body):
        shown = Shown(*formats.kind_and_level(paragraph), tuple(_runs(paragraph)))
        fields = list(dict.fromkeys(field for name in bookmarks if (field := field_of_bookmark(name))))
        fixed = [name for name in bookmarks if name.startswith(FIXED_PREFIX)]
        if fields and segments and segments[-1].kind == "field" and (
                segments[-1].bookmark == fields[0] or (fields[0] in opened and len(fields) == 1)):
            # the field's next paragraph, by its own bookmark; or a paragraph of a field before, moved into this
            # one, which takes it (the import's safety check names what left the other field)
            segments[-1].paragraphs.append(shown)
            segments[-1].marked = len(segments[-1].paragraphs)
            segments.extend(Segment("joined", name) for name in fields[1:])
        elif fields:
            opened.add(fields[0])
            segments.append(Segment("field", fields[0], [shown], marked=1))
            segments.extend(Segment("joined", name) for name in fields[1:])
        elif fixed:
            segments.append(Segment("fixed", fixed[0], [shown]))
        elif segments and segments[-1].kind in ("field", "stray"):
            segments[-1].paragraphs.append(shown)
        elif shown.text:
            after = segments[-1].paragraphs[0].text if segments and segments[-1].paragraphs else ""
            segments.append(Segment("stray", "", [shown], after))
        holder = next((index for index in range(len(segments) - 1, -1, -1) if segments[index].paragraphs), None)
        if holder is not None:  # "joined" segments after it hold no paragraphs
            placed[paragraph] = (holder, segments[holder].paragraphs[-1] is shown)
    if not any(segment.kind == "field" for segment in segments):
        raise CompendiumError(f"{display_path(path)}: holds no fields of a compendium draft; import a .docx that "
                              "`compendium build` wrote (it may have been edited and re-saved since)")
    comments = _comments_placed(document, placed)
    return Draft(properties.get(EDITION_PROPERTY), properties.get(SOURCES_PROPERTY), tuple(segments),
                 properties.get(EDITION_TITLE_PROPERTY), properties.get(EDITION_YEARS_PROPERTY), comments)


def _comments_placed(document: Any, placed: dict[Any, tuple[int, bool]]) -> tuple[DraftComment, ...]:
    """The draft's comments, each with the segment of its paragraph, or of the nearest placed one before it
    (a paragraph of the contents, or an empty one after a generated paragraph)."""
    paragraphs = body_paragraphs(document.element.body)
    comments = []
    for comment in read_comments(document, paragraphs):
        position = comment.paragraph
        segment, in_segment = None, False
        while position is not None and position >= 0:
            if paragraphs[position] in placed:
                segment, exact = placed[paragraphs[position]]
                in_segment = exact and position == comment.paragraph
                break
            position -= 1
        comments.append(dataclasses.replace(comment, segment=segment, in_segment=in_segment))
    return tuple(comments)


def _custom_properties(document: Any) -> dict[str, str]:
    try:
        part = document.part.package.part_related_by(RELATIONSHIP_TYPE.CUSTOM_PROPERTIES)
    except KeyError:
        return {}
    root = etree.fromstring(part.blob)
    return {item.get("name"): "".join(item.itertext()) for item in root}


def _paragraphs(body: Any) -> Iterator[tuple[Any, list[str]]]:
    """Body paragraphs in reading order (tables included, the contents left out), each with the
    names of the bookmarks that start in it or just before it."""
    pending: list[str] = []
    current: tuple[Any, list[str]] | None = None
    stack: list[str] = []  # the fields open at this point: the contents is the one named TOC
    for element in body.iter(W_P, W_BOOKMARK):
        if element.tag == W_BOOKMARK:
            owner = _ancestor(element, W_P)
            name = element.get(qn("w:name"), "")
            if current is not None and owner is current[0]:
                current[1].append(name)
            elif owner is None:
                pending.append(name)
            continue
        if _ancestor(element, W_P) is not None:  # a paragraph inside a text box: part of its host
            continue
        if current is not None:
            yield current
        in_contents = "TOC" in stack or _in_contents_control(element)
        stack = _fields_after(element, stack)
        current = None if in_contents or "TOC" in stack else (element, pending)
        pending = []
    if current is not None:
        yield current


def _fields_after(paragraph: Any, stack: list[str]) -> list[str]:
    stack = list(stack)
    for element in paragraph.iter(W_FLD_CHAR, W_INSTR):
        if element.tag == W_INSTR:
            if stack and not stack[-1]:
                stack[-1] = (element.text or "").split()[0].upper() if (element.text or "").split() else ""
            continue
        kind = element.get(qn("w:fldCharType"))
        if kind == "begin":
            stack.append("")
        elif kind == "end" and stack:
            stack.pop()
    return stack


def _in_contents_control(paragraph: Any) -> bool:
    """LibreOffice wraps the contents in a content control of the «Table of Contents» gallery."""
    for sdt in paragraph.iterancestors(qn("w:sdt")):
        gallery = sdt.find(f"{qn('w:sdtPr')}/{qn('w:docPartObj')}/{qn('w:docPartGallery')}")
        if gallery is not None and "Contents" in (gallery.get(qn("w:val")) or ""):
            return True
    return False


def _ancestor(element: Any, tag: str) -> Any:
    return next(element.iterancestors(tag), None)


def _runs(paragraph: Any) -> Iterator[tuple[str, bool]]:
    for run in paragraph.iter(W_R):
        if any(ancestor.tag in _SKIPPED_CONTAINERS for ancestor in _ancestors_until(run, paragraph)):
            continue
        text = "".join(_run_text(child) for child in run)
        if text:
            yield text, _is_bold(run)


def _ancestors_until(element: Any, stop: Any) -> Iterator[Any]:
    for ancestor in element.iterancestors():
        if ancestor is stop:
            return
        yield ancestor


def _run_text(child: Any) -> str:
    tag = child.tag
    if tag == qn("w:t"):
        return child.text or ""
    if tag in (qn("w:tab"), qn("w:br"), qn("w:cr")):
        return " "
    if tag == qn("w:noBreakHyphen"):
        return "-"
    return ""


class _ListFormats:
    """Which paragraphs are list items, and of what kind: from numbering, wherever it is set."""

    def __init__(self, document: Any) -> None:
        self.styles: dict[str, Any] = {
            style.get(qn("w:styleId")): style for style in document.styles.element.findall(qn("w:style"))
        }
        self.formats: dict[str, dict[int, str]] = {}
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return
        abstract = {
            item.get(qn("w:abstractNumId")): {
                int(level.get(qn("w:ilvl"))): _val(level.find(qn("w:numFmt"))) or "decimal"
                for level in item.findall(qn("w:lvl"))
            }
            for item in numbering.findall(qn("w:abstractNum"))
        }
        for num in numbering.findall(qn("w:num")):
            self.formats[num.get(qn("w:numId"))] = abstract.get(_val(num.find(qn("w:abstractNumId"))), {})

    def kind_and_level(self, paragraph: Any) -> tuple[ParagraphKind, int]:
        properties = paragraph.find(qn("w:pPr"))
        style_id = _val(properties.find(qn("w:pStyle"))) if properties is not None else None
        num_id, level = self._numbering(properties)
        for style in self._style_chain(style_id):
            if num_id is None or level is None:
                style_num, style_level = self._numbering(style.find(qn("w:pPr")))
                num_id = num_id if num_id is not None else style_num
                level = level if level is not None else style_level
        if num_id is None or num_id == "0" or num_id not in self.formats:
            names = [_val(style.find(qn("w:name"))) or "" for style in self._style_chain(style_id)]
            return ("continued", 0) if any(name.startswith("List Continue") for name in names) else ("paragraph", 0)
        level = level or 0
        number_format = self.formats[num_id].get(level, "decimal")
        if number_format == "none":
            return "paragraph", 0
        return ("bullet" if number_format == "bullet" else "number"), level

    @staticmethod
    def _numbering(properties: Any) -> tuple[str | None, int | None]:
        numbering = properties.find(qn("w:numPr")) if properties is not None else None
        if numbering is None:
            return None, None
        level = _val(numbering.find(qn("w:ilvl")))
        return _val(numbering.find(qn("w:numId"))), int(level) if level is not None else None

    def _style_chain(self, style_id: str | None) -> Iterator[Any]:
        seen: set[str] = set()
        while style_id and style_id in self.styles and style_id not in seen:
            seen.add(style_id)
            style = self.styles[style_id]
            yield style
            style_id = _val(style.find(qn("w:basedOn")))


def _val(element: Any) -> str | None:
    return element.get(qn("w:val")) if element is not None else None


def _is_bold(run: Any) -> bool:
    properties = run.find(qn("w:rPr"))
    if properties is None:
        return False
    bold = properties.find(qn("w:b"))
    if bold is not None:
        return (bold.get(qn("w:val")) or "true").lower() not in _FALSE
    style = _val(properties.find(qn("w:rStyle")))
    return style in ("Strong", "StrongEmphasis")


# ---- deciding what changed


def plan_import(draft: Draft, collection: Collection, force: bool = False) -> ImportPlan:
    """Compares every field of the draft with what it showed when made, and with the records now."""
    fields = draft_fields(collection)
    changes: list[FieldChange] = []
    conflicts: list[Problem] = []
    problems: list[Problem] = []
    notes: list[str] = []
    seen: set[str] = set()
    for index, segment in enumerate(draft.segments):
        if segment.kind == "field" and (between := _between_fields(segment, draft.segments[index + 1:], fields)):
            problems.append(between)
            continue
        if segment.kind == "stray":
            notes.append(f"text outside any field is not imported: «{_preview(segment.paragraphs)}»"
                         + (f" (after «{_short(segment.after)}»)" if segment.after else ""))
            continue
        if segment.kind == "fixed":
            exported = segment.bookmark.rsplit("_", 1)[-1]
            if fingerprint("line", segment.paragraphs) != exported:
                notes.append(f"generated text was changed and is not imported: «{_preview(segment.paragraphs)}»; "
                             "change the record it comes from instead")
            continue
        key, exported = _field_bookmark(segment.bookmark)
        draft_field = fields.get(key)
        if draft_field is None:
            notes.append(f"a field the records no longer have is not imported: «{_preview(segment.paragraphs)}»")
            continue
        if segment.kind == "joined" or key in seen:
            problems.append(_problem(draft_field, "was joined with the field before it into one paragraph in "
                                     "the draft; split them again (Enter) and import again"))
            continue
        seen.add(key)
        paragraphs = [paragraph for paragraph in segment.paragraphs if paragraph.text]
        in_draft = fingerprint(draft_field.kind, paragraphs)
        if in_draft == exported:
            continue
        in_sources = fingerprint(draft_field.kind, draft_field.shown)
        if in_sources == in_draft:
            continue  # the records already say what the draft says
        if in_sources != exported and not force:
            conflicts.append(_problem(draft_field, "changed both in the records and in the draft since the draft "
                                      "was made; merge by hand, or import with --force to take the draft's text"))
            continue
        if in_sources != exported:
            notes.append(f"{draft_field.name}: изменено и в записях, и в черновике; взят текст черновика, "
                         "как велит --force")
        try:
            changes.append(FieldChange(draft_field, new_value(draft_field, paragraphs)))
        except ValueError as error:
            problems.append(_problem(draft_field, str(error)))
    missing = [f for key, f in fields.items() if key not in seen]
    notes.extend(f"{f.name}: not in the draft (deleted there, or added to the records later); left as it is"
                 for f in missing)
    return ImportPlan(tuple(changes), tuple(conflicts), tuple(problems), tuple(notes),
                      sources_changed=draft.sources != sources_digest(collection.directory),
                      comments=place_comments(draft, fields))


def place_comments(draft: Draft, fields: dict[str, DraftField]) -> tuple[CommentNote, ...]:
    """Each comment at its field's record file and line; one on generated text at the nearest field before it."""
    lines: dict[str, int] = {}
    notes = []
    replied = {comment.number: comment.author or "без автора" for comment in draft.comments}
    for comment in draft.comments:
        segment = draft.segments[comment.segment] if comment.segment is not None else None
        on_field = segment is not None and segment.kind == "field" and comment.in_segment
        context = "" if on_field or segment is None or not comment.in_segment else _preview(segment.paragraphs)
        nearest = _field_before(draft, comment.segment, fields)
        if nearest is None:
            notes.append(CommentNote(comment, None, 0, "", False, context or comment.excerpt,
                                     replied.get(comment.reply_to or "", "")))
            continue
        if nearest.key not in lines:
            source, _ = read_yaml(nearest.file)
            lines[nearest.key] = source.line_of(nearest.path) if source else 0
        notes.append(CommentNote(comment, nearest.relative, lines[nearest.key], nearest.name.split(": ", 1)[1],
                                 on_field and nearest is _segment_field(segment, fields), context or comment.excerpt,
                                 replied.get(comment.reply_to or "", "")))
    return tuple(notes)


def _field_before(draft: Draft, index: int | None, fields: dict[str, DraftField]) -> DraftField | None:
    """The field of segment ``index``, or of the nearest field segment before it."""
    for segment in reversed(draft.segments[: index + 1] if index is not None else ()):
        found = _segment_field(segment, fields)
        if found is not None:
            return found
    return None


def _segment_field(segment: Segment | None, fields: dict[str, DraftField]) -> DraftField | None:
    if segment is None or segment.kind != "field":
        return None
    return fields.get(_field_bookmark(segment.bookmark)[0])


MANY_PARAGRAPHS = ("prose", "lines")
"""The kinds of field that hold more than one paragraph."""


def _between_fields(segment: Segment, following: Sequence[Segment], fields: dict[str, DraftField]) -> Problem | None:
    """A problem when text with no field's mark stands after a field's last marked paragraph and right before
    another field, both of which hold several paragraphs: it may be either's, and the import does not guess."""
    loose = [paragraph for paragraph in segment.paragraphs[segment.marked:] if paragraph.text]
    after = next((other for other in following if other.kind != "joined"), None)
    if not loose or after is None or after.kind != "field":
        return None
    this, that = fields.get(_field_bookmark(segment.bookmark)[0]), fields.get(_field_bookmark(after.bookmark)[0])
    if this is None or that is None or this.kind not in MANY_PARAGRAPHS or that.kind not in MANY_PARAGRAPHS:
        return None
    return _problem(this, f"абзац «{_short(loose[0].text)}» стоит в черновике между этим полем и полем "
                          f"{that.name} и не несёт метки ни одного из них: нельзя понять, чей он. Перенесите его "
                          "внутрь нужного поля, перед его последним абзацем, и импортируйте снова")


def _field_bookmark(name: str) -> tuple[str, str]:
    _, key, exported = name.split("_", 2)
    return key, exported[:10]


def _problem(draft_field: DraftField, message: str) -> Problem:
    source, _ = read_yaml(draft_field.file)
    line = source.line_of(draft_field.path) if source else 0
    return Problem(display_path(draft_field.file), line, draft_field.name.split(": ", 1)[1], message)


def _preview(paragraphs: Sequence[Shown]) -> str:
    return _short(" / ".join(paragraph.text for paragraph in paragraphs if paragraph.text))


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def new_value(draft_field: DraftField, paragraphs: Sequence[Shown]) -> str | int | tuple[str, ...]:
    """The record's new value from the field's paragraphs in the draft; ValueError says what is wrong."""
    kind = draft_field.kind
    if kind == "lines":
        items = tuple(paragraph.text for paragraph in paragraphs)
        if not items:
            raise ValueError("is empty in the draft; expected at least one item")
        return items
    if kind == "prose":
        if not paragraphs:
            raise ValueError("is empty in the draft; expected text")
        assert not isinstance(draft_field.value, (str, int, tuple))
        return merge_prose(draft_field.value.source, draft_field.shown, paragraphs)
    if len(paragraphs) != 1:
        found = "nothing" if not paragraphs else f"{len(paragraphs)} paragraphs"
        raise ValueError(f"is one paragraph, but the draft has {found} there; join them or move the extra text")
    paragraph = paragraphs[0]
    if kind == "count":
        digits = paragraph.text.replace(" ", "")
        if not digits.isdigit() or int(digits) == 0:
            raise ValueError(f"expected a whole number above zero, got «{paragraph.text}»")
        return int(digits)
    if kind == "rich":
        return to_markdown(paragraph.marked(typeset=False))
    return paragraph.text


# ---- applying


@dataclass(frozen=True)
class FileEdit:
    path: Path
    before: str
    after: str

    def diff(self) -> str:
        shown = str(display_path(self.path))
        return "".join(difflib.unified_diff(self.before.splitlines(True), self.after.splitlines(True),
                                            f"a/{shown}", f"b/{shown}"))


def file_edits(plan: ImportPlan) -> list[FileEdit]:
    """The new text of every record file the plan changes."""
    by_file: dict[Path, list[FieldChange]] = {}
    for change in plan.changes:
        by_file.setdefault(change.field.file, []).append(change)
    edits = []
    for path, changes in by_file.items():
        before = path.read_text(encoding="utf-8")
        after = edit_yaml(before, [(change.field.path, change.value) for change in changes],
                          str(display_path(path)))
        edits.append(FileEdit(path, before, after))
    return edits


def check_edits(edits: Sequence[FileEdit], collection: Collection, load: Any) -> None:
    """Loads the edition with the edits applied, in a scratch copy; raises SourceProblems if it is not valid."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / collection.directory.name
        shutil.copytree(collection.directory, copy)
        for edit in edits:
            (copy / edit.path.relative_to(collection.directory)).write_text(edit.after, encoding="utf-8")
        try:
            load(copy)
        except SourceProblems as error:
            raise SourceProblems([
                Problem(display_path(collection.directory / Path(problem.file).resolve().relative_to(copy.resolve())),
                        problem.line, problem.field, problem.message)
                for problem in error.problems
            ]) from None
