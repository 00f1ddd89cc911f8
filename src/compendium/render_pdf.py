"""Stage 4: lay the collection out as a PDF with Jinja2 templates and WeasyPrint, and check each spread."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
from markupsafe import Markup, escape
from weasyprint import HTML
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from .book import Book, award_label, award_short, result_groups
from .errors import CompendiumError, Problem, SourceProblems
from .model import Collection, Practice
from .paths import ProjectPaths
from .prose import BulletList, Paragraph, Span
from .typography import typeset, typeset_runs

PX_PER_MM = 96 / 25.4
TEMPLATE = "book.html.j2"


class RestrictedFetcher(URLFetcher):
    """Lets WeasyPrint read files under the given folders only; the network is never touched."""

    def __init__(self, allowed: list[Path]) -> None:
        super().__init__(allowed_protocols={"file"})
        self.allowed = [folder.resolve() for folder in allowed]
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict | None = None):  # type: ignore[override]
        parts = urlsplit(url)
        path = Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None
        if path is None or not any(path.is_relative_to(folder) for folder in self.allowed):
            self.refused.append(url)
            raise ValueError(f"refused to load {url}: only files inside the project may be used")
        return super().fetch(url, headers)


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
        typeset=lambda text: Markup(escape(typeset(str(text)))),
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
    texts = typeset_runs([span.text for span in spans])
    return Markup("").join(
        Markup("<strong>{}</strong>").format(text) if span.bold else escape(text)
        for span, text in zip(spans, texts, strict=True)
    )


def _figure_value(spans: tuple[Span, ...]) -> Markup:
    """A figure: the bold part printed big; a figure without bold is big as a whole."""
    if any(span.bold for span in spans):
        return _typeset_spans(spans)
    return Markup('<span class="figure__number">{}</span>').format(typeset_runs([s.text for s in spans])[0]
                                                                    if len(spans) == 1 else _typeset_spans(spans))


def render_html(collection: Collection, paths: ProjectPaths) -> str:
    """The book as one HTML document; what WeasyPrint lays out."""
    try:
        template = template_environment(paths).get_template(TEMPLATE)
        return template.render(book=Book.of(collection))
    except jinja2.TemplateError as error:
        where = f"{getattr(error, 'filename', None) or TEMPLATE}:{getattr(error, 'lineno', '?')}"
        raise CompendiumError(f"layouts/pdf/{where}: template error: {error}") from None


@dataclass(frozen=True)
class RenderedPdf:
    """A laid-out and checked PDF."""

    data: bytes
    page_count: int


def render_pdf(collection: Collection, paths: ProjectPaths) -> RenderedPdf:
    """Lays the book out, refuses any spread that is not exactly two facing pages, and returns the PDF."""
    html = render_html(collection, paths)
    fetcher = RestrictedFetcher([paths.layouts, paths.assets, collection.directory])
    fonts = FontConfiguration()
    with _weasyprint_messages() as messages:
        document = HTML(string=html, base_url=str(paths.layouts / "pdf" / TEMPLATE), url_fetcher=fetcher).render(
            font_config=fonts
        )
    if fetcher.refused or messages:
        details = "; ".join(fetcher.refused or messages)
        raise CompendiumError(f"the layout could not be rendered cleanly: {details}")
    problems = check_spreads(document, collection.practices)
    if problems:
        raise SourceProblems(problems)
    metadata = document.metadata
    metadata.lang = "ru"
    return RenderedPdf(document.write_pdf(), len(document.pages))


class _CollectingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _weasyprint_messages:  # noqa: N801 - reads as a context phrase
    """Collects WeasyPrint's errors during a render instead of letting them scroll past."""

    def __enter__(self) -> list[str]:
        self.handler = _CollectingHandler()
        logging.getLogger("weasyprint").addHandler(self.handler)
        return self.handler.messages

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("weasyprint").removeHandler(self.handler)


LEFT_FIELDS = ("title", "quote", "content")
RIGHT_FIELDS = ("prerequisites", "actions", "results", "participants")


def check_spreads(document: Document, practices: tuple[Practice, ...]) -> list[Problem]:
    """Every practice must fill exactly one left and the facing right page; each overflow is a problem.

    The template marks where each field starts, where each page's content ends, and the bottom of
    the left page; comparing those anchors tells which field ran over, and by how much.
    """
    anchors: dict[str, tuple[int, float]] = {}
    for index, page in enumerate(document.pages):
        for name, (_x, y, *_rest) in page.anchors.items():
            anchors[name] = (index, y)
    problems = []
    for practice in practices:
        def at(name: str, practice: Practice = practice) -> tuple[int, float]:
            return anchors[f"{practice.id}--{name}"]

        left_page, _ = at("title")
        if left_page % 2 == 0:  # index 0 is page 1, a right-hand page
            problems.append(_problem(practice, "title", "starts on a right-hand page; every practice must "
                                     "begin on a left-hand page"))
            continue
        _, floor = at("floor")
        _, top = at("prerequisites")
        page_body = floor - top
        for side, side_page, fields in (("left", left_page, LEFT_FIELDS), ("right", left_page + 1, RIGHT_FIELDS)):
            end_page, end = at(f"{side}-end")
            overflow = (end_page - side_page - 1) * page_body + (end - top) if end_page > side_page else end - floor
            if end_page == side_page and overflow <= 0.5:
                continue
            on_page = [f for f in fields if f"{practice.id}--{f}" in anchors and at(f)[0] == side_page]
            overflow_mm = overflow / PX_PER_MM
            problems.append(_problem(
                practice, on_page[-1] if on_page else fields[0],
                f"does not fit on the {side} page of its spread: about {max(1, round(overflow_mm / 5))} "
                f"line(s) ({overflow_mm:.0f} mm) too long; shorten this field or another one on that page",
            ))
    return problems


def _problem(practice: Practice, field: str, message: str) -> Problem:
    return Problem(practice.source or Path(f"{practice.id}.yaml"), practice.field_lines.get(field, 0), field, message)
