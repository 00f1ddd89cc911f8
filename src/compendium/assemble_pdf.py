"""Stage 3b: puts the spreads, each laid out on its own, in place of the frame's two empty pages: one PDF.

The frame is the book with one spread's two pages left empty to stand for all of them, so its
contents, its folios and its metadata are already those of the book. Merging keeps what readers and
the printing house rely on: named destinations (links), the outline, the tag tree of the screen
profile and one embedded subset per font.

The book is written as it is read, one spread at a time, so that merging takes about the same
memory for ten spreads as for five hundred. Each spread's objects are renumbered into the book and
written out (in compressed object streams) before the next spread is opened; only what spans the
book waits for the end: the tag tree's parent tree, the named destinations, the spreads' bookmarks
and the fonts, whose subsets are joined into one per face. The frame is written last, its page tree
taking the spreads' pages in place of its empty ones and its tag tree the spreads' tags.
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import fontTools
import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont
from pikepdf import Array, Dictionary, Name, NameTree

from .write import replace_file, replacing

_BLOCK = re.compile(rb"beginbf(char|range)(.*?)endbf\1", re.DOTALL)
_HEX = re.compile(rb"<([0-9a-fA-F]+)>")
# In an object as pikepdf writes it: a string (kept as it is), a marker this module put there, or a
# reference. Strings come first so that "1 0 R" inside one is never taken for a reference.
_TOKEN = re.compile(rb"(\((?:[^\\()]|\\.)*\)|<[0-9A-Fa-f\s]*>)|(/CompendiumMarker\d+)"
                    rb"|(?<![^\s\[\]<>])(\d+) (\d+) R(?![^\s\[\]<>/(])", re.DOTALL)
_STRUCTURE_DEPTH = 64  # deeper than any tag tree WeasyPrint writes; a guard against cycles
_OBJECTS_PER_STREAM = 100
_IDENTITY_DEPTH = 8
_OUTLINE_LINKS = {"/Parent", "/Prev", "/Next", "/First", "/Last"}
ObjGen = tuple[int, int]


def merge_spreads(frame: Path, stub_index: int, spreads: Sequence[Path], fonts: Path, whole_fonts: bool,
                  destination: Path, kept_fonts: Path | None = None) -> None:
    """Writes the frame with the spreads, in order, in place of its two empty pages from ``stub_index``,
    and one subset per font or, with ``whole_fonts``, each font file whole (layouts are written with
    subsets either way: smaller to keep and to merge). ``kept_fonts`` keeps the embedded font files
    between merges."""
    with replacing(destination) as file, pikepdf.open(frame) as book:
        stubs = [book.pages[stub_index + offset].obj for offset in (0, 1)] if spreads else []
        stub_objgens = {stub.objgen for stub in stubs}
        for page in book.pages:  # the empty pages are not written: cleaning theirs is wasted
            if page.obj.objgen not in stub_objgens:
                page.remove_unreferenced_resources()
        merge = _Merge(_Output(file, book.pdf_version), book, _FontFiles(fonts, kept_fonts), whole_fonts)
        for spread in spreads:
            # read whole: a spread's own PDF closed once copied uses less memory than one kept open
            with pikepdf.open(io.BytesIO(spread.read_bytes())) as chunk:
                if len(chunk.pages) != 2:
                    raise ValueError(f"{spread} has {len(chunk.pages)} pages, not 2")
                merge.add_spread(chunk)
        merge.add_frame(stubs)
        merge.finish()


class _Output:
    """Writes a PDF object by object, as numbered: plain objects gathered into compressed object
    streams, streams as they are, and a cross-reference stream at the end."""

    def __init__(self, file: BinaryIO, version: str) -> None:
        self.file, self.position, self.digest = file, 0, hashlib.sha256()
        self.kinds, self.places, self.indexes = array("b", [0]), array("q", [0]), array("l", [0])
        self.pending: list[tuple[int, bytes]] = []
        self._write(b"%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n" % version.encode())

    def allocate(self) -> int:
        self.kinds.append(0)
        self.places.append(0)
        self.indexes.append(0)
        return len(self.kinds) - 1

    def add(self, number: int, body: bytes) -> None:
        self.pending.append((number, body))
        if len(self.pending) == _OBJECTS_PER_STREAM:
            self._flush_objects()

    def add_stream(self, number: int, dictionary: bytes, data: bytes) -> None:
        self.kinds[number], self.places[number] = 1, self.position
        self._write(b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n" % (number, dictionary, data))

    def finish(self, root: int, info: int | None, permanent_id: bytes) -> None:
        """Writes the cross-reference stream. The file identifier is the frame's own permanent part and
        a digest of the content, so that the same objects give the same file."""
        self._flush_objects()
        number = self.allocate()
        self.kinds[number], self.places[number] = 1, self.position
        widths = (1, _byte_width(max(self.places)), _byte_width(max(self.indexes)))
        rows, previous = [], bytes(sum(widths))
        for entry in zip(self.kinds, self.places, self.indexes, strict=True):
            row = b"".join(value.to_bytes(width, "big") for value, width in zip(entry, widths, strict=True))
            rows.append(b"\x02" + bytes((byte - above) % 256 for byte, above in zip(row, previous, strict=True)))
            previous = row  # each row as its difference from the one above (PNG "up"): a tenth of the size
        data = zlib.compress(b"".join(rows))
        changing = self.digest.hexdigest()[:32].encode()
        self._write(b"%d 0 obj\n<< /Type /XRef /Size %d /W [ %d %d %d ] /Root %d 0 R%s /ID [ <%s> <%s> ] "
                    b"/Filter /FlateDecode /DecodeParms << /Columns %d /Predictor 12 >> /Length %d >>\n"
                    b"stream\n%s\nendstream\nendobj\n"
                    % (number, len(self.kinds), *widths, root, b" /Info %d 0 R" % info if info else b"",
                       permanent_id.hex().encode(), changing, sum(widths), len(data), data))
        self._write(b"startxref\n%d\n%%%%EOF\n" % self.places[number])

    def _flush_objects(self) -> None:
        if not self.pending:
            return
        stream = self.allocate()
        header, bodies, offset = [], [], 0
        for index, (number, body) in enumerate(self.pending):
            self.kinds[number], self.places[number], self.indexes[number] = 2, stream, index
            header.append(b"%d %d" % (number, offset))
            bodies.append(body)
            offset += len(body) + 1
        first = b" ".join(header) + b"\n"
        data = zlib.compress(first + b"\n".join(bodies) + b"\n")
        self.add_stream(stream, b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>"
                        % (len(self.pending), len(first), len(data)), data)
        self.pending = []

    def _write(self, data: bytes) -> None:
        self.file.write(data)
        self.digest.update(data)
        self.position += len(data)


class _Copier:
    """Copies the objects of one source PDF into the output, each numbered when first referred to and
    written once. Some of the source's objects are not its own to write: they are ``elsewhere``, given
    the number of the object that stands for them in the book (the frame's page tree for a spread's,
    one merged font for each subset, the first of identical streams)."""

    def __init__(self, output: _Output, pdf: pikepdf.Pdf, shared_streams: dict[bytes, int]) -> None:
        self.output, self.pdf, self.shared_streams = output, pdf, shared_streams
        self.numbers: dict[ObjGen, int] = {}
        self.queue: deque[ObjGen] = deque()
        self.markers: dict[bytes, bytes] = {}
        self.identities: dict[ObjGen, bytes | None] = {}
        self.standing_in: set[ObjGen] = set()
        """Objects written elsewhere: the book's number stands for them."""

    def elsewhere(self, objgen: ObjGen, number: int) -> None:
        self.numbers[objgen] = number
        self.standing_in.add(objgen)

    def take(self, objgen: ObjGen, number: int) -> None:
        """Writes the object under a number given in advance."""
        self.numbers[objgen] = number
        self.queue.append(objgen)

    def marker(self, replacement: bytes) -> Name:
        """A name to put in a source object, written out as ``replacement``: what the source cannot hold,
        such as references to objects of other sources."""
        name = b"/CompendiumMarker%d" % len(self.markers)
        self.markers[name] = replacement
        return Name(name.decode())

    def reference(self, objgen: ObjGen) -> int:
        if objgen not in self.numbers:
            found = self.pdf.get_object(objgen)
            # every layout embeds its own copy of the colour profile and of each drawing; the book keeps one
            identity = self._identity(objgen) if isinstance(found, pikepdf.Stream) else None
            if identity is not None and identity in self.shared_streams:
                self.numbers[objgen] = self.shared_streams[identity]
                return self.numbers[objgen]
            self.numbers[objgen] = self.output.allocate()
            if identity is not None:
                self.shared_streams[identity] = self.numbers[objgen]
            self.queue.append(objgen)
        return self.numbers[objgen]

    def _identity(self, objgen: ObjGen, depth: int = 0) -> bytes | None:
        """What an object is, whatever its number: its content with each reference replaced by what the
        object referred to is, or by the book's number for one that stands elsewhere. None for an object
        that leads to a page or too deep, which is never taken for another."""
        if objgen in self.standing_in:
            return b"%d" % self.numbers[objgen]
        if objgen not in self.identities:
            self.identities[objgen] = None  # a cycle gives no identity
            found = self.pdf.get_object(objgen)
            kind = found.get("/Type") if isinstance(found, Dictionary | pikepdf.Stream) else None
            if depth > _IDENTITY_DEPTH or kind in (Name.Page, Name.Pages):
                return None
            if isinstance(found, pikepdf.Stream):
                data = found.read_raw_bytes()
                body, parts = self._stream_dictionary(found, data), [hashlib.sha256(data).digest()]
            else:
                body, parts = found.unparse(resolved=True), [b""]
            for match in _TOKEN.finditer(body):
                if match[3]:
                    target = self._identity((int(match[3]), int(match[4])), depth + 1)
                    if target is None:
                        return None
                    parts.append(target)
            self.identities[objgen] = hashlib.sha256(b"\0".join([_TOKEN.sub(self._unnumbered, body), *parts])).digest()
        return self.identities[objgen]

    @staticmethod
    def _unnumbered(match: re.Match[bytes]) -> bytes:
        return b"R" if match[3] else match[0]

    def value(self, value: object) -> bytes:
        """A value as the book writes it, with every object it refers to copied."""
        return _TOKEN.sub(self._token, _unparsed(value))

    def drain(self) -> None:
        while self.queue:
            objgen = self.queue.popleft()
            found = self.pdf.get_object(objgen)
            if isinstance(found, pikepdf.Stream):
                data = found.read_raw_bytes()
                dictionary = _TOKEN.sub(self._token, self._stream_dictionary(found, data))
                self.output.add_stream(self.numbers[objgen], dictionary, data)
            else:
                self.output.add(self.numbers[objgen], _TOKEN.sub(self._token, found.unparse(resolved=True)))

    @staticmethod
    def _stream_dictionary(stream: pikepdf.Object, data: bytes) -> bytes:
        stream.stream_dict.Length = len(data)  # the data is copied as it is stored
        return stream.stream_dict.unparse(resolved=True)

    def _token(self, match: re.Match[bytes]) -> bytes:
        if match[1]:
            return match[1]
        if match[2]:
            return self.markers[match[2]]
        return b"%d 0 R" % self.reference((int(match[3]), int(match[4])))


