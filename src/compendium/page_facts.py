"""What each page of a PDF draws, read back from the file: enough to tell, cheaply, that a merged book's
page draws what its layout drew.

A page of the book is its layout's page with the objects renumbered and the fonts joined, one per
face, across layouts (`assemble_pdf`); its content streams are the layout's, byte for byte. So the
page draws the same if its streams (and those of the forms and pictures it places) are the same bytes,
and if each font it names maps every code the layout's font mapped to the same glyph, with the same
width and the same text: then the glyphs drawn, where they are drawn, and the text a reader extracts
are all the layout's. This is what the preflight compares on every page of every book; the tests also
compare pixels.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from fontTools.ttLib import TTFont
from pikepdf import Array, Dictionary, Name

_BLOCK = re.compile(rb"begin(bf|cid)(char|range)(.*?)end\1\2", re.DOTALL)
_HEX = re.compile(rb"<([0-9a-fA-F]+)>")
_TOKEN = re.compile(rb"<([0-9a-fA-F]+)>|(\d+)")
_FORM_DEPTH = 8  # forms inside forms: pictures in the map at most
IDENTITY = "Identity-H"


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


def read_pages(path: Path, font_files: bool = False) -> PagesReading:
    """The facts of every page of a PDF; with ``font_files``, its embedded fonts are read too (a book's)."""
    reading = PagesReading()
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            placed: dict[str, str] = {}
            fonts: dict[str, str] = {}
            _visit(page.obj, "", placed, fonts, reading.fonts, 0, font_files)
            reading.pages.append(PageFacts(placed.pop(""), placed, fonts))
    return reading


def differences(book: PagesReading, book_page: int, layout: PagesReading, layout_page: int) -> list[str]:
    """How page ``book_page`` of the book (1-based) draws other than page ``layout_page`` of its layout;
    nothing when it draws the same. What the merge left out of the page's resources, since the page does
    not use it, is not missed."""
    ours, theirs = book.pages[book_page - 1], layout.pages[layout_page - 1]
    if ours.drawing != theirs.drawing:
        return ["рисует не то содержимое, что его макет"]
    found = [f"форма или картинка {name} {'не та, что' if name in theirs.placed else 'не названа'} в макете"
             for name, digest in sorted(ours.placed.items()) if theirs.placed.get(name) != digest]
    for name, key in sorted(ours.fonts.items()):
        if name not in theirs.fonts:
            found.append(f"шрифт {name} есть на странице, но не в макете")
            continue
        font, laid_out = book.fonts[key], layout.fonts[theirs.fonts[name]]
        if problem := _font_difference(font, laid_out):
            found.append(f"шрифт {font.face} ({name}) {problem}")
    return found


def _font_difference(font: FontFacts, laid_out: FontFacts) -> str | None:
    if font.face != laid_out.face:
        return f"заменён: в макете {laid_out.face}"
    if font.glyphs is not None and font.glyphs < 0:
        return "встроен файлом, который не читается как шрифт"
    codes = laid_out.unicode.keys() | (laid_out.encoding.keys() if isinstance(laid_out.encoding, dict) else set())
    if wrong := [code for code in sorted(codes) if _glyph(font, code) != _glyph(laid_out, code)]:
        return f"выводит другие глифы для кодов {_few(wrong)}"
    if wrong := [code for code, text in sorted(laid_out.unicode.items()) if font.unicode.get(code) != text]:
        return f"даёт другой текст для кодов {_few(wrong)}"
    if wrong := [glyph for glyph, width in sorted(laid_out.widths.items()) if font.widths.get(glyph) != width]:
        return f"задаёт другую ширину глифам {_few([str(glyph) for glyph in wrong])}"
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


def _visit(holder: pikepdf.Object, prefix: str, placed: dict[str, str], fonts: dict[str, str],
           table: dict[str, FontFacts], depth: int, font_files: bool) -> None:
    """Adds a digest of a page's or a form's streams to ``placed``, its fonts to ``fonts``, then those of the
    forms and pictures it names."""
    if depth > _FORM_DEPTH:
        return
    digest = hashlib.sha256()
    for stream in _contents(holder):
        digest.update(hashlib.sha256(stream.read_raw_bytes()).digest())
    placed[prefix.removesuffix("/")] = digest.hexdigest()[:32]
    resources = holder.get("/Resources")
    if not isinstance(resources, Dictionary):
        return
    for name, font in sorted(dict(resources.get("/Font", {})).items()):
        key = f"{font.objgen[0]} {font.objgen[1]}" if font.is_indirect else f"{prefix}{name}"
        if key not in table:
            table[key] = font_facts(font, font_files)
        fonts[f"{prefix}{name[1:]}"] = key
    for name, xobject in sorted(dict(resources.get("/XObject", {})).items()):
        if xobject.get("/Subtype") == Name.Form:
            _visit(xobject, f"{prefix}{name[1:]}/", placed, fonts, table, depth + 1, font_files)
        elif isinstance(xobject, pikepdf.Stream):
            placed[f"{prefix}{name[1:]}"] = hashlib.sha256(xobject.read_raw_bytes()).hexdigest()[:32]


def _contents(holder: pikepdf.Object) -> Iterator[pikepdf.Stream]:
    if isinstance(holder, pikepdf.Stream):  # a form is its own content
        yield holder
        return
    contents = holder.get("/Contents")
    yield from (contents if isinstance(contents, Array) else [contents] if contents is not None else [])


def font_facts(font: pikepdf.Object, font_file: bool = False) -> FontFacts:
    """How a font object maps codes to glyphs, text and widths. Only the composite fonts WeasyPrint
    writes (Type0, one CIDFontType2 descendant) are read; any other is known by its name only."""
    face = str(font.get("/BaseFont", "/?"))[1:].split("+", 1)[-1]
    if font.get("/Subtype") != Name.Type0:
        return FontFacts(face, str(font.get("/Subtype")), {}, {}, 0)
    descendant = font.DescendantFonts[0]
    encoding = font.get("/Encoding")
    mapped: str | dict[str, int] = IDENTITY if encoding == Name("/" + IDENTITY) else (
        cmap_codes(encoding.read_bytes()) if isinstance(encoding, pikepdf.Stream) else str(encoding))
    unicode = {code.decode(): text.decode() for code, text in unicode_map(font.ToUnicode.read_bytes()).items()} \
        if "/ToUnicode" in font else {}
    widths = {glyph: width.decode() for glyph, width in cid_widths(descendant.get("/W", Array())).items()}
    return FontFacts(face, mapped, unicode, widths,
                     _glyph_count(descendant.get("/FontDescriptor")) if font_file else None)


def _glyph_count(descriptor: pikepdf.Object | None) -> int:
    """The glyphs of the embedded font file, which must parse; -1 if it does not."""
    file = descriptor.get("/FontFile2") if isinstance(descriptor, Dictionary) else None
    if file is None:
        return -1
    try:
        font = TTFont(io.BytesIO(file.read_bytes()), lazy=True)
        font["glyf"].ensureDecompiled()  # every glyph, against loca: a broken file fails here
        return int(font["maxp"].numGlyphs)
    except Exception:  # fontTools raises whatever the bytes make it raise: any failure is a broken font
        return -1


def cid_widths(w: pikepdf.Object) -> dict[int, bytes]:
    """The /W array of a CID font as glyph id → width (as PDF syntax); it mixes ``c [w…]`` and
    ``c_first c_last w``."""
    items, found, i = list(w), {}, 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], Array):
            found |= {first + offset: _unparsed(width) for offset, width in enumerate(items[i + 1])}
            i += 2
        else:
            found |= dict.fromkeys(range(first, int(items[i + 1]) + 1), _unparsed(items[i + 2]))
            i += 3
    return found


