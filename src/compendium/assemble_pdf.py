"""Stage 3b: puts the spreads, each laid out on its own, into the frame's empty pages for them: one PDF.

The frame is the book with every spread left as two empty pages, so its page count, contents,
outline, folios and metadata are already those of the book. Merging keeps what readers and the
printing house rely on: named destinations (links), the outline, the tag tree of the screen profile
and one embedded subset per font.
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont
from pikepdf import Array, Dictionary, Name, NameTree

from .write import replace_file

_BLOCK = re.compile(rb"beginbf(char|range)(.*?)endbf\1", re.DOTALL)
_HEX = re.compile(rb"<([0-9a-fA-F]+)>")
_STRUCTURE_DEPTH = 64  # deeper than any tag tree WeasyPrint writes; a guard against cycles


@dataclass(frozen=True)
class PlacedSpread:
    """A spread's own two-page PDF and the index of the frame page its left page replaces."""

    first_page_index: int
    pdf: Path


def merge_spreads(frame: Path, spreads: Sequence[PlacedSpread], fonts: Path, whole_fonts: bool,
                  destination: Path) -> None:
    """Writes the frame with each spread in its place and one subset per font or, with ``whole_fonts``,
    each font file whole (layouts are written with subsets either way: smaller to keep and to merge)."""
    book = pikepdf.open(frame)
    replaced: dict[tuple[int, int], pikepdf.Object] = {}
    structure = _StructureMerge(book)
    for spread in spreads:
        # read whole: a spread's own PDF closed once copied uses less memory than hundreds of them kept open
        with pikepdf.open(io.BytesIO(spread.pdf.read_bytes())) as chunk:
            if len(chunk.pages) != 2:
                raise ValueError(f"{spread.pdf} has {len(chunk.pages)} pages, not 2")
            for offset, page in enumerate(chunk.pages):
                index = spread.first_page_index + offset
                stub = book.pages[index].obj
                structure.forget_page(stub)
                book.pages[index] = page
                replaced[stub.objgen] = book.pages[index].obj
            structure.graft(chunk)
            _add_destinations(book, chunk)
    structure.finish()
    _repoint_destinations(book, replaced)
    _merge_fonts(book, fonts, whole_fonts)
    _share_identical_resources(book)
    book.remove_unreferenced_resources()
    output = io.BytesIO()
    book.save(output, deterministic_id=True, compress_streams=True,
              object_stream_mode=pikepdf.ObjectStreamMode.generate)
    book.close()
    replace_file(destination, output.getvalue())