@dataclass
class _Face:
    """One font face as the book's layouts use it: the union of their subsets, written once at the end."""

    number: int
    name: str
    postscript_name: str
    """The name the subsets keep, by which the original font is found."""
    encoding: bytes
    descendant: dict[str, bytes]
    descriptor: dict[str, bytes]
    widths: dict[int, pikepdf.Object] = field(default_factory=dict)
    unicode: dict[bytes, bytes] = field(default_factory=dict)


class _Merge:
    """One book being written: each spread added as it is read, then the frame, then what spans the book.
    The numbers the frame's objects will refer to (its page tree, its document element, the parent tree,
    the named destinations) are given out first, so that the spreads can point at them."""

    def __init__(self, output: _Output, book: pikepdf.Pdf, fonts: _FontFiles, whole_fonts: bool) -> None:
        self.output, self.book, self.fonts, self.whole_fonts = output, book, fonts, whole_fonts
        self.shared_streams: dict[bytes, int] = {}
        self.faces: dict[str, _Face] = {}
        self.destinations: dict[bytes, tuple[bytes, bytes]] = {}
        """Named destinations by the name's bytes (their order in the name tree): the name and the destination."""
        self.parent_tree: dict[int, bytes] = {}
        self.grafted: list[int] = []
        self.spread_pages: list[int] = []
        self.bookmarks: list[tuple[int, dict[str, bytes]]] = []
        """Each spread's bookmark: its number and its fields but for the links, which the frame decides."""
        self.pages_number = output.allocate()
        self.destinations_number = output.allocate()
        structure = book.Root.get("/StructTreeRoot")
        self.structure = _FrameStructure(structure) if structure is not None else None
        if self.structure is not None:
            self.structure_root_number, self.document_number, self.parent_tree_number = (
                output.allocate(), output.allocate(), output.allocate())
            self.next_key = self.structure.next_key

    def add_spread(self, chunk: pikepdf.Pdf) -> None:
        chunk.remove_unreferenced_resources()
        copier = _Copier(self.output, chunk, self.shared_streams)
        copier.elsewhere(chunk.Root.Pages.objgen, self.pages_number)
        pages = [page.obj for page in chunk.pages]
        for page in pages:
            number = self.output.allocate()
            copier.take(page.objgen, number)
            self.spread_pages.append(number)
        self._fonts(copier, pages)
        if self.structure is not None:
            self._graft_structure(copier, chunk, pages)
        self._destinations(copier, chunk)
        for bookmark in _outline_items(chunk.Root.get("/Outlines")):
            if "/First" in bookmark:
                raise ValueError("a spread's bookmark has bookmarks under it; only one level is merged")
            self.bookmarks.append((self.output.allocate(), {
                key: copier.value(value) for key, value in bookmark.items() if key not in _OUTLINE_LINKS}))
        copier.drain()

    def add_frame(self, stubs: list[pikepdf.Object]) -> None:
        book = self.book
        copier = _Copier(self.output, book, self.shared_streams)
        for stub, number in zip(stubs, self.spread_pages, strict=False):
            copier.elsewhere(stub.objgen, number)  # what pointed at the empty pages points at the first spread
        copier.take(book.Root.Pages.objgen, self.pages_number)
        index = {page.objgen: number for number, page in enumerate(book.pages)}
        if stubs:
            kids = list(book.Root.Pages.Kids)
            if [kid.objgen for kid in kids] != list(index):
                raise ValueError("the frame's page tree is not one flat list of pages")
            at = index[stubs[0].objgen]
            spread_pages = copier.marker(b" ".join(b"%d 0 R" % number for number in self.spread_pages))
            book.Root.Pages.Kids = Array([*kids[:at], spread_pages, *kids[at + 2:]])
            book.Root.Pages.Count = len(kids) - 2 + len(self.spread_pages)
        stub_objgens = {stub.objgen for stub in stubs}
        self._fonts(copier, [page.obj for page in book.pages if page.obj.objgen not in stub_objgens])
        if self.structure is not None:
            structure = self.structure
            copier.take(structure.document.objgen, self.document_number)
            if structure.root.is_indirect:
                copier.take(structure.root.objgen, self.structure_root_number)
            before, after, entries = structure.without(stubs, index)
            for key, value in entries:
                self.parent_tree[key] = copier.value(value)
            grafted = copier.marker(b" ".join(b"%d 0 R" % number for number in self.grafted))
            structure.document.K = Array([*before, grafted, *after])
            structure.root.ParentTree = copier.marker(b"%d 0 R" % self.parent_tree_number)
            structure.root.ParentTreeNextKey = self.next_key
        if stubs and self.bookmarks:
            self._nest_bookmarks(copier, index, index[stubs[0].objgen])
        self._destinations(copier, book)
        if self.destinations:
            if "/Names" not in book.Root:
                book.Root.Names = Dictionary()
            book.Root.Names.Dests = copier.marker(b"%d 0 R" % self.destinations_number)
        self.root_number = copier.reference(book.Root.objgen)
        info = book.trailer.get("/Info")
        self.info_number = copier.reference(info.objgen) if info is not None and info.is_indirect else None
        copier.drain()

    def _nest_bookmarks(self, copier: _Copier, index: dict[ObjGen, int], at: int) -> None:
        """Puts the spreads' bookmarks under the frame's last top-level bookmark before them (the part's
        opener), after its own, as one layout of the whole book would have nested them; with none
        before them, at the top level."""
        if "/Outlines" not in self.book.Root:
            self.book.Root.Outlines = self.book.make_indirect(Dictionary(Type=Name.Outlines, Count=0))
        outline = self.book.Root.Outlines
        top = list(_outline_items(outline))
        before = [item for item in top if (page := _destination_page(item, index)) is not None and page < at]
        parent = before[-1] if before else outline
        siblings = list(_outline_items(parent)) if before else top
        previous = siblings[-1] if before and siblings else None
        following = None if before else next((item for item in top if item not in before), None)
        numbers = [number for number, _ in self.bookmarks]
        first, last = b"%d 0 R" % numbers[0], b"%d 0 R" % numbers[-1]
        if previous is not None:
            previous.Next = copier.marker(first)
        else:
            parent.First = copier.marker(first)
        if following is not None:
            following.Prev = copier.marker(last)
        else:
            parent.Last = copier.marker(last)
        if parent is not outline:
            parent.Count = abs(int(parent.get("/Count", 0))) + len(numbers)  # open, as WeasyPrint leaves a part
        outline.Count = int(outline.get("/Count", 0)) + len(numbers)
        parent_number = copier.reference(parent.objgen)
        links = [copier.reference(previous.objgen) if previous is not None else None, *numbers,
                 copier.reference(following.objgen) if following is not None else None]
        for position, (number, fields) in enumerate(self.bookmarks, start=1):
            neighbours = {"/Prev": links[position - 1], "/Next": links[position + 1]}
            self.output.add(number, _dictionary(fields | {"/Parent": b"%d 0 R" % parent_number} | {
                key: b"%d 0 R" % link for key, link in neighbours.items() if link is not None}))

    def finish(self) -> None:
        """Writes what spans the book, which the frame refers to, and closes the file."""
        if self.structure is not None:
            self.output.add(self.parent_tree_number, b"<< /Nums [ %s ] >>" % b" ".join(
                b"%d %s" % (key, value) for key, value in sorted(self.parent_tree.items())))
        if self.destinations:
            self.output.add(self.destinations_number, b"<< /Names [ %s ] >>" % b" ".join(
                b"%s %s" % named for _, named in sorted(self.destinations.items())))
        for face in sorted(self.faces.values(), key=lambda face: face.name):
            self._write_face(face)
        self.fonts.keep_only_used()
        identifier = self.book.trailer.get("/ID")
        self.output.finish(self.root_number, self.info_number,
                           bytes(identifier[0]) if identifier is not None else hashlib.sha256(b"").digest()[:16])

    def _graft_structure(self, copier: _Copier, chunk: pikepdf.Pdf, pages: list[pikepdf.Object]) -> None:
        """Renumbers the spread's marked-content keys after the book's and takes its top-level elements
        into the frame's document element."""
        assert self.structure is not None
        root = chunk.Root.StructTreeRoot
        if root.is_indirect:
            copier.elsewhere(root.objgen, self.structure_root_number)
        document = _document_element(root)
        copier.elsewhere(document.objgen, self.document_number)
        offset = self.next_key
        for page in pages:
            page.StructParents = offset + int(page.StructParents)
            for annotation in page.get("/Annots", ()):
                if "/StructParent" in annotation:
                    annotation.StructParent = offset + int(annotation.StructParent)
        nums = root.ParentTree.Nums
        keys = [int(nums[i]) for i in range(0, len(nums), 2)]
        for i, key in zip(range(1, len(nums), 2), keys, strict=True):
            self.parent_tree[offset + key] = copier.value(nums[i])
        self.next_key = offset + max(keys, default=-1) + 1
        for kid in _as_list(document.K):
            self.grafted.append(copier.reference((kid if kid.is_indirect else chunk.make_indirect(kid)).objgen))

    def _destinations(self, copier: _Copier, pdf: pikepdf.Pdf) -> None:
        """WeasyPrint links to anchors by name, so links between layouts work once the names are merged.
        A spread's own destinations come first and win over the frame's for its empty pages."""
        if "/Names" not in pdf.Root or "/Dests" not in pdf.Root.Names:
            return
        for name, destination in NameTree(pdf.Root.Names.Dests).items():
            string = pikepdf.String(name)
            key = bytes(string)
            if key not in self.destinations:
                self.destinations[key] = (string.unparse(), copier.value(destination))

    def _fonts(self, copier: _Copier, pages: list[pikepdf.Object]) -> None:
        """Each layout embeds its own subset of a font; the book gets one font per face instead.

        WeasyPrint keeps glyph ids when it subsets, so the subsets can be joined: the union of their
        widths and Unicode maps, and the original font cut to the union of their glyphs.
        """
        seen: set[ObjGen] = set()
        for resources in _font_resources(pages):
            for font in resources.values():
                if font.get("/Subtype") != Name.Type0 or font.objgen in seen:
                    continue
                seen.add(font.objgen)
                face_name = str(font.BaseFont).split("+", 1)[-1]
                face = self.faces.get(face_name) or self._new_face(copier, face_name, font)
                face.widths |= _widths(font.DescendantFonts[0].get("/W", Array()))
                face.unicode |= _unicode_map(font.ToUnicode.read_bytes())
                copier.elsewhere(font.objgen, face.number)

    def _new_face(self, copier: _Copier, name: str, font: pikepdf.Object) -> _Face:
        descendant = font.DescendantFonts[0]
        descriptor = descendant.FontDescriptor
        postscript_name = _postscript_name(descriptor.FontFile2.read_bytes())
        face = _Face(self.output.allocate(), name, postscript_name, copier.value(font.Encoding),
                     {key: copier.value(value) for key, value in descendant.items()
                      if key not in ("/BaseFont", "/FontDescriptor", "/W")},
                     {key: copier.value(value) for key, value in descriptor.items()
                      if key not in ("/FontName", "/FontFile2")})
        self.faces[name] = face
        return face

    def _write_face(self, face: _Face) -> None:
        compressed, length = self.fonts.embedded(face.name, face.postscript_name,
                                                 None if self.whole_fonts else sorted(face.widths))
        tag = "".join(chr(ord("A") + byte % 26)
                      for byte in hashlib.sha256(repr(sorted(face.widths)).encode()).digest()[:6])
        name = Name(f"/{face.name}" if self.whole_fonts else f"/{tag}+{face.name}").unparse()  # a tag marks a subset
        output = self.output
        file_number, descriptor_number, descendant_number, unicode_number = (output.allocate() for _ in range(4))
        output.add_stream(file_number, b"<< /Filter /FlateDecode /Length %d /Length1 %d >>"
                          % (len(compressed), length), compressed)
        output.add(descriptor_number, _dictionary(face.descriptor | {
            "/FontName": name, "/FontFile2": b"%d 0 R" % file_number}))
        widths = b" ".join(b"%d [ %s ]" % (gid, _unparsed(face.widths[gid])) for gid in sorted(face.widths))
        output.add(descendant_number, _dictionary(face.descendant | {
            "/BaseFont": name, "/FontDescriptor": b"%d 0 R" % descriptor_number, "/W": b"[ %s ]" % widths}))
        cmap = zlib.compress(_unicode_cmap(face.unicode), 9)
        output.add_stream(unicode_number, b"<< /Filter /FlateDecode /Length %d >>" % len(cmap), cmap)
        output.add(face.number, _dictionary({
            "/Type": b"/Font", "/Subtype": b"/Type0", "/BaseFont": name, "/Encoding": face.encoding,
            "/DescendantFonts": b"[ %d 0 R ]" % descendant_number, "/ToUnicode": b"%d 0 R" % unicode_number}))


