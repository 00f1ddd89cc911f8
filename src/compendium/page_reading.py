"""Reads what each page of a PDF draws (`page_facts`), with pikepdf: in the process that writes the PDF, or,
for a PDF whose facts were not kept, as a reader of its own (``python -m compendium.page_reading``).

The encoding CMaps, ToUnicode CMaps and /W arrays are read here for the merger too (`assemble_pdf`).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path

import pikepdf
from fontTools.ttLib import TTFont
from pikepdf import Array, Dictionary, Name

from .page_facts import IDENTITY, FontFacts, PageFacts, PagesReading, keep_facts

_BLOCK = re.compile(rb"begin(bf|cid)(char|range)(.*?)end\1\2", re.DOTALL)
_HEX = re.compile(rb"<([0-9a-fA-F]+)>")
_TOKEN = re.compile(rb"<([0-9a-fA-F]+)>|(\d+)")
_FORM_DEPTH = 8  # forms inside forms: pictures in the map at most


def keep_page_facts(pdf: Path, data: bytes, font_files: bool = False) -> None:
    """Reads the facts of a PDF just written (``data``) and keeps them beside it."""
    keep_facts(pdf, data, read_pages(data, font_files))


def read_pages(pdf_file: Path | bytes, font_files: bool = False) -> PagesReading:
    """The facts of every page of a PDF, a file or its bytes; with ``font_files``, its embedded fonts are read
    too (a book's)."""
    reading = PagesReading()
    with pikepdf.open(io.BytesIO(pdf_file) if isinstance(pdf_file, bytes) else pdf_file) as pdf:
        for page in pdf.pages:
            placed: dict[str, str] = {}
            fonts: dict[str, str] = {}
            _visit(page.obj, "", placed, fonts, reading.fonts, 0, font_files)
            reading.pages.append(PageFacts(placed.pop(""), placed, fonts))
    return reading


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
                     _glyph_count(descendant.get("/FontDescriptor"), widths) if font_file else None)


def _glyph_count(descriptor: pikepdf.Object | None, used: Iterable[int]) -> int:
    """The glyphs of the embedded font file, which must parse, and so must the outlines of the glyphs
    ``used``; -1 if it does not. Only those: a book's whole fonts hold some 700 glyphs each, and parsing them
    all was most of reading the print book back."""
    file = descriptor.get("/FontFile2") if isinstance(descriptor, Dictionary) else None
    if file is None:
        return -1
    try:
        font = TTFont(io.BytesIO(file.read_bytes()), lazy=True)
        glyphs, names = font["glyf"], font.getGlyphOrder()
        for glyph in used:
            if glyph < len(names):  # one past them is a glyph the font lacks, which the comparison names
                glyphs[names[glyph]].expand(glyphs)  # parses the outline: a broken one raises
        return len(names)
    except Exception:  # fontTools raises whatever the bytes make it raise: any failure is a broken font
        return -1


def cid_widths(w: pikepdf.Object) -> dict[int, bytes]:
    """The /W array of a CID font as glyph id → width (as PDF syntax); it mixes ``c [w…]`` and
    ``c_first c_last w``."""
    items, found, i = list(w), {}, 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], Array):
            found |= {first + offset: unparsed(width) for offset, width in enumerate(items[i + 1])}
            i += 2
        else:
            found |= dict.fromkeys(range(first, int(items[i + 1]) + 1), unparsed(items[i + 2]))
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


def unparsed(value: object) -> bytes:
    """A value as PDF syntax: pikepdf gives numbers, booleans and null as Python's own."""
    if isinstance(value, pikepdf.Object):
        return value.unparse(resolved=False)
    if value is None or isinstance(value, bool):
        return {None: b"null", True: b"true", False: b"false"}[value]
    return b"%d" % value if isinstance(value, int) else format(value, "f").encode()


def main() -> None:
    """``python -m compendium.page_reading [--font-files] PDF``: prints the facts of a PDF as JSON, and keeps
    them beside it. A PDF that pikepdf cannot open exits with status 1 and says why."""
    font_files = "--font-files" in sys.argv[1:]
    pdf = Path(next(argument for argument in sys.argv[1:] if argument != "--font-files"))
    data = pdf.read_bytes()
    try:
        reading = read_pages(data, font_files)
    except pikepdf.PdfError as error:
        sys.exit(f"pikepdf: {error}")
    keep_facts(pdf, data, reading)
    print(json.dumps({"pdf": hashlib.sha256(data).hexdigest(), "reading": asdict(reading)}))


if __name__ == "__main__":
    main()
