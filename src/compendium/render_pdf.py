"""Stage 3b: lay one part of the book out with WeasyPrint, write it as PDF, and check each spread.

Runs in the worker processes. One layout serves one profile: the printing house's CMYK PDF/X with
bleed, or the tagged RGB PDF for screens, from which each practice's own two-page PDF is also cut.
"""

from __future__ import annotations

import logging
import re
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pydyf
from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.formatting_structure import boxes
from weasyprint.text.fonts import FontConfiguration

from .assemble_pdf import keep_prepared_spread
from .cache_files import keep
from .errors import CompendiumError, Problem
from .layout_cache import LaidOut, LayoutJob
from .page_reading import keep_page_facts
from .paths import ProjectPaths
from .profiles import SCREEN, TEMPLATE, Profile
from .resources import RestrictedFetcher, check_layout_files

if TYPE_CHECKING:
    from .book import Book
    from .model import Collection, Practice, SourceLocation

PX_PER_MM = 96 / 25.4
PT_PER_MM = 72 / 25.4
STYLESHEET = "book.css"
PADDING_ANCHOR = "padding-pages"
OVERFLOW_TOLERANCE_PX = 1.5
_RANDOM_DOCUMENT_ID = re.compile(rb"xmp\.did:[0-9a-f-]{36}")
log = logging.getLogger("compendium")
PAGES_PER_SHEET = 4  # a folded sheet is four pages: the printed book's page count is a multiple of this


def lay_out(book: Book, collection: Collection, paths: ProjectPaths, profile: Profile = SCREEN) -> Document:
    """Runs WeasyPrint on the book, or on the part of it ``book.part`` names."""
    from .book_html import render_html  # the workers lay out HTML templated elsewhere: only this templates

    return lay_out_html(render_html(book, collection, paths, profile), paths, collection.directory, profile)


def lay_out_html(html: str, paths: ProjectPaths, edition: Path, profile: Profile) -> Document:
    """Runs WeasyPrint on one HTML document; any resource it could not load is an error, not a silent gap."""
    book_css, font_config = _book_stylesheet(paths, _layout_state(paths))
    fetcher = RestrictedFetcher(paths, edition)
    color_profiles: dict[str, object] = {}
    with _weasyprint_messages() as messages:
        sheets = [book_css]
        if profile.stylesheet:
            sheets.append(_stylesheet(paths, profile.stylesheet, fetcher, font_config, color_profiles))
        document = HTML(string=html, base_url=str(paths.layouts / "pdf" / TEMPLATE), url_fetcher=fetcher).render(
            font_config=font_config, color_profiles=color_profiles, stylesheets=sheets)
    if fetcher.refused or messages:
        raise CompendiumError(f"the layout could not be rendered cleanly: {fetcher.refusals() or '; '.join(messages)}")
    return document


def _layout_state(paths: ProjectPaths) -> tuple[tuple[str, int, int], ...]:
    """When the stylesheets or fonts last changed: a parsed stylesheet is kept until then."""
    files = [*sorted((paths.layouts / "pdf").glob("*.css")), *sorted(paths.assets.glob("*/*"))]
    return tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in files if path.is_file())


@lru_cache(maxsize=2)
def _book_stylesheet(paths: ProjectPaths, _state: tuple[tuple[str, int, int], ...]) -> tuple[CSS, FontConfiguration]:
    """book.css, parsed once per process rather than once per spread, with the fonts its @font-face rules load.

    Only book.css is kept: a stylesheet with @color-profile (print.css) is read for each layout, because
    WeasyPrint's colour profiles do not serialise to the same bytes twice.
    """
    check_layout_files(paths)
    fetcher, font_config = RestrictedFetcher(paths, paths.layouts), FontConfiguration()
    with _weasyprint_messages() as messages:
        sheet = _stylesheet(paths, STYLESHEET, fetcher, font_config, {})
    if fetcher.refused or messages:
        raise CompendiumError(f"the stylesheets could not be read cleanly: {fetcher.refusals() or '; '.join(messages)}")
    return sheet, font_config


def _stylesheet(paths: ProjectPaths, name: str, fetcher: RestrictedFetcher, font_config: FontConfiguration,
                color_profiles: dict[str, object]) -> CSS:
    return CSS(filename=paths.layouts / "pdf" / name, url_fetcher=fetcher, font_config=font_config,
               color_profiles=color_profiles)


WARM_UP_HTML = (
    '<html lang="ru"><body><h1>Лучшая практика</h1><p style="width: 25mm">межмуниципального <b>взаимодействия</b> '
    "<i>2022–2023</i></p></body></html>")
"""A narrow paragraph, so that its words are hyphenated and the hyphenation patterns load here (`warm_up`)."""


def warm_up(paths: ProjectPaths) -> None:
    """Lays out and writes a line of text with the book's stylesheet, to be thrown away, while the command
    still imports and loads: a worker's first layout would otherwise also parse the stylesheet, load the
    fonts and import what WeasyPrint imports only when it first writes. (After an edit at 250 practices
    the rebuild measured the same with and without it, within the noise of ±0.15 s.)

    A problem here is left for the real layout to report, with its context."""
    try:
        _written(lay_out_html(WARM_UP_HTML, paths, paths.layouts, SCREEN), SCREEN)
    except Exception as error:  # a warm-up only saves time: the job it precedes reports the problem
        log.debug("warming up the layout failed: %s", error)