class _StructureMerge:
    """Moves each spread's tags into the frame's tag tree, in reading order, where its empty pages were."""

    def __init__(self, book: pikepdf.Pdf) -> None:
        self.book = book
        self.root = book.Root.get("/StructTreeRoot")
        self.stub_pages: set[tuple[int, int]] = set()
        self.stub_keys: set[int] = set()
        self.grafted: list[pikepdf.Object] = []
        self.numbers: list[pikepdf.Object] = []
        if self.root is None:
            return
        kids = self.root.K
        self.document = kids[0] if isinstance(kids, Array) else kids
        nums = self.root.ParentTree.Nums
        self.numbers = [nums[i] for i in range(len(nums))]
        self.next_key = max((int(self.numbers[i]) for i in range(0, len(self.numbers), 2)), default=-1) + 1

    def forget_page(self, page: pikepdf.Object) -> None:
        if self.root is not None:
            self.stub_pages.add(page.objgen)
            if "/StructParents" in page:
                self.stub_keys.add(int(page.StructParents))

    def graft(self, chunk: pikepdf.Pdf) -> None:
        """Renumbers the spread's marked-content keys after the book's and takes its top-level elements.

        The pages were copied first, so the elements' /Pg references land on the copies.
        """
        if self.root is None:
            return
        offset = self.next_key
        for page in chunk.pages:
            page_copy = self._copied(page.obj)
            page_copy.StructParents = offset + int(page.obj.StructParents)
            for annotation in page_copy.get("/Annots", ()):
                if "/StructParent" in annotation:
                    annotation.StructParent = offset + int(annotation.StructParent)
        nums = chunk.Root.StructTreeRoot.ParentTree.Nums
        keys = [int(nums[i]) for i in range(0, len(nums), 2)]
        for i in range(0, len(nums), 2):
            self.numbers += [offset + int(nums[i]), self._foreign(chunk, nums[i + 1])]
        self.next_key = offset + max(keys, default=-1) + 1
        chunk_kids = chunk.Root.StructTreeRoot.K
        chunk_document = chunk_kids[0] if isinstance(chunk_kids, Array) else chunk_kids
        for kid in _as_list(chunk_document.K):
            copied = self._foreign(chunk, kid)
            copied.P = self.document
            self.grafted.append(copied)

    def finish(self) -> None:
        if self.root is None:
            return
        kids = list(_as_list(self.document.K))
        position = next((i for i, kid in enumerate(kids) if self._on_stub(kid)), len(kids))
        kept = [kid for kid in kids if not self._on_stub(kid)]
        self.document.K = Array(kept[:position] + self.grafted + kept[position:])
        numbers = [item for i in range(0, len(self.numbers), 2) if int(self.numbers[i]) not in self.stub_keys
                   for item in (self.numbers[i], self.numbers[i + 1])]
        self.root.ParentTree = self.book.make_indirect(Dictionary(Nums=Array(numbers)))
        self.root.ParentTreeNextKey = self.next_key

    def _on_stub(self, element: pikepdf.Object, depth: int = 0) -> bool:
        if not isinstance(element, Dictionary) or depth > _STRUCTURE_DEPTH:
            return False
        if "/Pg" in element and element.Pg.objgen in self.stub_pages:
            return True
        return any(self._on_stub(kid, depth + 1) for kid in _as_list(element.get("/K")))

    def _foreign(self, chunk: pikepdf.Pdf, item: pikepdf.Object) -> pikepdf.Object:
        if not isinstance(item, Dictionary | Array):
            return item
        return self.book.copy_foreign(item if item.is_indirect else chunk.make_indirect(item))

    def _copied(self, page: pikepdf.Object) -> pikepdf.Object:
        return self.book.copy_foreign(page)


def _as_list(value: pikepdf.Object | None) -> list[pikepdf.Object]:
    if value is None:
        return []
    return list(value) if isinstance(value, Array) else [value]


def _add_destinations(book: pikepdf.Pdf, chunk: pikepdf.Pdf) -> None:
    """WeasyPrint links to anchors by name, so links between layouts work once the names are merged."""
    if "/Names" not in chunk.Root or "/Dests" not in chunk.Root.Names:
        return
    names = NameTree(book.Root.Names.Dests) if "/Names" in book.Root and "/Dests" in book.Root.Names \
        else NameTree.new(book)
    for name, destination in NameTree(chunk.Root.Names.Dests).items():
        names[name] = book.copy_foreign(destination if destination.is_indirect
                                        else chunk.make_indirect(destination))
    if "/Names" not in book.Root:
        book.Root.Names = Dictionary()
    book.Root.Names.Dests = names.obj


def _repoint_destinations(book: pikepdf.Pdf, replaced: dict[tuple[int, int], pikepdf.Object]) -> None:
    """The frame's outline and names pointed at the empty pages; they now point at the spread's."""
    def repoint(destination: pikepdf.Object) -> None:
        if isinstance(destination, Array) and len(destination) and isinstance(destination[0], Dictionary):
            page = replaced.get(destination[0].objgen)
            if page is not None:
                destination[0] = page

    if "/Names" in book.Root and "/Dests" in book.Root.Names:
        for _, destination in NameTree(book.Root.Names.Dests).items():
            repoint(destination.D if isinstance(destination, Dictionary) and "/D" in destination else destination)
    for item in _outline_items(book.Root.get("/Outlines")):
        if "/Dest" in item:
            repoint(item.Dest)
        elif "/A" in item and "/D" in item.A:
            repoint(item.A.D)


def _outline_items(node: pikepdf.Object | None) -> Iterator[pikepdf.Object]:
    item = node.get("/First") if node is not None else None
    while item is not None:
        yield item
        yield from _outline_items(item)
        item = item.get("/Next")