class _FontFiles:
    """The font files a book embeds, compressed, from the project's fonts; with ``kept``, kept there by the
    font and the glyphs they hold, since a rebuild after an edit mostly embeds the same ones (subsetting
    and compressing them is a sixth of a merge)."""

    def __init__(self, originals: Path, kept: Path | None) -> None:
        self.originals, self.kept, self.used = originals, kept, set[str]()
        if kept is not None:
            kept.mkdir(parents=True, exist_ok=True)

    def embedded(self, face: str, postscript_name: str, glyphs: list[int] | None) -> tuple[bytes, int]:
        """The font file, compressed, and its length before: whole, or cut to ``glyphs``."""
        original = _original_fonts(self.originals).get(postscript_name)
        if original is None:
            raise ValueError(f"the font {face} is not among {self.originals}; cannot merge its subsets")
        key = hashlib.sha256(b"%s\0%s\0%s" % (hashlib.sha256(original).digest(), repr(glyphs).encode(),
                                                fontTools.version.encode())).hexdigest()[:40]
        self.used.add(key)
        kept = self.kept / key if self.kept is not None else None
        if kept is not None and kept.is_file():
            data = kept.read_bytes()
            return data[8:], int.from_bytes(data[:8], "big")
        font_file = original if glyphs is None else _subset(original, glyphs)
        compressed = zlib.compress(font_file, 9)
        if kept is not None:
            replace_file(kept, len(font_file).to_bytes(8, "big") + compressed)
        return compressed, len(font_file)

    def keep_only_used(self) -> None:
        for stale in (path for path in self.kept.glob("*") if path.name not in self.used) if self.kept else ():
            stale.unlink(missing_ok=True)


