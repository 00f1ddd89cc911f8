"""Stage 3: lay the collection out as a PDF with Jinja2 templates and WeasyPrint, and check each spread.

One layout serves one profile: the printing house's CMYK PDF/X with bleed, or the tagged RGB PDF
for screens, from which each practice's own two-page PDF is also cut.
"""

from __future__ import annotations

import copy
import logging
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

import jinja2
import pydyf
from markupsafe import Markup, escape
from weasyprint import HTML
from weasyprint.document import Document
from weasyprint.formatting_structure import boxes
from weasyprint.text.fonts import FontConfiguration

from .book import Book, award_label, award_short, result_groups
from .errors import CompendiumError, Problem, SourceProblems
from .geography_map import draw_geography_map
from .model import Collection, Practice, SourceLocation
from .palette import ColourSpace, load_palette
from .paths import ProjectPaths
from .prose import BulletList, Paragraph, Span
from .resources import RestrictedFetcher, check_layout_files
from .typography import typeset_runs

PX_PER_MM = 96 / 25.4
PT_PER_MM = 72 / 25.4
TEMPLATE = "book.html.j2"
PADDING_ANCHOR = "padding-pages"
OVERFLOW_TOLERANCE_PX = 1.5
_RANDOM_DOCUMENT_ID = re.compile(rb"xmp\.did:[0-9a-f-]{36}")
PAGES_PER_SHEET = 4  # a folded sheet is four pages: the printed book's page count is a multiple of this


@dataclass(frozen=True)
class Profile:
    """What one kind of reader gets: colour space, PDF variant, bleed and image resolution."""

    name: str
    colour_space: ColourSpace
    pdf_variant: str
    write_options: Mapping[str, object] = field(default_factory=dict)
    bleed_mm: float = 0
    """Artwork that touches the trim runs this far past it; the PDF's BleedBox says the same."""
    mark_room_mm: float = 0
    """Room outside the bleed for crop marks, which WeasyPrint draws in the outer half of its bleed area."""
    stylesheet: str | None = None
    """An extra stylesheet in layouts/pdf for this profile only."""
    min_ppi: float = 0
    """Placed images below this resolution are reported."""
    whole_sheets: bool = False
    """True when the page count must fill whole folded sheets, with blank pages before the back cover."""


PRINT = Profile("print", "cmyk", "pdf/x-4", {"full_fonts": True}, bleed_mm=3, mark_room_mm=6,
                stylesheet="print.css", min_ppi=300, whole_sheets=True)
SCREEN = Profile("screen", "rgb", "pdf/ua-1", {"dpi": 150, "optimize_images": True, "jpeg_quality": 85}, min_ppi=96)
PROFILES = {profile.name: profile for profile in (PRINT, SCREEN)}


# Pango follows Unicode line-break rule LB15 ("QU SP* × OP"), so «…» (далее …) can never break
# between the closing quote and the parenthesis; a zero-width space after the space restores the
# break. It is a hint to this engine only, so it is added here and not in the shared typography.
_NO_BREAK_AFTER_QUOTE = "» ("
_BREAK_AFTER_QUOTE = "» \u200b("