def _share_identical_resources(book: pikepdf.Pdf) -> None:
    """Every layout embeds its own copy of the colour profile and of each drawing; the book keeps one."""
    canonical: dict[bytes, pikepdf.Object] = {}
    digests: dict[tuple[int, int], bytes] = {}
    visited: set[tuple[int, int]] = set()

    def digest(stream: pikepdf.Stream) -> bytes:
        if stream.objgen not in digests:
            described = sorted((key, repr(value)) for key, value in stream.items() if key != "/Length")
            digests[stream.objgen] = hashlib.sha256(repr(described).encode() + stream.read_raw_bytes()).digest()
        return digests[stream.objgen]

    def visit(container: pikepdf.Object, depth: int) -> None:
        if depth > _STRUCTURE_DEPTH:
            return
        items = list(enumerate(container)) if isinstance(container, Array) else list(container.items())
        for key, value in items:
            if not isinstance(value, Dictionary | Array | pikepdf.Stream):
                continue
            if value.is_indirect:
                if isinstance(value, pikepdf.Stream) and key not in ("/Contents",):
                    kept = canonical.setdefault(digest(value), value)
                    if kept.objgen != value.objgen:
                        container[key] = kept
                        continue
                if value.objgen in visited:
                    continue
                visited.add(value.objgen)
            visit(value, depth + 1)

    if "/OutputIntents" in book.Root:  # the print profile's colour profile, which pages use too
        visit(book.Root.OutputIntents, 0)
    for page in book.pages:
        if "/Resources" in page.obj:
            visit(page.obj.Resources, 0)


def _merge_fonts(book: pikepdf.Pdf, fonts: Path, whole_fonts: bool) -> None:
    """Each layout embeds its own subset of a font; the book gets one font per face instead.

    WeasyPrint keeps glyph ids when it subsets, so the subsets can be joined: the union of their
    widths and Unicode maps, and the original font cut to the union of their glyphs.
    """
    faces: dict[str, dict[tuple[int, int], pikepdf.Object]] = {}
    for resources in _font_resources(book):
        for font in resources.values():
            if font.get("/Subtype") == Name.Type0:
                faces.setdefault(str(font.BaseFont).split("+", 1)[-1], {})[font.objgen] = font
    replacement: dict[tuple[int, int], pikepdf.Object] = {}
    for face, variants in sorted(faces.items()):
        merged = _merged_font(book, face, list(variants.values()), fonts, whole_fonts)
        replacement |= dict.fromkeys(variants, merged)
    for resources in _font_resources(book):
        for key in list(resources.keys()):
            resources[key] = replacement.get(resources[key].objgen, resources[key])


