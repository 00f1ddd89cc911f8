"""Reviewers' comments in the Word draft: read with their author and the text they mark, and placed at a field.

A comment is placed by the paragraph its range starts in: the import knows which field that paragraph
belongs to, and the field knows its record's file and line. A comment on generated text (a heading, a
caption the build writes) is placed by the nearest field before it, and says so. Written for python-docx
1.2, whose `Document.comments` reads word/comments.xml; the anchors and the replies (Word's
commentsExtended part) are read from the XML, as python-docx has no API for them. LibreOffice 7.4 keeps
comments, their authors, dates and ranges on saving a .docx, but writes no commentsExtended part: an answer
it saved comes back as a comment of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from lxml import etree

from .book import plural

W_P, W_T = qn("w:p"), qn("w:t")
RANGE_START, RANGE_END, REFERENCE = qn("w:commentRangeStart"), qn("w:commentRangeEnd"), qn("w:commentReference")
W_ID = qn("w:id")
W14_PARA_ID = "{http://schemas.microsoft.com/office/word/2010/wordml}paraId"
W15 = "{http://schemas.microsoft.com/office/word/2012/wordml}"
COMMENTS_EXTENDED = "http://schemas.microsoft.com/office/2011/relationships/commentsExtended"
EXCERPT_LIMIT = 60


@dataclass(frozen=True)
class DraftComment:
    """A comment as the draft holds it, before it is placed at a field."""

    number: str
    """Its w:id, which its anchors in the text share."""
    author: str
    initials: str
    date: dt.datetime | None
    text: str
    excerpt: str
    """The text it marks, shortened; empty for a comment on a point."""
    paragraph: int | None
    """The position, among the body's paragraphs, of the one its range starts in; None if it has no anchor."""
    reply_to: str | None = None
    """The number of the comment it answers (Word's threads)."""
    segment: int | None = None
    """The draft segment (see import_docx) of its paragraph, or of the nearest paragraph before it in one."""
    in_segment: bool = False
    """Whether its paragraph is itself part of that segment."""


@dataclass(frozen=True)
class CommentNote:
    """A comment placed in the records: what the import prints, and what `--comments` writes out."""

    comment: DraftComment
    file: str | None
    """The record file (relative to the edition folder) of the field it is on, or nearest before it."""
    line: int
    field: str
    """The field's path inside the file, as messages name it: ``results[0].caption``."""
    on_field: bool
    """False when the comment is on generated text or text outside the fields; then ``context`` says where."""
    context: str = ""
    replied: str = ""
    """The author of the comment this one answers."""

    @property
    def location(self) -> str:
        """``practices/x.yaml:18 (content)``, or the draft's own words where no field comes before."""
        if self.file is None:
            return f"начало черновика, «{self.context}»" if self.context else "начало черновика"
        place = f"{self.file}:{self.line} ({self.field})"
        return place if self.on_field else f"«{self.context}», после поля {place}"

    def message(self) -> str:
        """The note the import prints, in one line."""
        comment = self.comment
        who = comment.author or "без автора"
        kind = f"ответ {who} на комментарий {self.replied}" if self.replied else f"комментарий {who}"
        where = f"к {self.location}" if self.on_field else f"к тексту вне полей: {self.location}"
        excerpt = f" «{comment.excerpt}»" if comment.excerpt else ""
        return f"{kind} {where}{excerpt}: {' / '.join(comment.text.splitlines()) or '(пустой)'}"


def read_comments(document: Any, paragraphs: Sequence[Any]) -> tuple[DraftComment, ...]:
    """The draft's comments in the order of the text, each with the position of its paragraph in ``paragraphs``
    (the body's own paragraphs, in reading order)."""
    try:  # `document.comments` would add an empty comments part to a draft that has none
        part = document.part.part_related_by(RELATIONSHIP_TYPE.COMMENTS)
    except KeyError:
        return ()
    anchors = _anchors(document.element.body, {paragraph: index for index, paragraph in enumerate(paragraphs)})
    threads = _threads(etree.fromstring(part.blob), _reply_parents(document))
    comments = []
    for comment in document.comments:
        number = str(comment.comment_id)
        position, excerpt = anchors.get(number, (None, ""))
        comments.append(DraftComment(number, comment.author or "", comment.initials or "", comment.timestamp,
                                     comment.text.strip(), excerpt, position, threads.get(number)))
    return tuple(sorted(comments, key=lambda comment: (comment.paragraph is None, comment.paragraph or 0)))


def body_paragraphs(body: Any) -> list[Any]:
    """The body's own paragraphs in reading order, tables' included, those inside text boxes left out."""
    return [paragraph for paragraph in body.iter(W_P) if next(paragraph.iterancestors(W_P), None) is None]