def template_environment(paths: ProjectPaths) -> jinja2.Environment:
    """Jinja2 over layouts/pdf: autoescaped, strict about undefined names, with the typography helpers."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths.layouts / "pdf"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        typeset=lambda text: _typeset_spans((Span(str(text)),)),
        typeset_spans=_typeset_spans,
        figure_value=_figure_value,
        award_label=award_label,
        award_short=award_short,
        result_groups=result_groups,
        link_label=lambda url: url.split("://", 1)[-1].rstrip("/"),
    )
    environment.tests.update(
        paragraph=lambda block: isinstance(block, Paragraph),
        bullet_list=lambda block: isinstance(block, BulletList),
    )
    return environment


def _typeset_spans(spans: tuple[Span, ...]) -> Markup:
    texts = [text.replace(_NO_BREAK_AFTER_QUOTE, _BREAK_AFTER_QUOTE)
             for text in typeset_runs([span.text for span in spans])]
    return Markup("").join(
        Markup("<strong>{}</strong>").format(text) if span.bold else escape(text)
        for span, text in zip(spans, texts, strict=True)
    )


def _figure_value(spans: tuple[Span, ...]) -> Markup:
    """A figure: the bold part printed big; a figure without bold is big as a whole."""
    if any(span.bold for span in spans):
        return _typeset_spans(spans)
    return Markup('<span class="figure__number">{}</span>').format(_typeset_spans(spans))


def render_html(book: Book, collection: Collection, paths: ProjectPaths, profile: Profile = SCREEN) -> str:
    """The book as one HTML document for one profile; what WeasyPrint lays out."""
    colours = load_palette(paths.palette).css(profile.colour_space)

    def geography_map(width_mm: float) -> Markup:
        # the template names the width, so the map's size lives beside the CSS that places it
        return Markup(draw_geography_map(collection, paths, width_mm, colours).svg)

    environment = template_environment(paths)
    environment.globals.update(colours=colours, profile=profile,  # globals reach imported macros too
                               edition_file=lambda name: (collection.directory / name).resolve().as_uri())
    try:
        return environment.get_template(TEMPLATE).render(book=book, geography_map=geography_map)
    except jinja2.TemplateError as error:
        where = f"{getattr(error, 'filename', None) or TEMPLATE}:{getattr(error, 'lineno', '?')}"
        raise CompendiumError(f"layouts/pdf/{where}: template error: {error}") from None


def lay_out(book: Book, collection: Collection, paths: ProjectPaths, profile: Profile = SCREEN) -> Document:
    """Runs WeasyPrint on the book; any resource it could not load is an error, not a silent gap."""
    check_layout_files(paths)
    fetcher = RestrictedFetcher(paths, collection.directory)
    with _weasyprint_messages() as messages:
        html = HTML(string=render_html(book, collection, paths, profile),
                    base_url=str(paths.layouts / "pdf" / TEMPLATE), url_fetcher=fetcher)
        document = html.render(font_config=FontConfiguration())
    if fetcher.refused or messages:
        raise CompendiumError(f"the layout could not be rendered cleanly: {fetcher.refusals() or '; '.join(messages)}")
    return document


@dataclass(frozen=True)
class RenderedPdf:
    """A laid-out and checked PDF, with what the preflight report needs to know of its layout."""

    data: bytes
    profile: Profile
    page_count: int
    anchor_pages: dict[str, int]
    """The 1-based page of every element id: where the contents of the Word draft points."""
    title: str
    overflow: tuple[str, ...] = ()
    """Text that runs outside its page's text area, as «page N: text…»."""


@dataclass(frozen=True)
class RenderedBook:
    """The whole book for one profile and, for the screen, each practice's spread on its own."""

    book: RenderedPdf
    practices: dict[str, RenderedPdf]


def render_pdf(collection: Collection, paths: ProjectPaths, profile: Profile, made: datetime) -> RenderedBook:
    """Lays the book out, refuses any spread that is not exactly two facing pages, and writes the PDFs.

    ``made`` is the date the PDFs carry, so the same sources give the same bytes.
    """
    book = Book.of(collection)
    document = lay_out(book, collection, paths, profile)
    anchors = _anchors(document)
    overflowing = [practice for practice in collection.practices if not fits_its_spread(anchors, practice)]
    if overflowing:
        raise SourceProblems(measure_overflow(replace(book, practices=tuple(overflowing), measuring=True),
                                              collection, paths))
    document = _without_unneeded_padding(document, anchors, profile)
    anchors = _anchors(document)
    _date(document, made)
    whole = _written(document, profile, anchors)
    practices = {}
    if profile.name == SCREEN.name:  # by name: a worker process unpickles its own copy
        for practice in collection.practices:
            first = anchors[f"practice-{practice.id}"][0]
            spread = document.copy(document.pages[first:first + 2])
            spread.metadata = copy.copy(document.metadata)
            spread.metadata.title = f"{practice.municipality}: «{practice.title}» — {spread.metadata.title}"
            practices[practice.id] = _written(spread, profile, _anchors(spread))
    return RenderedBook(whole, practices)


