"""What each page of a PDF draws, read back from the file: enough to tell, cheaply, that a merged book's
page draws what its layout drew.

A page of the book is its layout's page with the objects renumbered and the fonts joined, one per
face, across layouts (`assemble_pdf`); its content streams are the layout's, byte for byte. So the
page draws the same if its streams (and those of the forms and pictures it places) are the same bytes,
and if each font it names maps every code the layout's font mapped to the same glyph, with the same
width and the same text: then the glyphs drawn, where they are drawn, and the text a reader extracts
are all the layout's. This is what the preflight compares on every page of every book; the tests also
compare pixels.

The facts are read (`page_reading`, with pikepdf) by the process that writes the PDF, a layout's worker or
a book's merge, and kept beside it: the building process never loads pikepdf, some 20 MB that the workers
hold already.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .cache_files import KeptFiles, keep

IDENTITY = "Identity-H"
FACTS_SUFFIX = ".pages"
"""Beside a PDF in the cache, what its pages draw (`keep_facts`), written by the process that made it."""


@dataclass(frozen=True)
class FontFacts:
    """How one font object turns a page's codes into glyphs and text."""

    face: str
    """The font's name without a subset's tag."""
    encoding: str | dict[str, int]
    """``Identity-H`` (the code is the glyph), or each code (hex) with its glyph."""
    unicode: dict[str, str]
    """Each code (hex) with the text it extracts as (hex UTF-16)."""
    widths: dict[int, str]
    """Each glyph with its width, as the PDF writes it."""
    glyphs: int | None = None
    """How many glyphs the embedded font file holds, -1 when it cannot be read as a font; None when it was
    not read (a layout's, which WeasyPrint wrote: reading every layout's fonts was 85 % of the check)."""


@dataclass(frozen=True)
class PageFacts:
    drawing: str
    """A digest of the page's content streams."""
    placed: dict[str, str]
    """A digest of each form and picture the page or a form on it names, by where it is named (``X3``,
    ``X3/X1``)."""
    fonts: dict[str, str]
    """Each font the page or a form on it names, by where it is named (``F1``, ``X3/F1``): its key in
    the reading's font table."""


@dataclass(frozen=True)
class PagesReading:
    pages: list[PageFacts] = field(default_factory=list)
    fonts: dict[str, FontFacts] = field(default_factory=dict)


def differences(book: PagesReading, book_page: int, layout: PagesReading, layout_page: int,
                compared: dict[tuple[str, str], str | None] | None = None) -> list[str]:
    """How page ``book_page`` of the book (1-based) draws other than page ``layout_page`` of its layout;
    nothing when it draws the same. What the merge left out of the page's resources, since the page does
    not use it, is not missed. ``compared`` keeps, between pages of one layout, what each of its fonts gave
    against the book's (the pages of a layout share its fonts)."""
    compared = {} if compared is None else compared
    ours, theirs = book.pages[book_page - 1], layout.pages[layout_page - 1]
    if ours.drawing != theirs.drawing:
        return ["рисует не то содержимое, что его макет"]
    found = [f"форма или картинка {name} {'не та, что' if name in theirs.placed else 'не названа'} в макете"
             for name, digest in sorted(ours.placed.items()) if theirs.placed.get(name) != digest]
    for name, key in sorted(ours.fonts.items()):
        if name not in theirs.fonts:
            found.append(f"шрифт {name} есть на странице, но не в макете")
            continue
        pair = (key, theirs.fonts[name])
        if pair not in compared:
            compared[pair] = _font_difference(book.fonts[key], layout.fonts[pair[1]])
        if problem := compared[pair]:
            found.append(f"шрифт {book.fonts[key].face} ({name}) {problem}")
    return found


def _font_difference(font: FontFacts, laid_out: FontFacts) -> str | None:
    if font.face != laid_out.face:
        return f"заменён: в макете {laid_out.face}"
    if font.glyphs is not None and font.glyphs < 0:
        return "встроен файлом, который не читается как шрифт"
    codes = laid_out.unicode.keys() | (laid_out.encoding.keys() if isinstance(laid_out.encoding, dict) else set())
    if wrong := [code for code in codes if _glyph(font, code) != _glyph(laid_out, code)]:
        return f"выводит другие глифы для кодов {_few(sorted(wrong))}"
    if wrong := [code for code, text in laid_out.unicode.items() if font.unicode.get(code) != text]:
        return f"даёт другой текст для кодов {_few(sorted(wrong))}"
    if wrong := [glyph for glyph, width in laid_out.widths.items() if font.widths.get(glyph) != width]:
        return f"задаёт другую ширину глифам {_few([str(glyph) for glyph in sorted(wrong)])}"
    if font.glyphs is not None and (missing := sorted({glyph for code in codes
                                                       if (glyph := _glyph(laid_out, code)) >= font.glyphs})):
        return f"не содержит глифов {_few([str(glyph) for glyph in missing])}"
    return None


def boxes(reading: PagesReading) -> list[tuple[int, str]]:
    """The characters a PDF draws as .notdef, an empty box, each with the first page (1-based) whose fonts
    draw it so: WeasyPrint's way with a character that no font of the page has (a CMap of its own sends
    its code to glyph 0). Which of the pages sharing that font shows it, the fonts cannot tell."""
    found: dict[str, int] = {}
    for number, page in enumerate(reading.pages, start=1):
        for key in page.fonts.values():
            font = reading.fonts[key]
            if isinstance(font.encoding, dict):
                for code, glyph in font.encoding.items():
                    if glyph == 0:
                        found.setdefault(_text(font.unicode.get(code, "")), number)
    return sorted((page, text) for text, page in found.items())


def _text(utf16_hex: str) -> str:
    try:
        return bytes.fromhex(utf16_hex).decode("utf-16-be")
    except ValueError:
        return "?"


def _glyph(font: FontFacts, code: str) -> int:
    if isinstance(font.encoding, dict):
        return font.encoding.get(code, 0)  # a code a CMap does not list draws .notdef
    return int(code, 16)


def _few(items: list[str]) -> str:
    return ", ".join(items[:5]) + (f" и ещё {len(items) - 5}" if len(items) > 5 else "")




def keep_facts(pdf: Path, data: bytes, reading: PagesReading) -> None:
    """Keeps the facts of a PDF beside it, with the digest of the bytes they were read from."""
    keep(pdf.with_suffix(FACTS_SUFFIX), json.dumps({"pdf": _digest(data), "reading": asdict(reading)}).encode())


def kept_facts(pdf: Path, data: bytes, kept: KeptFiles) -> PagesReading | None:
    """The facts kept beside a PDF, if they were read from these very bytes."""
    found = kept.read(pdf.with_suffix(FACTS_SUFFIX), f"что рисуют страницы {pdf.name}")
    try:
        facts = json.loads(found or b"null")
        return facts_from_json(facts["reading"]) if facts["pdf"] == _digest(data) else None
    except (ValueError, KeyError, TypeError):
        return None


def facts_from_json(facts: dict) -> PagesReading:
    """A reading as `asdict` gave it to JSON, which turns the glyph ids of the widths into strings."""
    return PagesReading([PageFacts(**page) for page in facts["pages"]], {
        key: FontFacts(**(font | {"widths": {int(glyph): width for glyph, width in font["widths"].items()}}))
        for key, font in facts["fonts"].items()})


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