def _threads(comments: Any, parents: dict[str, str]) -> dict[str, str]:
    """For each reply, the number of the comment it answers: Word links them by the id of each comment's
    last paragraph."""
    last_paragraphs = {comment.get(W_ID, ""): _last_paragraph_id(comment) for comment in comments.iter(qn("w:comment"))}
    numbers = {paragraph: number for number, paragraph in last_paragraphs.items() if paragraph}
    return {number: numbers[parents[paragraph]] for number, paragraph in last_paragraphs.items()
            if paragraph in parents and parents[paragraph] in numbers}


def _last_paragraph_id(comment: Any) -> str:
    paragraphs = list(comment.iter(W_P))
    return paragraphs[-1].get(W14_PARA_ID, "") if paragraphs else ""


def _anchors(body: Any, positions: dict[Any, int]) -> dict[str, tuple[int | None, str]]:
    """For each comment number: the paragraph its range starts in, and the text the range marks.

    A comment without a range (a point) is anchored by its reference mark instead.
    """
    starts: dict[str, int | None] = {}
    texts: dict[str, list[str]] = {}
    open_ranges: list[str] = []
    for element in body.iter(W_P, W_T, RANGE_START, RANGE_END, REFERENCE):
        number = element.get(W_ID, "")
        if element.tag == W_P:
            for name in open_ranges:
                if texts[name] and texts[name][-1] != " / ":
                    texts[name].append(" / ")
        elif element.tag == W_T:
            for name in open_ranges:
                texts[name].append(element.text or "")
        elif element.tag == RANGE_START or (element.tag == REFERENCE and number not in starts):
            starts[number] = _position(element, positions)
            if element.tag == RANGE_START:
                open_ranges.append(number)
                texts[number] = []
        elif element.tag == RANGE_END and number in open_ranges:
            open_ranges.remove(number)
    return {number: (position, _short("".join(texts.get(number, [])).strip(" /")))
            for number, position in starts.items()}


def _position(anchor: Any, positions: dict[Any, int]) -> int | None:
    """The paragraph an anchor is in; an anchor between paragraphs belongs to the one after it."""
    outermost = None
    for ancestor in anchor.iterancestors(W_P):
        outermost = ancestor
    if outermost is not None:
        return positions.get(outermost)
    for sibling in anchor.itersiblings():
        paragraph = sibling if sibling.tag == W_P else next(sibling.iter(W_P), None)
        if paragraph is not None:
            return positions.get(paragraph)
    return None


def _reply_parents(document: Any) -> dict[str, str]:
    """For a reply, the paragraph id of the comment it answers, from Word's commentsExtended part."""
    try:
        part = document.part.part_related_by(COMMENTS_EXTENDED)
    except KeyError:
        return {}
    root = etree.fromstring(part.blob)
    return {item.get(f"{W15}paraId"): item.get(f"{W15}paraIdParent")
            for item in root.iter(f"{W15}commentEx") if item.get(f"{W15}paraIdParent")}


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_LIMIT else text[: EXCERPT_LIMIT - 1].rstrip() + "…"


def comments_summary(count: int) -> str:
    """How many comments the draft holds, for the import's last line."""
    return f"в черновике {count} {plural(count, 'комментарий', 'комментария', 'комментариев')} (они выше)"


def comments_markdown(notes: Sequence[CommentNote], draft_name: str) -> str:
    """The comments for the organisers, grouped by record file in the order of the draft."""
    lines = [f"# Комментарии к черновику {draft_name}", ""]
    if not notes:
        lines += ["Комментариев в черновике нет.", ""]
    for file, group in _by_file(notes):
        lines += [f"## {file or 'Начало черновика'}", ""]
        for note in group:
            comment = note.comment
            date = comment.date.strftime("%Y-%m-%d %H:%M") if comment.date else "дата не указана"
            reply = f", ответ на комментарий {note.replied}" if note.replied else ""
            lines.append(f"- **{comment.author or 'без автора'}**, {date}{reply}; {note.location}")
            if comment.excerpt:
                lines.append(f"  > {comment.excerpt}")
                lines.append("")
            lines += [f"  {paragraph}" for paragraph in (comment.text.splitlines() or ["(пустой)"])]
            lines.append("")
    return "\n".join(lines)


def _by_file(notes: Sequence[CommentNote]) -> Iterator[tuple[str | None, list[CommentNote]]]:
    groups: dict[str | None, list[CommentNote]] = {}
    for note in notes:
        groups.setdefault(note.file, []).append(note)
    yield from groups.items()