def _font_resources(book: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """The /Font dictionaries of every page and of the forms drawn on it (pictures, the map)."""
    seen: set[tuple[int, int]] = set()

    def visit(resources: pikepdf.Object | None, depth: int) -> Iterator[pikepdf.Dictionary]:
        if not isinstance(resources, Dictionary) or depth > _STRUCTURE_DEPTH:
            return
        if "/Font" in resources:
            yield resources.Font
        for xobject in dict(resources.get("/XObject", {})).values():
            if xobject.is_indirect and xobject.objgen in seen:
                continue
            seen.add(xobject.objgen)
            yield from visit(xobject.get("/Resources"), depth + 1)

    for page in book.pages:
        yield from visit(page.obj.get("/Resources"), 0)


def _merged_font(book: pikepdf.Pdf, face: str, variants: list[pikepdf.Object], fonts: Path,
                 whole_fonts: bool) -> pikepdf.Object:
    if len(variants) == 1 and not whole_fonts:
        return variants[0]
    widths: dict[int, pikepdf.Object] = {}
    unicode: dict[bytes, bytes] = {}
    for font in variants:
        widths |= _widths(font.DescendantFonts[0].get("/W", Array()))
        unicode |= _unicode_map(font.ToUnicode.read_bytes())
    first = variants[0]
    descendant = first.DescendantFonts[0]
    descriptor = descendant.FontDescriptor
    original = _original_fonts(fonts).get(_postscript_name(descriptor.FontFile2.read_bytes()))
    if original is None:
        raise ValueError(f"the font {face} is not among {fonts}; cannot merge its subsets")
    font_file = original if whole_fonts else _subset(original, sorted(widths))
    tag = "".join(chr(ord("A") + byte % 26) for byte in hashlib.sha256(repr(sorted(widths)).encode()).digest()[:6])
    name = Name(f"/{face}" if whole_fonts else f"/{tag}+{face}")  # the tag marks a subset, and only a subset
    new_descriptor = Dictionary({key: value for key, value in descriptor.items() if key != "/FontFile2"})
    new_descriptor.FontName = name
    new_descriptor.FontFile2 = book.make_stream(zlib.compress(font_file, 9), Filter=Name.FlateDecode,
                                                Length1=len(font_file))
    new_descendant = Dictionary(dict(descendant.items()))
    new_descendant.BaseFont = name
    new_descendant.FontDescriptor = book.make_indirect(new_descriptor)
    new_descendant.W = Array([item for gid in sorted(widths) for item in (gid, Array([widths[gid]]))])
    return book.make_indirect(Dictionary(
        Type=Name.Font, Subtype=Name.Type0, BaseFont=name, Encoding=first.Encoding,
        DescendantFonts=Array([book.make_indirect(new_descendant)]),
        ToUnicode=book.make_stream(zlib.compress(_unicode_cmap(unicode), 9), Filter=Name.FlateDecode),
    ))


def _widths(w: pikepdf.Object) -> dict[int, pikepdf.Object]:
    """The /W array of a CID font as glyph id → width; it mixes ``c [w…]`` and ``c_first c_last w``."""
    items, found, i = list(w), {}, 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], Array):
            found |= {first + offset: width for offset, width in enumerate(items[i + 1])}
            i += 2
        else:
            found |= dict.fromkeys(range(first, int(items[i + 1]) + 1), items[i + 2])
            i += 3
    return found


def _unicode_map(cmap: bytes) -> dict[bytes, bytes]:
    """A ToUnicode CMap's glyph → text entries, from its bfchar and (single-codepoint) bfrange blocks."""
    found: dict[bytes, bytes] = {}
    for kind, block in _BLOCK.findall(cmap):
        values = _HEX.findall(block)
        if kind == b"char":
            found |= {code.lower(): text.lower() for code, text in zip(values[::2], values[1::2], strict=False)}
        else:
            for start, end, text in zip(values[::3], values[1::3], values[2::3], strict=False):
                base = int(text, 16)
                found |= {b"%04x" % code: b"%04x" % (base + offset)
                          for offset, code in enumerate(range(int(start, 16), int(end, 16) + 1))}
    return found


def _unicode_cmap(unicode: dict[bytes, bytes]) -> bytes:
    lines = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def",
             b"1 begincodespacerange", b"<0000> <ffff>", b"endcodespacerange"]
    entries = sorted(unicode.items())
    for start in range(0, len(entries), 100):  # a bfchar block holds at most 100 entries
        block = entries[start:start + 100]
        lines += [b"%d beginbfchar" % len(block), *(b"<%s> <%s>" % pair for pair in block), b"endbfchar"]
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def _postscript_name(font_file: bytes) -> str:
    return str(TTFont(io.BytesIO(font_file), lazy=True)["name"].getDebugName(6))


@lru_cache(maxsize=4)
def _original_fonts(fonts: Path) -> dict[str, bytes]:
    """The project's fonts by PostScript name, the name their subsets keep."""
    return {_postscript_name(data): data for data in (path.read_bytes() for path in sorted(fonts.glob("*.[ot]tf")))}


def _subset(font: bytes, glyphs: list[int]) -> bytes:
    options = subset.Options(retain_gids=True, ignore_missing_glyphs=True, notdef_outline=True, hinting=False,
                             desubroutinize=True, name_IDs=[1, 2, 3, 4, 6], name_languages=[0x409])
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "SVG", "BASE", "JSTF", "kern"]  # shaping is done: glyphs by id
    subsetter = subset.Subsetter(options)
    subsetter.populate(gids=glyphs)
    font_file = TTFont(io.BytesIO(font), recalcTimestamp=False)  # the same glyphs give the same bytes
    subsetter.subset(font_file)
    output = io.BytesIO()
    font_file.save(output)
    return output.getvalue()