def lay_out_part(job: LayoutJob) -> LaidOut:
    """Lays out one part and writes its PDF. A frame loses the padding pages its sheets do not need; a
    spread that is not exactly two facing pages comes back with ``fits`` false and nothing written."""
    document = lay_out_html(job.html, job.paths, job.edition, job.profile)
    anchors = _anchors(document)
    if job.spread_of is not None and not fits_its_spread(anchors, job.spread_of, len(document.pages)):
        return LaidOut(None, len(document.pages), {}, (), fits=False)
    if job.contents_pages:
        return _contents_part(document, job)
    if job.spread_of is None:
        document = _without_unneeded_padding(document, anchors, job.profile, job.pages_elsewhere)
        anchors = _anchors(document)
    if job.title:
        document.metadata.title = job.title
    _date(document, job.made)
    if job.pdf is not None:
        data = _written(document, job.profile)
        keep(job.pdf, data)
        keep_page_facts(job.pdf, data)
        if job.spread_of is not None:  # prepared now, on this core, the spread is not parsed again to be merged
            keep_prepared_spread(job.pdf, data)
    # the book's sections; the markers inside a spread (<id>--<field>) matter to this layout only
    sections = {name: index + 1 for name, (index, _) in anchors.items() if "--" not in name}
    return LaidOut(job.pdf, len(document.pages), sections, tuple(overflowing_text(document)))


def contents_first_rows(job: LayoutJob) -> list[str]:
    """Lays out some of the contents' rows (`render_book._Parts.contents_pages`) and gives the id of the row
    each page starts with."""
    return _first_rows(lay_out_html(job.html, job.paths, job.edition, job.profile))


def _first_rows(document: Document) -> list[str]:
    """The id of the first row of the contents on each page (every row has one: `Book.contents_row_id`)."""
    return [min(page.anchors.items(), key=lambda item: item[1][1])[0] for page in document.pages]


def _contents_part(document: Document, job: LayoutJob) -> LaidOut:
    """Writes some pages of the contents, which must break as their pages were found."""
    if tuple(_first_rows(document)) != job.contents_pages:
        raise CompendiumError("some pages of the contents, laid out on their own, did not break as the contents "
                              "laid out in one did; check the margins of layouts/pdf/contents.html.j2's rows")
    _date(document, job.made)
    assert job.pdf is not None
    data = _written(document, job.profile)
    keep(job.pdf, data)
    keep_page_facts(job.pdf, data)
    keep_prepared_spread(job.pdf, data, own_destinations=False)  # its ids stand in for the sections' own
    return LaidOut(job.pdf, len(document.pages), {}, tuple(overflowing_text(document)))


def _written(document: Document, profile: Profile) -> bytes:
    identity = f"compendium:{profile.name}:{document.metadata.title}:{document.metadata.created}"
    with _weasyprint_messages() as messages:  # pictures inside SVGs are fetched only now, while drawing
        data = document.write_pdf(pdf_variant=profile.pdf_variant, pdf_identifier=identity.encode(),
                                  finisher=_finisher(profile, identity), **profile.write_options)
    if messages:
        raise CompendiumError(f"the PDF could not be written cleanly: {'; '.join(messages)}")
    return data


def _without_unneeded_padding(document: Document, anchors: dict[str, tuple[int, float]],
                              profile: Profile, pages_elsewhere: int = 0) -> Document:
    """Drops the blank pages the template puts before the back cover, unless they complete the last sheet
    of the book, which has ``pages_elsewhere`` more pages than this layout."""
    first_blank = anchors[PADDING_ANCHOR][0] if PADDING_ANCHOR in anchors else None
    if first_blank is None:
        return document
    blanks = anchors["back-cover"][0] - first_blank
    unpadded = len(document.pages) + pages_elsewhere - blanks
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
    document, so the same sources give the same bytes. The colour profile: WeasyPrint compresses it
    anew in every layout, which cost each print spread a third of its writing time; it is compressed
    once per process instead, to the same bytes.
    """

    def finish(document: Document, pdf: pydyf.PDF) -> None:
        for color_profile in document.color_profiles.values():
            stream = pdf.objects[int(_as_bytes(color_profile.pdf_reference).split()[0])]
            if isinstance(stream, pydyf.Stream) and stream.compress:
                stream.stream, stream.compress = [_compressed(b"\n".join(map(_as_bytes, stream.stream)))], False
                stream.extra["Filter"] = "/FlateDecode"
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


@lru_cache(maxsize=4)
def _compressed(data: bytes) -> bytes:
    return zlib.compress(data, 9)  # what pydyf's own compression gives: level 9, default window


def _as_bytes(chunk: bytes | str) -> bytes:
    return chunk if isinstance(chunk, bytes) else chunk.encode()


def overflowing_text(document: Document) -> list[tuple[int, str]]:
    """Text laid out past the edge of its page's text area: cut off in print, or running into the margin."""
    found = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box  # the laid-out boxes are reachable only through this private name
        left, top = page_box.content_box_x(), page_box.content_box_y()
        right, bottom = left + page_box.width, top + page_box.height
        for box in _text_boxes(page_box):
            if (box.position_x + box.width > right + OVERFLOW_TOLERANCE_PX
                    or box.position_y + box.height > bottom + OVERFLOW_TOLERANCE_PX):
                found.append((number, box.text[:60]))
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


def fits_its_spread(anchors: dict[str, tuple[int, float]], practice_id: str, page_count: int) -> bool:
    """True when a spread laid out on its own takes two pages, each side ending on its own page."""
    return page_count == 2 and all(
        anchors[f"{practice_id}--{side}-{edge}"][0] == page
        for page, side in enumerate(("left", "right")) for edge in ("start", "end")
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