def _written(document: Document, profile: Profile, anchors: dict[str, tuple[int, float]]) -> RenderedPdf:
    identity = f"compendium:{profile.name}:{document.metadata.title}:{document.metadata.created}"
    with _weasyprint_messages() as messages:  # pictures inside SVGs are fetched only now, while drawing
        data = document.write_pdf(pdf_variant=profile.pdf_variant, pdf_identifier=identity.encode(),
                                  finisher=_finisher(profile, identity), **profile.write_options)
    if messages:
        raise CompendiumError(f"the PDF could not be written cleanly: {'; '.join(messages)}")
    pages = {name: index + 1 for name, (index, _) in anchors.items()}
    title = document.metadata.title or ""
    return RenderedPdf(data, profile, len(document.pages), pages, title, tuple(overflowing_text(document)))


def _without_unneeded_padding(document: Document, anchors: dict[str, tuple[int, float]],
                              profile: Profile) -> Document:
    """Drops the blank pages the template puts before the back cover, unless they complete the last sheet."""
    first_blank = anchors[PADDING_ANCHOR][0] if PADDING_ANCHOR in anchors else None
    if first_blank is None:
        return document
    blanks = anchors["back-cover"][0] - first_blank
    unpadded = len(document.pages) - blanks
    if profile.whole_sheets and unpadded % PAGES_PER_SHEET:
        keep = PAGES_PER_SHEET - unpadded % PAGES_PER_SHEET
        if keep <= blanks:
            return document.copy(document.pages[:first_blank + keep] + document.pages[first_blank + blanks:])
    return document.copy(document.pages[:first_blank] + document.pages[first_blank + blanks:])


def _date(document: Document, made: datetime) -> None:
    stamp = made.strftime("%Y-%m-%dT%H:%M:%SZ")
    document.metadata.created = document.metadata.modified = stamp


def _finisher(profile: Profile, identity: str) -> Callable[[Document, pydyf.PDF], None]:
    """Sets what WeasyPrint leaves to chance or to its own rule, just before the PDF is written.

    The BleedBox: WeasyPrint puts it at most 10 pt past the trim; the printing house needs exactly our
    bleed. The XMP DocumentID of PDF/X-4: WeasyPrint draws a random one; ours follows from the
    document, so the same sources give the same bytes.
    """

    def finish(_document: Document, pdf: pydyf.PDF) -> None:
        bleed = profile.bleed_mm * PT_PER_MM
        for page in pdf.objects:
            if bleed and isinstance(page, pydyf.Dictionary) and page.get("Type") == "/Page":
                left, top, right, bottom = page["TrimBox"]
                page["BleedBox"] = pydyf.Array([left - bleed, top - bleed, right + bleed, bottom + bleed])
        if "Metadata" in pdf.catalog:
            metadata = pdf.objects[int(_as_bytes(pdf.catalog["Metadata"]).split()[0])]  # a reference, "N 0 R"
            document_id = f"xmp.did:{uuid.uuid5(uuid.NAMESPACE_URL, identity)}".encode()
            metadata.stream = [_RANDOM_DOCUMENT_ID.sub(document_id, _as_bytes(chunk)) for chunk in metadata.stream]

    return finish


def _as_bytes(chunk: bytes | str) -> bytes:
    return chunk if isinstance(chunk, bytes) else chunk.encode()


