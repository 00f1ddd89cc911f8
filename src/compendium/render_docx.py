"""Stage 5: the Word draft for staff, in the order of the book, on the styles of layouts/docx/reference.docx.

Code names styles and never formats a run by hand, so staff (or a designer) can restyle the draft
in Word. Every editable value is a field: its paragraphs begin at a bookmark named after the field
(see draft_fields), which both Word and LibreOffice keep on re-save; every generated paragraph
(labels, badges, headings made from fixed words) begins at a bookmark of its own, so that the
importer can tell a field's new paragraphs from text typed between fields.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import docx
from docx.document import Document
from docx.enum.text import WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml.ns import NamespacePrefixedTag, qn
from docx.oxml.parser import oxml_parser
from docx.oxml.text.run import _RunContentAppender
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Emu, Length
from docx.styles.style import BaseStyle
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from .book import Book, award_label, result_groups
from .draft_fields import DraftField, Shown, draft_fields, fixed_bookmark, paragraph_bookmark
from .model import Collection, Figure, Practice, ResultText, Statement
from .paths import ProjectPaths
from .typography import typeset, typeset_runs

REFERENCE = Path("docx") / "reference.docx"
CUSTOM_PROPERTIES_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CUSTOM_PROPERTIES_FORMAT = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
EDITION_PROPERTY = "compendium.edition"
SOURCES_PROPERTY = "compendium.sources"
EDITION_TITLE_PROPERTY = "compendium.edition.title"
EDITION_YEARS_PROPERTY = "compendium.edition.years"
"""The edition's title and years, so that an import can name the edition a draft comes from and refuse another's."""

BULLET_STYLES = ("ListBullet", "ListBullet2", "ListBullet3")
NUMBER_STYLES = ("ListNumber", "ListNumber2", "ListNumber3")
NUMBERS_ABSTRACT_ID = 1  # the decimal list definition in the reference template
FIGURES_PER_ROW = 3
_PARAGRAPH, _VALUE, _PRESERVE_SPACE = qn("w:p"), qn("w:val"), qn("xml:space")


@dataclass(frozen=True)
class DraftHeading:
    """A heading the contents lists: its level, text, the bookmark it links to, and its PDF page."""

    level: int
    text: str
    bookmark: str
    page: int | None


class DraftWriter:
    """Appends the book's parts to a document opened from the reference template."""

    def __init__(self, document: Document, fields: Mapping[str, DraftField]) -> None:
        self.document = document
        self.styles: dict[str, BaseStyle] = {style.style_id: style for style in document.styles}
        self.default_ids: dict[str, bool] = {}
        self.fields_by_place = {(field.relative, field.path): field for field in fields.values()}
        self.headings: list[DraftHeading] = []
        self.next_bookmark_id = 1
        self.next_fixed = 1
        section = document.sections[0]
        self.text_width: int = section.page_width - section.left_margin - section.right_margin
        self._body_end = document.element.body.sectPr

    # ---- styles and bookmarks

    def style(self, style_id: str) -> BaseStyle:
        return self.styles[style_id]

    def set_style(self, element: BaseOxmlElement, style_id: str) -> None:
        """What ``item.style = …`` does to a new paragraph or run (``<w:p>``, ``<w:r>``), without python-docx
        looking up the default style and searching where the properties go each time (most of a long draft's
        time): the default is named by leaving the style out."""
        style = self.style(style_id)
        if style_id not in self.default_ids:
            self.default_ids[style_id] = style == self.document.styles.default(style.type)
        paragraph = element.tag == _PARAGRAPH
        properties = _element("w:pPr" if paragraph else "w:rPr")
        element.insert(0, properties)  # a new item's properties come first and hold nothing else
        if not self.default_ids[style_id]:
            properties.append(_element("w:pStyle" if paragraph else "w:rStyle", {_VALUE: style_id}))

    def _bookmark(self, paragraph: Paragraph, name: str) -> int:
        bookmark_id = self.next_bookmark_id
        self.next_bookmark_id += 1
        start = _element("w:bookmarkStart")
        start.set(qn("w:id"), str(bookmark_id))
        start.set(qn("w:name"), name)
        p = paragraph._p
        p.insert(1 if p.pPr is not None else 0, start)
        return bookmark_id

    def _close_bookmark(self, paragraph: Paragraph, bookmark_id: int) -> None:
        end = _element("w:bookmarkEnd")
        end.set(qn("w:id"), str(bookmark_id))
        paragraph._p.append(end)

    # ---- paragraphs

    def paragraph(self, style_id: str, runs: Sequence[tuple[str, bool]] = (), container: _Cell | None = None,
                  plain_style: str | None = None) -> Paragraph:
        """A paragraph of typeset runs; bold runs take the Strong character style, the others ``plain_style``."""
        paragraph = container.add_paragraph() if container else self.add_paragraph()
        self.set_style(paragraph._p, style_id)
        texts = typeset_runs([text for text, _ in runs])
        for text, (_, bold) in zip(texts, runs, strict=True):
            if text:
                run = _element("w:r")
                paragraph._p.append(run)
                if bold or plain_style:
                    self.set_style(run, "Strong" if bold else str(plain_style))
                _add_text(run, text)
        return paragraph

    def add_paragraph(self) -> Paragraph:
        """What ``document.add_paragraph()`` does, without python-docx searching the whole body for its end
        each time, which made a long draft's writing grow with the square of its length."""
        element = _element("w:p")
        self._body_end.addprevious(element)
        return Paragraph(element, self.document._body)

    def fixed(self, style_id: str, text: str, container: _Cell | None = None, link: str | None = None) -> Paragraph:
        """A generated paragraph: not imported back, and marked so that edits to it can be reported.

        With ``link``, the text is a hyperlink to that address.
        """
        paragraph = self.paragraph(style_id, [] if link else [(text, False)], container)
        if link:
            _hyperlink(self, paragraph, text, url=link)
        shown_text = "".join(node.text or "" for node in paragraph._p.iter(qn("w:t")))
        bookmark_id = self._bookmark(paragraph, fixed_bookmark(self.next_fixed, shown_text))
        self.next_fixed += 1
        self._close_bookmark(paragraph, bookmark_id)
        return paragraph

    def heading(self, level: int, text: str, page: int | None, style_id: str | None = None) -> Paragraph:
        paragraph = self.fixed(style_id or f"Heading{level}", text)
        self._remember_heading(level, paragraph, page)
        return paragraph

    def _remember_heading(self, level: int, paragraph: Paragraph, page: int | None) -> None:
        bookmark = paragraph._p.find(qn("w:bookmarkStart")).get(qn("w:name"))
        self.headings.append(DraftHeading(level, paragraph.text, bookmark, page))

    def field(self, relative: str, path: tuple[str | int, ...], style_id: str, container: _Cell | None = None,
              heading: tuple[int, int | None] | None = None) -> list[Paragraph]:
        """An editable value: its paragraphs, each carrying a bookmark of its own, the field's name and, past the
        first, its number (`draft_fields.paragraph_bookmark`). A bookmark spanning paragraphs does not survive
        LibreOffice: saved twice, it keeps only the last paragraph (docs/word-round-trip.md)."""
        field = self.fields_by_place[(relative, path)]
        paragraphs = [
            self._shown_paragraph(shown, style_id, container, field.kind in ("prose", "lines"))
            for shown in field.shown
        ]
        self._restart_numbering(paragraphs, field.shown)
        for number, paragraph in enumerate(paragraphs, start=1):
            self._close_bookmark(paragraph, self._bookmark(paragraph, paragraph_bookmark(field.bookmark, number)))
        if heading:
            self._remember_heading(heading[0], paragraphs[0], heading[1])
        return paragraphs

    def _shown_paragraph(self, shown: Shown, style_id: str, container: _Cell | None, as_list: bool) -> Paragraph:
        if as_list and shown.kind == "bullet":
            style_id = BULLET_STYLES[min(shown.level, 2)]
        elif as_list and shown.kind == "number":
            style_id = NUMBER_STYLES[min(shown.level, 2)]
        elif shown.kind == "continued":
            style_id = "ListContinue"
        # a figure like «в **1,3** раза»: the number big, the words around it at text size, as in the PDF
        words_style = "FigureWords" if style_id == "FigureValue" and any(bold for _, bold in shown.runs) else None
        return self.paragraph(style_id, shown.runs, container, words_style)

    def _restart_numbering(self, paragraphs: Sequence[Paragraph], shown: Sequence[Shown]) -> None:
        """Each numbered list of a field counts from 1: a new list instance per run of numbered items."""
        current: dict[int, int] = {}  # level -> numId of the list running at that level
        for paragraph, item in zip(paragraphs, shown, strict=True):
            if item.kind == "paragraph":
                current.clear()
                continue
            for deeper in [level for level in current if level > item.level]:
                del current[deeper]  # a new parent item starts its sub-lists afresh
            if item.kind == "bullet":
                current.pop(item.level, None)  # a bullet list at this level ends the numbered one
            if item.kind != "number":
                continue
            if item.level not in current:
                current[item.level] = self.new_numbered_list(item.level)
            self.number(paragraph, current[item.level], item.level)

    def new_numbered_list(self, level: int = 0) -> int:
        """A list instance that counts from 1 at ``level``; returns its numId."""
        num = self.document.part.numbering_part.element.add_num(NUMBERS_ABSTRACT_ID)
        num.add_lvlOverride(ilvl=min(level, 2)).add_startOverride(1)
        return num.numId

    @staticmethod
    def number(paragraph: Paragraph, num_id: int, level: int) -> None:
        """Makes ``paragraph`` an item of list ``num_id``."""
        number_properties = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        number_properties.get_or_add_ilvl().val = min(level, 2)
        number_properties.get_or_add_numId().val = num_id

    # ---- special pieces

    def page_break(self) -> None:
        """Starts the next paragraph on a new page, for parts whose first style does not."""
        self.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def picture(self, png: bytes, width: Length, description: str) -> Paragraph:
        paragraph = self.fixed("MapFigure", "")
        run = paragraph.add_run()
        run.add_picture(io.BytesIO(png), width=width)
        run._r.xpath(".//wp:docPr")[0].set("descr", description)
        return paragraph

    def figures_table(self, practice_file: str, results: Iterable[tuple[int, Figure]]) -> None:
        """Figures side by side, three to a row, each value above its caption."""
        items = list(results)
        columns = min(len(items), FIGURES_PER_ROW)
        rows = -(-len(items) // columns)
        # what document.add_table() does, without it searching the whole body for the last section's width
        table = self.document._body.add_table(rows, columns, self.text_width)
        table.style = None
        table.autofit = False
        width = Emu(int(self.text_width / columns))
        for position, (index, _) in enumerate(items):
            cell = table.cell(position // columns, position % columns)
            placeholder = cell.paragraphs[0]  # a new cell holds one empty paragraph
            self.field(practice_file, ("results", index, "figure"), "FigureValue", container=cell)
            self.field(practice_file, ("results", index, "caption"), "FigureCaption", container=cell)
            placeholder._p.getparent().remove(placeholder._p)
        for cell in table._cells:
            cell.width = width


def render_docx(collection: Collection, paths: ProjectPaths, pdf_pages: Mapping[str, int],
                map_png: Callable[[float], bytes], source_digest: str, made: datetime) -> bytes:
    """The draft as .docx bytes. ``pdf_pages`` gives the PDF page of each anchor, for the contents;
    ``map_png`` draws the map at a width in mm (the template's text width); ``made`` is its date."""
    document = docx.Document(str(paths.layouts / REFERENCE))
    writer = DraftWriter(document, draft_fields(collection))
    book = Book.of(collection)
    _cover(writer, book)
    toc_anchor = _front(writer, book, collection, pdf_pages)
    _geography(writer, book, pdf_pages, map_png)
    _rules(writer, book, pdf_pages)
    practices = _SetAside(document)
    _practices(writer, book, collection, pdf_pages, practices)
    _colophon(writer, book)
    _contents(writer, toc_anchor)
    _headers_and_footers(writer, book)
    _properties(document, book, collection, paths, source_digest, made)
    output = io.BytesIO()
    document.save(output)
    return _dated_zip(output.getvalue(), made, practices)


class _SetAside:
    """The practices' paragraphs, taken out of the document as each practice is written and kept as compressed
    XML until the package is written: held as lxml elements, a draft of 1 000 practices took some 80 MB."""

    PART = "word/document.xml"
    MARK = b"<!--compendium: the practices go here-->"

    def __init__(self, document: Document) -> None:
        body = document.element.body
        self.mark = etree.Comment(self.MARK[4:-3].decode())
        body.sectPr.addprevious(self.mark)
        self.chunks: list[bytes] = []
        # a child of the body serialised alone declares the namespaces the document's root does: left out
        probe = _element("w:p")
        body.append(probe)
        declared = etree.tostring(probe, encoding="UTF-8")[len(b"<w:p"):-len(b"/>")]
        body.remove(probe)
        self.declarations = re.compile(rb"^(<[\w:]+)" + re.escape(declared))

    def take(self) -> None:
        """Sets aside all that was written since the last time."""
        written = []
        for element in list(self.mark.itersiblings()):
            if element.tag == qn("w:sectPr"):
                break
            written.append(self.declarations.sub(rb"\1", etree.tostring(element, encoding="UTF-8"), count=1))
            element.getparent().remove(element)
        self.chunks.append(zlib.compress(b"".join(written)))

    def write(self, part: bytes, target: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        """Writes the document's part with what was set aside in place of the mark."""
        before, after = part.split(self.MARK)
        with target.open(info, "w") as member:
            member.write(before)
            for chunk in self.chunks:
                member.write(zlib.decompress(chunk))
            member.write(after)


@cache
def _tag(name: str) -> tuple[str, dict[str, str]]:
    tag = NamespacePrefixedTag(name)
    return tag.clark_name, tag.nsmap


def _element(name: str, attributes: dict[str, str] | None = None) -> BaseOxmlElement:
    """What python-docx's ``OxmlElement`` makes, with the tag's namespace worked out once rather than for
    each of a long draft's fifty thousand elements."""
    clark_name, namespaces = _tag(name)
    return oxml_parser.makeelement(clark_name, attrib=attributes, nsmap=namespaces)


def _add_text(run: BaseOxmlElement, text: str) -> None:
    """What python-docx's ``run.text = …`` writes, without its going through the text letter by letter
    for tabs and line breaks when there are none."""
    if "\t" in text or "\n" in text or "\r" in text:
        _RunContentAppender.append_to_run_from_text(run, text)
        return
    element = _element("w:t")
    element.text = text
    if len(text.strip()) < len(text):
        element.set(_PRESERVE_SPACE, "preserve")
    run.append(element)


def _dated_zip(data: bytes, made: datetime, practices: _SetAside) -> bytes:
    """The same package with every member dated ``made`` (python-docx stamps members with the clock), and the
    practices in the document."""
    stamp = (max(made.year, 1980), made.month, made.day, made.hour, made.minute, made.second - made.second % 2)
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            if member.filename == practices.PART:
                practices.write(source.read(member), target, info)
            else:
                target.writestr(info, source.read(member))
    return output.getvalue()


def _cover(writer: DraftWriter, book: Book) -> None:
    writer.field("edition.yaml", ("title",), "Title")
    writer.fixed("CoverPeriod", book.period_numbers)
    writer.fixed("CoverLabel", "Конкурс")
    writer.field("edition.yaml", ("contest",), "CoverContest")
    writer.fixed("CoverLabel", "Организаторы")
    for organisation in book.edition.organisers:
        writer.fixed("CoverCredit", organisation.name)
    if book.edition.supporters:
        writer.fixed("CoverLabel", "При содействии")
        for organisation in book.edition.supporters:
            writer.fixed("CoverCredit", organisation.name)
    writer.fixed("Colophon", "Черновик для правки текстов. Правьте текст в полях записей; заголовки разделов, "
                             "подписи, номера и содержание создаются при сборке, их правки не переносятся.")


def _front(writer: DraftWriter, book: Book, collection: Collection, pdf_pages: Mapping[str, int]) -> Paragraph:
    writer.heading(1, "Предисловие", pdf_pages.get("preface"))
    writer.field("edition.yaml", ("preface",), "Lead")
    writer.heading(1, "О конкурсе", pdf_pages.get("about"))
    writer.field("edition.yaml", ("about",), "Lead")
    writer.fixed("Label", "Организаторы Конкурса")
    for index, _ in enumerate(book.edition.organisers):
        writer.field("edition.yaml", ("organisers", index, "name"), "Organisation")
    if book.edition.supporters:
        writer.fixed("Label", "При содействии")
        for index, _ in enumerate(book.edition.supporters):
            writer.field("edition.yaml", ("supporters", index, "name"), "Organisation")
    for index, foreword in enumerate(collection.forewords):
        writer.heading(1, f"Вступительное слово. {foreword.author}", pdf_pages.get(f"foreword-{index + 1}"))
        writer.field("forewords.yaml", ("forewords", index, "text"), "ForewordText")
        writer.field("forewords.yaml", ("forewords", index, "author"), "SignatureName")
        writer.field("forewords.yaml", ("forewords", index, "position"), "SignaturePosition")
    writer.fixed("TOCHeading", "Содержание")
    return writer.add_paragraph()  # the contents goes here once every heading is known


def _geography(writer: DraftWriter, book: Book, pdf_pages: Mapping[str, int], map_png: Callable[[float], bytes]
               ) -> None:
    writer.field("geography.yaml", ("title",), "Heading1", heading=(1, pdf_pages.get("geography")))
    writer.fixed("Label", book.period_label)
    width_mm = writer.text_width / Length(36000)
    stats = " · ".join(f"{stat.value} {stat.label}" for stat in book.geography_stats)
    writer.picture(map_png(width_mm), Emu(writer.text_width),
                   f"Карта России: регионы — участники конкурса {book.period_label} ({stats}); "
                   "номера на карте совпадают с номерами списка регионов")
    writer.fixed("Caption", "Номера на карте совпадают с номерами регионов в списке ниже; "
                            "оранжевые метки — регионы, практики которых вошли в сборник.")
    writer.fixed("Stats", stats)
    writer.fixed("Label", "Регионы и муниципальные образования — участники конкурса")
    regions = writer.new_numbered_list()  # one list for all regions: the numbers the map shows
    for index, region in enumerate(book.geography.regions):
        name = writer.field("geography.yaml", ("regions", index, "name"), "ListNumber")[0]
        writer.number(name, regions, 0)
        for number, _ in enumerate(region.municipalities):
            writer.field("geography.yaml", ("regions", index, "municipalities", number, "name"), "ListBullet2")


def _rules(writer: DraftWriter, book: Book, pdf_pages: Mapping[str, int]) -> None:
    writer.field("rules.yaml", ("title",), "Heading1", heading=(1, pdf_pages.get("rules")))
    writer.field("rules.yaml", ("text",), "Normal")
    writer.field("rules.yaml", ("criteria_intro",), "Label")
    writer.field("rules.yaml", ("criteria",), "ListNumber")
    if book.rules.footnote:
        writer.field("rules.yaml", ("footnote",), "Footnote")


def _practices(writer: DraftWriter, book: Book, collection: Collection, pdf_pages: Mapping[str, int],
               set_aside: _SetAside) -> None:
    writer.heading(1, "Практики победителей и лидеров Конкурса", pdf_pages.get("winners"))
    for year, lines in book.opener:
        writer.fixed("Label", str(year))
        for line in lines:
            writer.fixed("ListBullet", f"{line.award} — {line.title}, {line.detail}")
    if book.opener_is_summary:
        writer.fixed("Normal", "Все практики — в содержании")
    for practice in book.practices:
        _practice(writer, practice, f"practices/{collection.locations[practice.id].file.name}",
                  pdf_pages.get(f"practice-{practice.id}"))
        set_aside.take()


def _practice(writer: DraftWriter, practice: Practice, relative: str, page: int | None) -> None:
    writer.fixed("AwardBadge", award_label(practice.award))
    writer.field(relative, ("municipality",), "Heading2", heading=(2, page))
    writer.field(relative, ("region",), "Region")
    writer.fixed("Label", "Практика")
    writer.field(relative, ("title",), "PracticeTitle")
    if practice.quote:
        writer.field(relative, ("quote", "text"), "QuoteText")
        writer.field(relative, ("quote", "author"), "QuoteAuthor")
        writer.field(relative, ("quote", "position"), "QuotePosition")
    sections = (("content", "Содержание практики", "Lead"),
                ("prerequisites", "Предпосылки реализации практики", "Normal"),
                ("actions", "Действия по реализации практики", "Normal"))
    for name, label, style_id in sections:
        writer.fixed("Heading3", label)
        writer.field(relative, (name,), style_id)
    writer.fixed("Heading3", "Результаты реализации практики")
    index = 0
    for group in result_groups(practice.results):
        indexed = [(index + offset, result) for offset, result in enumerate(group.items)]
        index += len(group.items)
        if group.kind == "figure":
            writer.figures_table(relative, [(i, r) for i, r in indexed if isinstance(r, Figure)])
        for position, result in indexed:
            if isinstance(result, Statement):
                writer.field(relative, ("results", position, "statement"), "Statement")
            elif isinstance(result, ResultText):
                writer.field(relative, ("results", position, "text"), "Normal")
    writer.fixed("Heading3", "Участники практики")
    writer.field(relative, ("participants", "count"), "ParticipantsCount")
    writer.field(relative, ("participants", "noun"), "ParticipantsNoun")


def _colophon(writer: DraftWriter, book: Book) -> None:
    writer.page_break()
    writer.fixed("Label", "Конкурс")
    writer.fixed("Colophon", f"«{book.edition.contest}», {book.period_label}")
    writer.fixed("Label", "Организаторы")
    for organisation in book.edition.organisers:
        writer.fixed("Colophon", organisation.name)
    for link in book.edition.links:
        writer.fixed("Colophon", link.split("://", 1)[-1].rstrip("/"), link=link)


def _hyperlink(writer: DraftWriter, paragraph: Paragraph, text: str, url: str | None = None,
               anchor: str | None = None, style_id: str | None = "Hyperlink") -> None:
    link = _element("w:hyperlink")
    if url:
        link.set(qn("r:id"), paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True))
    if anchor:
        link.set(qn("w:anchor"), anchor)
    link.set(qn("w:history"), "1")
    run = paragraph.add_run(text)
    if style_id:
        run.style = writer.style(style_id)
    link.append(run._r)
    paragraph._p.append(link)


def _contents(writer: DraftWriter, anchor: Paragraph) -> None:
    """A real TOC field whose current result is already written, with the PDF's page numbers.

    Word refreshes it on opening (updateFields in the template); LibreOffice and Google Docs show
    it as written, so the contents is never blank.
    """
    entries = writer.headings
    for position, heading in enumerate(entries):
        paragraph = anchor.insert_paragraph_before(style=writer.style(f"TOC{heading.level}"))
        if position == 0:
            _field_char(paragraph, "begin")
            _instruction(paragraph, r' TOC \o "1-2" \h \z \u ')
            _field_char(paragraph, "separate")
        _hyperlink(writer, paragraph, heading.text, anchor=heading.bookmark, style_id=None)
        paragraph.add_run("\t" + (str(heading.page) if heading.page else ""))
        if position == len(entries) - 1:
            _field_char(paragraph, "end")
    anchor._p.getparent().remove(anchor._p)


def _field_char(paragraph: Paragraph, kind: str) -> None:
    run = paragraph.add_run()
    char = _element("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    run._r.append(char)


def _instruction(paragraph: Paragraph, text: str) -> None:
    run = paragraph.add_run()
    instruction = _element("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = text
    run._r.append(instruction)


def _page_number(paragraph: Paragraph) -> None:
    _field_char(paragraph, "begin")
    _instruction(paragraph, " PAGE ")
    _field_char(paragraph, "separate")
    paragraph.add_run("1")
    _field_char(paragraph, "end")


def _headers_and_footers(writer: DraftWriter, book: Book) -> None:
    """Running heads like the PDF's: the collection on left pages, the contest on right; page numbers outside."""
    section = writer.document.sections[0]
    section.different_first_page_header_footer = True
    writer.document.settings.odd_and_even_pages_header_footer = True
    running_title = f"{book.edition.title} {book.period_label}"
    for header, text, outside_right in ((section.even_page_header, running_title, False),
                                        (section.header, f"Конкурс «{book.edition.contest}»", True)):
        paragraph = header.paragraphs[0]
        paragraph.style = writer.style("Header")
        paragraph.add_run(("\t" if outside_right else "") + typeset(text))
    for footer, outside_right in ((section.even_page_footer, False), (section.footer, True)):
        paragraph = footer.paragraphs[0]
        paragraph.style = writer.style("Footer")
        if outside_right:
            paragraph.add_run("\t")
        _page_number(paragraph)


def _properties(document: Document, book: Book, collection: Collection, paths: ProjectPaths,
                source_digest: str, made: datetime) -> None:
    properties = document.core_properties
    properties.title = f"{book.edition.title} {book.period_label}: черновик"
    properties.subject = f"Сборник конкурса «{book.edition.contest}»"
    properties.author = book.organisers_line
    properties.keywords = book.keywords
    properties.language = "ru-RU"
    properties.comments = "Черновик для правки; правки переносятся в записи командой compendium import-docx."
    properties.category = "Черновик"
    properties.revision = 1
    properties.created = properties.modified = made.astimezone(UTC).replace(tzinfo=None)
    properties.last_modified_by = "compendium"
    try:
        edition = collection.directory.resolve().relative_to(paths.root.resolve()).as_posix()
    except ValueError:
        edition = collection.directory.resolve().as_posix()
    _custom_properties(document, {EDITION_PROPERTY: edition, SOURCES_PROPERTY: source_digest,
                                  EDITION_TITLE_PROPERTY: book.edition.title,
                                  EDITION_YEARS_PROPERTY: " ".join(map(str, book.edition.years))})


def _custom_properties(document: Document, values: Mapping[str, str]) -> None:
    """docProps/custom.xml: Word shows these under File → Properties; LibreOffice keeps them on re-save."""
    items = "".join(
        f'<property fmtid="{CUSTOM_PROPERTIES_FORMAT}" pid="{pid}" name="{xml_escape(name)}">'
        f"<vt:lpwstr>{xml_escape(value)}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(values.items(), 2)
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        f'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">{items}</Properties>'
    )
    package = document.part.package
    part = Part(PackURI("/docProps/custom.xml"), CUSTOM_PROPERTIES_TYPE, xml.encode(), package)
    package.relate_to(part, RELATIONSHIP_TYPE.CUSTOM_PROPERTIES)