class _FrameStructure:
    """The frame's tag tree: its document element's children either side of the empty pages' tags,
    which are dropped, and its parent tree without the empty pages' entries."""

    def __init__(self, root: pikepdf.Object) -> None:
        self.root = root
        self.document = _document_element(root)
        nums = root.ParentTree.Nums
        self.entries = [(int(nums[i]), nums[i + 1]) for i in range(0, len(nums), 2)]
        self.next_key = max((key for key, _ in self.entries), default=-1) + 1

    def without(self, stubs: list[pikepdf.Object], index: dict[ObjGen, int]
                ) -> tuple[list[pikepdf.Object], list[pikepdf.Object], list[tuple[int, pikepdf.Object]]]:
        """The document element's children before and after the empty pages, and the parent tree's
        entries, all without the empty pages' own."""
        pages = {stub.objgen for stub in stubs}
        keys = {int(stub.StructParents) for stub in stubs if "/StructParents" in stub}
        at = min((index[page] for page in pages), default=len(index))
        kids = [kid for kid in _as_list(self.document.K) if not _on_pages(kid, pages)]
        starts = [_first_page(kid, index) for kid in kids]
        position = next((number for number, start in enumerate(starts) if start is not None and start > at), len(kids))
        return kids[:position], kids[position:], [(key, value) for key, value in self.entries if key not in keys]