def unicode_map(cmap: bytes) -> dict[bytes, bytes]:
    """A ToUnicode CMap's glyph → text entries, from its bfchar and (single-codepoint) bfrange blocks."""
    found: dict[bytes, bytes] = {}
    for _, kind, block in (match for match in _BLOCK.findall(cmap) if match[0] == b"bf"):
        values = _HEX.findall(block)
        if kind == b"char":
            found |= {code.lower(): text.lower() for code, text in zip(values[::2], values[1::2], strict=False)}
        else:
            for start, end, text in zip(values[::3], values[1::3], values[2::3], strict=False):
                base = int(text, 16)
                found |= {b"%04x" % code: b"%04x" % (base + offset)
                          for offset, code in enumerate(range(int(start, 16), int(end, 16) + 1))}
    return found


def cmap_codes(cmap: bytes) -> dict[str, int]:
    """An encoding CMap's code → glyph entries, from its cidchar and cidrange blocks."""
    found: dict[str, int] = {}
    for _, kind, block in (match for match in _BLOCK.findall(cmap) if match[0] == b"cid"):
        tokens = [(hex_code.lower().decode(), None) if hex_code else (None, int(number))
                  for hex_code, number in _TOKEN.findall(block)]
        if kind == b"char":
            found |= {code: cid for (code, _), (_, cid) in zip(tokens[::2], tokens[1::2], strict=False)}
        else:
            for (start, _), (end, _), (_, cid) in zip(tokens[::3], tokens[1::3], tokens[2::3], strict=False):
                found |= {"%04x" % code: cid + offset  # noqa: UP031 (codes are written as in the CMap)
                          for offset, code in enumerate(range(int(start, 16), int(end, 16) + 1))}
    return found


def _unparsed(value: object) -> bytes:
    """A value as PDF syntax: pikepdf gives numbers as Python's own."""
    if isinstance(value, pikepdf.Object):
        return value.unparse(resolved=False)
    return b"%d" % value if isinstance(value, int) else format(value, "f").encode()