def overflowing_text(document: Document) -> list[str]:
    """Text laid out past the edge of its page's text area: cut off in print, or running into the margin."""
    found = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box  # the laid-out boxes are reachable only through this private name
        left, top = page_box.content_box_x(), page_box.content_box_y()
        right, bottom = left + page_box.width, top + page_box.height
        for box in _text_boxes(page_box):
            if (box.position_x + box.width > right + OVERFLOW_TOLERANCE_PX
                    or box.position_y + box.height > bottom + OVERFLOW_TOLERANCE_PX):
                found.append(f"page {number}: «{box.text[:60]}»")
    return found


def _text_boxes(box: boxes.Box) -> Iterator[boxes.TextBox]:
    """The text of the page's body; the margin boxes (folios, running heads) sit outside it by design."""
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.TextBox):
            yield child
        elif not isinstance(child, boxes.MarginBox):
            yield from _text_boxes(child)


class _CollectingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _weasyprint_messages() -> Iterator[list[str]]:
    """Collects WeasyPrint's errors during a render instead of letting them scroll past."""
    handler = _CollectingHandler()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


FIELDS_BY_SIDE = {
    "left": ("title", "quote", "content"),
    "right": ("prerequisites", "actions", "results", "participants"),
}


def _anchors(document: Document) -> dict[str, tuple[int, float]]:
    """Every element id on the laid-out pages: (page index, y from the page top in CSS px)."""
    found: dict[str, tuple[int, float]] = {}
    for index, page in enumerate(document.pages):
        for name, (_x, y, *_rest) in page.anchors.items():
            found.setdefault(name, (index, y))  # an element that spans pages is where it starts
    return found


def fits_its_spread(anchors: dict[str, tuple[int, float]], practice: Practice) -> bool:
    """True when the practice starts on a left-hand page and each side ends on its own page."""
    left_page, _ = anchors[f"{practice.id}--left-start"]
    right_page, _ = anchors[f"{practice.id}--right-start"]
    return (
        left_page % 2 == 1  # index 0 is page 1, a right-hand page
        and right_page == left_page + 1
        and anchors[f"{practice.id}--left-end"][0] == left_page
        and anchors[f"{practice.id}--right-end"][0] == right_page
    )


def measure_overflow(book: Book, collection: Collection, paths: ProjectPaths) -> list[Problem]:
    """Lays the given spreads out on endless pages and says which field crosses the page foot, and by how much.

    Measuring on tall pages gives each field its natural height, whatever the real pages did
    with it (a flex item that does not fit is moved whole to the next page).
    """
    anchors = _anchors(lay_out(book, collection, paths))
    page_body = anchors["page-body-gauge-end"][1] - anchors["page-body-gauge"][1]
    problems = []
    for practice in book.practices:
        for side, fields in FIELDS_BY_SIDE.items():
            def y(name: str, practice: Practice = practice) -> float | None:
                found = anchors.get(f"{practice.id}--{name}")
                return found[1] if found else None

            start, end = y(f"{side}-start"), y(f"{side}-end")
            assert start is not None and end is not None
            overflow = end - start - page_body
            if overflow <= 0.5:
                continue
            present = [field for field in fields if y(field) is not None]
            field_ends = [y(following) for following in present[1:]] + [end]
            culprit = next(f for f, f_end in zip(present, field_ends, strict=True) if f_end > start + page_body)
            overflow_mm = overflow / PX_PER_MM
            problems.append(_problem(
                collection.locations[practice.id], culprit,
                f"does not fit on the {side} page of its spread: the page is {overflow_mm:.0f} mm "
                f"(about {max(1, round(overflow_mm / 5))} lines) too long; shorten this field "
                "or another one on that page",
            ))
    if not problems:  # a spread out of place though every page fits: a layout error, not the data's
        raise CompendiumError("a practice spread did not land on two facing pages; check layouts/pdf")
    return problems


def _problem(location: SourceLocation, field: str, message: str) -> Problem:
    return Problem(location.file, location.lines.get(field, 0), field, message)
