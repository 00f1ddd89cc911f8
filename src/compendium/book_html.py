"""Stage 3a: the book, or one part of it, as HTML from the Jinja2 templates of layouts/pdf, per profile.

Templating happens in the main process; the layout of that HTML (render_pdf) happens in the workers.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from .book import Book, award_label, award_short, result_groups
from .cache_files import KeptFiles, keep
from .errors import CompendiumError
from .geography_map import draw_geography_map
from .model import Collection
from .palette import load_palette
from .paths import ProjectPaths
from .profiles import SCREEN, TEMPLATE, Profile
from .prose import BulletList, Paragraph, Span
from .typography import typeset_runs

# Pango follows Unicode line-break rule LB15 ("QU SP* × OP"), so «…» (далее …) can never break
# between the closing quote and the parenthesis; a zero-width space after the space restores the
# break. It is a hint to this engine only, so it is added here and not in the shared typography.
_NO_BREAK_AFTER_QUOTE = "» ("
_BREAK_AFTER_QUOTE = "» \u200b("


def template_environment(paths: ProjectPaths, compiled: KeptTemplates | None = None) -> jinja2.Environment:
    """Jinja2 over layouts/pdf: autoescaped, strict about undefined names, with the typography helpers.

    With ``compiled``, the templates are compiled once and kept there (by name and source) for every
    profile and build: compiling them takes longer than rendering a spread.
    """
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths.layouts / "pdf"),
        bytecode_cache=compiled,
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


class KeptTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in the cache folder, each used only while it is the bytes written (`cache_files`):
    Jinja2's own file cache would load damaged bytes with pickle and marshal, or fail on them."""

    def __init__(self, folder: Path, kept: KeptFiles) -> None:
        self.folder, self.kept = folder, kept

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.kept.read(self._path(bucket), "скомпилированный шаблон из layouts/pdf")
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        keep(self._path(bucket), bucket.bytecode_to_string())

    def _path(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.folder / f"{bucket.key}.cache"


@lru_cache(maxsize=1 << 16)  # each profile's layout typesets the same texts again: keep a long book's
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
    """The book, or the part of it ``book.part`` names, as one HTML document; what WeasyPrint lays out."""
    return BookTemplate(collection, paths, profile).render(book)


class BookTemplate:
    """The templates of layouts/pdf, loaded once for one profile and rendered for each part of the book."""

    def __init__(self, collection: Collection, paths: ProjectPaths, profile: Profile,
                 compiled: KeptTemplates | None = None) -> None:
        colours = load_palette(paths.palette).css(profile.colour_space)

        def geography_map(width_mm: float) -> Markup:
            # the template names the width, so the map's size lives beside the CSS that places it
            if self.part == "spreads":  # a spread's layout is kept by its own record (Book.spread)
                raise CompendiumError("layouts/pdf: a practice's spread cannot show the geography map, "
                                      "which is drawn from every record")
            return Markup(draw_geography_map(collection, paths, width_mm, colours).svg)

        self.part = "whole"

        self.environment = template_environment(paths, compiled)
        self.environment.globals.update(  # globals reach imported macros too
            colours=colours, profile=profile, geography_map=geography_map,
            edition_file=lambda name: (collection.directory / name).resolve().as_uri())

    def render(self, book: Book) -> str:
        self.part = book.part
        try:
            return self.environment.get_template(TEMPLATE).render(book=book)
        except jinja2.TemplateError as error:
            where = f"{getattr(error, 'filename', None) or TEMPLATE}:{getattr(error, 'lineno', '?')}"
            raise CompendiumError(f"layouts/pdf/{where}: template error: {error}") from None