def _first_page(element: pikepdf.Object, index: dict[ObjGen, int], depth: int = 0) -> int | None:
    """The first page a structure element marks content on, by the frame's page order."""
    if not isinstance(element, Dictionary) or depth > _STRUCTURE_DEPTH:
        return None
    if "/Pg" in element and element.Pg.objgen in index:
        return index[element.Pg.objgen]
    return next((page for kid in _as_list(element.get("/K"))
                 if (page := _first_page(kid, index, depth + 1)) is not None), None)


def _outline_items(node: pikepdf.Object | None) -> Iterator[pikepdf.Object]:
    """The bookmarks right under an outline node, in order."""
    item = node.get("/First") if node is not None else None
    while item is not None:
        yield item
        item = item.get("/Next")


def _destination_page(item: pikepdf.Object, index: dict[ObjGen, int]) -> int | None:
    destination = item.get("/Dest")
    if destination is None and "/A" in item:
        destination = item.A.get("/D")
    if isinstance(destination, Dictionary) and "/D" in destination:
        destination = destination.D
    if isinstance(destination, Array) and len(destination) and isinstance(destination[0], Dictionary):
        return index.get(destination[0].objgen)
    return None


def _document_element(root: pikepdf.Object) -> pikepdf.Object:
    kids = root.K
    return kids[0] if isinstance(kids, Array) else kids


def _on_pages(element: pikepdf.Object, pages: set[ObjGen], depth: int = 0) -> bool:
    """Whether a structure element or any below it marks content on one of ``pages``."""
    if not isinstance(element, Dictionary) or depth > _STRUCTURE_DEPTH:
        return False
    if "/Pg" in element and element.Pg.objgen in pages:
        return True
    return any(_on_pages(kid, pages, depth + 1) for kid in _as_list(element.get("/K")))


def _as_list(value: pikepdf.Object | None) -> list[pikepdf.Object]:
    if value is None:
        return []
    return list(value) if isinstance(value, Array) else [value]


def _font_resources(pages: list[pikepdf.Object]) -> Iterator[pikepdf.Dictionary]:
    """The /Font dictionaries of the pages and of the forms drawn on them (pictures, the map)."""
    seen: set[ObjGen] = set()

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

    for page in pages:
        yield from visit(page.get("/Resources"), 0)


def _dictionary(items: dict[str, bytes]) -> bytes:
    return b"<< %s >>" % b" ".join(b"%s %s" % (Name(key).unparse(), value) for key, value in sorted(items.items()))


def _byte_width(value: int) -> int:
    return max(1, (value.bit_length() + 7) // 8)


def _unparsed(value: object) -> bytes:
    """A value as PDF syntax: pikepdf gives numbers, booleans and null as Python's own."""
    if isinstance(value, pikepdf.Object):
        return value.unparse(resolved=False)
    if value is None or isinstance(value, bool):
        return {None: b"null", True: b"true", False: b"false"}[value]
    return b"%d" % value if isinstance(value, int) else format(value, "f").encode()


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
