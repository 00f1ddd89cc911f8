"""Stage 3b: puts the spreads, each laid out on its own, in place of the frame's two empty pages: one PDF.

The frame is the book with one spread's two pages left empty to stand for all of them, so its
contents, its folios and its metadata are already those of the book. Merging keeps what readers and
the printing house rely on: named destinations (links), the outline, the tag tree of the screen
profile and one embedded subset per font.

Each spread is prepared once, by the worker that lays it out: its objects are read with pikepdf and
kept beside its PDF as templates (`PreparedPart`), in which every number the book decides (object
numbers, marked-content keys, the book's fonts and page tree) is a slot. Merging then only fills the
slots in and writes, one spread at a time, so that it takes about the same memory for ten spreads as
for five hundred, and a rebuild after an edit parses only what changed. What spans the book waits
for the end: the tag tree's parent tree, the named destinations, the spreads' bookmarks and the
fonts, whose subsets are joined into one per face. The frame is prepared as it is merged, its page
tree taking the spreads' pages in place of its empty ones and its tag tree the spreads' tags.
"""

from __future__ import annotations

import hashlib
import io
import marshal
import re
import zlib
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, NamedTuple

import fontTools
import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont
from pikepdf import Array, Dictionary, Name, NameTree

from .cache_files import Damaged, KeptFiles, keep, keeping, kept_name
from .errors import CompendiumError
from .layout_cache import PREPARED_SUFFIX, StubRun
from .page_reading import cid_widths, unicode_map, unparsed

# In an object as pikepdf writes it: a string (kept as it is), a marker this module put there, or a
# reference. Strings come first so that "1 0 R" inside one is never taken for a reference.
_TOKEN = re.compile(rb"(\((?:[^\\()]|\\.)*\)|<[0-9A-Fa-f\s]*>)|(/CompendiumMarker\d+)"
                    rb"|(?<![^\s\[\]<>])(\d+) (\d+) R(?![^\s\[\]<>/(])", re.DOTALL)
_STRUCTURE_DEPTH = 64  # deeper than any tag tree WeasyPrint writes; a guard against cycles
_OBJECTS_PER_STREAM = 100
_INLINE_STREAM_BYTES = 16_384
"""Larger streams (the colour profile, photographs) stay in the layout's PDF until the book writes them: the
same profile in every layout need not be kept again beside each, nor read again but once per book."""
_PART_FORMAT = "compendium-prepared-part-1"
_IDENTITY_DEPTH = 8
_OUTLINE_LINKS = {"/Parent", "/Prev", "/Next", "/First", "/Last"}
ObjGen = tuple[int, int]


def merge_spreads(frame: Path, runs: Sequence[StubRun], fonts: Path, whole_fonts: bool,
                  destination: Path, kept_fonts: Path | None = None) -> list[Damaged]:
    """Writes the frame with each run's layouts, in order, in place of its empty pages (the contents' and
    the spreads'), and one subset per font or, with ``whole_fonts``, each font file whole (layouts are
    written with subsets either way: smaller to keep and to merge). Each layout's objects come prepared from
    beside its PDF (`prepared_spread`). ``kept_fonts`` keeps the embedded font files between merges.

    The book is a kept file of the layout cache, its digest beside it (`cache_files`); gives the kept files
    found damaged, and made again, on the way."""
    kept = KeptFiles()
    with keeping(destination) as file, pikepdf.open(frame) as book:
        runs = [run for run in runs if run.layouts]
        stubs = [[book.pages[run.first + offset].obj for offset in range(run.count)] for run in runs]
        stub_objgens = {stub.objgen for run in stubs for stub in run}
        for page in book.pages:  # the empty pages are not written: cleaning theirs is wasted
            if page.obj.objgen not in stub_objgens:
                page.remove_unreferenced_resources()
        merge = _Merge(_Output(file, book.pdf_version), book, _FontFiles(fonts, kept_fonts, kept), whole_fonts)
        for number, run in enumerate(runs):
            for layout in run.layouts:
                merge.add_spread(prepared_spread(layout, run.own_destinations, kept), layout, number)
        merge.add_frame(stubs)
        merge.finish()
    return kept.damaged


def keep_prepared_spread(pdf: Path, data: bytes, own_destinations: bool = True) -> None:
    """Prepares a layout for the merge and keeps it beside its PDF, where `prepared_spread` finds it."""
    keep(_prepared_path(pdf), prepare_spread(data, own_destinations).to_bytes())


def _prepared_path(pdf: Path) -> Path:
    return pdf.with_suffix(PREPARED_SUFFIX)


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
        width, place_shift, index_shift = sum(widths), 8 * (widths[1] + widths[2]), 8 * widths[2]
        table = b"".join(((kind << place_shift) | (place << index_shift) | index).to_bytes(width, "big")
                         for kind, place, index in zip(self.kinds, self.places, self.indexes, strict=True))
        # each row as its difference from the one above (PNG "up"): a tenth of the size
        up = bytes((byte - above) & 0xFF for byte, above in zip(table, bytes(width) + table[:-width], strict=True))
        data = zlib.compress(b"".join(b"\x02" + up[start:start + width] for start in range(0, len(up), width)))
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


Template = tuple[bytes, tuple[int, ...]]
"""PDF syntax with a ``%d`` for each number the book decides (a literal ``%`` doubled), and for each the
slot of its part's table that gives it: the part's own objects from 0, what it names outside itself from -1
down (see `PreparedPart.externals`)."""


class _PartObject(NamedTuple):
    """One object of a layout, as the book writes it once its slots are numbered."""

    body: bytes
    """The object, or a stream's dictionary, as a `Template`'s syntax."""
    slots: tuple[int, ...]
    source: ObjGen
    """Its number in the layout's own PDF, where a large stream's data is read from when the book writes it."""
    data: bytes | None
    """A small stream's data as stored; None for a plain object or a large stream (left in the layout's PDF)."""
    stream: bool
    identity: bytes | None
    """For a stream, what it is whatever it is numbered: an identical one already in the book stands for it."""


class _FaceUse(NamedTuple):
    """One font face as one layout uses it: the glyphs it needs and how its subset describes the face."""

    name: str
    postscript_name: str
    encoding: Template
    descendant: dict[str, Template]
    descriptor: dict[str, Template]
    widths: dict[int, bytes]
    unicode: dict[bytes, bytes]

    def described(self) -> list[Template]:
        """How the face is described: what the book writes of it if this layout is the first to use it."""
        return [self.encoding, *self.descendant.values(), *self.descriptor.values()]


class PreparedPart(NamedTuple):
    """A layout's objects as the book takes them, numbered within the layout, made once when the layout is
    made so that a merge writes its objects without parsing it again: every number the book decides is a
    slot, filled as the merge places the part."""

    objects: tuple[_PartObject, ...]
    externals: tuple[str, ...]
    """What slot -1 - i stands for, outside the part: ``pages`` (the book's page tree), ``structure`` and
    ``document`` (its tag tree's root and document element), ``face:NAME`` (the book's one font for the
    face), ``key:N`` (marked-content key N, moved on past the book's keys so far), ``#N`` (object N)."""
    given: tuple[tuple[int, str], ...]
    """Objects of the part written under a number the book gave out before, named as in ``externals``."""
    roots: tuple[int, ...]
    """The part's objects the book refers to from outside them; all others are reached from these."""
    pages: tuple[int, ...]
    faces: tuple[_FaceUse, ...]
    tagged: bool
    parent_tree: tuple[tuple[int, Template], ...]
    """The part's parent tree, by its own marked-content keys."""
    key_count: int
    grafted: tuple[int, ...]
    """The part's top-level tags, which go under the book's document element."""
    destinations: tuple[tuple[bytes, bytes, Template], ...]
    """Named destinations: the name's bytes, the name as PDF syntax, the destination."""
    bookmarks: tuple[tuple[tuple[str, Template], ...], ...]
    """Each bookmark's fields but for its links, which the frame decides."""
    leaves_only: bool
    """Whether no stream another may stand for, and no face's description, refers to one of the part's
    objects: then each object not replaced by an identical one is written, without tracing references."""

    def to_bytes(self) -> bytes:
        plain = self._replace(objects=tuple(map(tuple, self.objects)), faces=tuple(map(tuple, self.faces)))
        return marshal.dumps((_PART_FORMAT, *plain))

    @classmethod
    def from_bytes(cls, data: bytes) -> PreparedPart:
        """Raises ValueError for anything but a part this version of the module wrote."""
        try:
            kind, *fields = marshal.loads(data)
            if kind != _PART_FORMAT:
                raise ValueError(f"not a prepared part of format {_PART_FORMAT!r}")
            part = cls(*fields)
            return part._replace(objects=tuple(_PartObject(*item) for item in part.objects),
                                 faces=tuple(_FaceUse(*face) for face in part.faces))
        except (EOFError, TypeError) as error:
            raise ValueError(f"not a prepared part: {error}") from error


def prepare_spread(pdf: bytes, own_destinations: bool = True) -> PreparedPart:
    """A spread's layout (or a part of the contents', whose named destinations are left out), as the merge
    takes it."""
    with pikepdf.open(io.BytesIO(pdf)) as chunk:
        if own_destinations and len(chunk.pages) != 2:
            raise ValueError(f"a spread has {len(chunk.pages)} pages, not 2")
        chunk.remove_unreferenced_resources()
        copier = _Copier(chunk)
        copier.elsewhere(chunk.Root.Pages.objgen, "pages")
        pages = [page.obj for page in chunk.pages]
        page_slots = tuple(copier.reference(page.objgen) for page in pages)
        faces = _face_uses(copier, pages)
        root = chunk.Root.get("/StructTreeRoot")
        parent_tree, key_count, grafted = _structure(copier, chunk, root, pages) if root is not None else ((), 0, ())
        destinations = _destinations(copier, chunk) if own_destinations else ()
        bookmarks = []
        for bookmark in _outline_items(chunk.Root.get("/Outlines")):
            if "/First" in bookmark:
                raise ValueError("a spread's bookmark has bookmarks under it; only one level is merged")
            bookmarks.append(tuple((key, copier.value(value)) for key, value in bookmark.items()
                                   if key not in _OUTLINE_LINKS))
        return copier.prepared(page_slots, faces, root is not None, parent_tree, key_count, grafted, destinations,
                               tuple(bookmarks), page_slots + grafted)


def prepared_spread(pdf: Path, own_destinations: bool = True, kept: KeptFiles | None = None) -> PreparedPart:
    """A layout's prepared part from beside its PDF, where its layout keeps it, or prepared now and kept;
    ``kept`` notes one found damaged."""
    kept = kept or KeptFiles()
    try:
        return PreparedPart.from_bytes(kept.read(_prepared_path(pdf), "макет, готовый к сведению") or b"")
    except ValueError:  # not kept, damaged, or of another version
        part = prepare_spread(pdf.read_bytes(), own_destinations)
        keep(_prepared_path(pdf), part.to_bytes())
        return part


def _structure(copier: _Copier, chunk: pikepdf.Pdf, root: pikepdf.Object, pages: list[pikepdf.Object]
               ) -> tuple[tuple[tuple[int, Template], ...], int, tuple[int, ...]]:
    """A spread's parent tree and its top-level tags; its marked-content keys become slots, since the book
    numbers them on after those of the spreads before."""
    if root.is_indirect:
        copier.elsewhere(root.objgen, "structure")
    document = _document_element(root)
    copier.elsewhere(document.objgen, "document")
    for page in pages:
        page.StructParents = copier.number(f"key:{int(page.StructParents)}")
        for annotation in page.get("/Annots", ()):
            if "/StructParent" in annotation:
                annotation.StructParent = copier.number(f"key:{int(annotation.StructParent)}")
    nums = root.ParentTree.Nums
    entries = tuple((int(nums[i]), copier.value(nums[i + 1])) for i in range(0, len(nums), 2))
    grafted = tuple(copier.reference((kid if kid.is_indirect else chunk.make_indirect(kid)).objgen)
                    for kid in _as_list(document.K))
    return entries, max((key for key, _ in entries), default=-1) + 1, grafted


def _destinations(copier: _Copier, pdf: pikepdf.Pdf) -> tuple[tuple[bytes, bytes, Template], ...]:
    """WeasyPrint links to anchors by name, so links between layouts work once the names are merged."""
    if "/Names" not in pdf.Root or "/Dests" not in pdf.Root.Names:
        return ()
    found = []
    for name, destination in NameTree(pdf.Root.Names.Dests).items():
        string = pikepdf.String(name)
        found.append((bytes(string), string.unparse(), copier.value(destination)))
    return tuple(found)


def _face_uses(copier: _Copier, pages: list[pikepdf.Object]) -> tuple[_FaceUse, ...]:
    """The font faces the pages use, each subset standing for the book's one font of its face.

    WeasyPrint keeps glyph ids when it subsets, so the subsets can be joined: the union of their
    widths and Unicode maps, and the original font cut to the union of their glyphs.
    """
    uses: dict[str, _FaceUse] = {}
    seen: set[ObjGen] = set()
    for resources in _font_resources(pages):
        for font in resources.values():
            if font.get("/Subtype") != Name.Type0 or font.objgen in seen:
                continue
            seen.add(font.objgen)
            name = str(font.BaseFont).split("+", 1)[-1]
            descendant = font.DescendantFonts[0]
            if name not in uses:
                descriptor = descendant.FontDescriptor
                uses[name] = _FaceUse(
                    name, _postscript_name(descriptor.FontFile2.read_bytes()), copier.value(font.Encoding),
                    {key: copier.value(value) for key, value in descendant.items()
                     if key not in ("/BaseFont", "/FontDescriptor", "/W")},
                    {key: copier.value(value) for key, value in descriptor.items()
                     if key not in ("/FontName", "/FontFile2")}, {}, {})
            uses[name].widths.update(cid_widths(descendant.get("/W", Array())))
            uses[name].unicode.update(unicode_map(font.ToUnicode.read_bytes()))
            copier.elsewhere(font.objgen, f"face:{name}")
    return tuple(uses.values())


class _Copier:
    """Takes the objects of one source PDF into a prepared part, each given a slot when first referred to.
    Some of the source's objects are not the part's to write: they stand ``elsewhere`` for something of
    the book (the frame's page tree for a spread's, one merged font for each subset)."""

    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self.pdf = pdf
        self.slots: dict[ObjGen, int] = {}
        self.sources: list[ObjGen] = []
        """The part's objects, by slot: the order in which they were first referred to."""
        self.externals: dict[str, int] = {}
        self.standing_in: dict[ObjGen, str] = {}
        self.given: dict[int, str] = {}
        self.markers: dict[bytes, Template] = {}
        self.identities: dict[ObjGen, bytes | None] = {}
        self.made: list[_PartObject] = []

    def elsewhere(self, objgen: ObjGen, label: str) -> None:
        self.slots[objgen] = self._external(label)
        self.standing_in[objgen] = label

    def take(self, objgen: ObjGen, label: str) -> None:
        """Writes the object under a number the book gave out before."""
        self.given[self.reference(objgen)] = label

    def marker(self, replacement: bytes) -> Name:
        """A name to put in a source object, written out as ``replacement``: what the source cannot hold,
        such as references to objects of other layouts."""
        return self._marker((replacement.replace(b"%", b"%%"), ()))

    def number(self, label: str) -> Name:
        """A name to put in a source object, written out as the number the book gives ``label``."""
        return self._marker((b"%d", (self._external(label),)))

    def reference(self, objgen: ObjGen) -> int:
        if objgen not in self.slots:
            self.slots[objgen] = len(self.sources)
            self.sources.append(objgen)
        return self.slots[objgen]

    def value(self, value: object) -> Template:
        """A value as a template, with every object it refers to taken into the part."""
        return self._template(unparsed(value))

    def drain(self) -> None:
        while len(self.made) < len(self.sources):
            objgen = self.sources[len(self.made)]
            found = self.pdf.get_object(objgen)
            if isinstance(found, pikepdf.Stream):
                data = found.read_raw_bytes()
                body, slots = self._template(self._stream_dictionary(found, data))
                kept = data if len(data) <= _INLINE_STREAM_BYTES else None
                self.made.append(_PartObject(body, slots, objgen, kept, True, self._identity(objgen)))
            else:
                body, slots = self._template(found.unparse(resolved=True))
                self.made.append(_PartObject(body, slots, objgen, None, False, None))

    def prepared(self, pages: tuple[int, ...], faces: tuple[_FaceUse, ...], tagged: bool,
                 parent_tree: tuple[tuple[int, Template], ...], key_count: int, grafted: tuple[int, ...],
                 destinations: tuple[tuple[bytes, bytes, Template], ...],
                 bookmarks: tuple[tuple[tuple[str, Template], ...], ...], roots: tuple[int, ...]) -> PreparedPart:
        self.drain()
        outside = [template for _, template in parent_tree] + [template for *_, template in destinations] + [
            template for fields in bookmarks for _, template in fields]
        reached = {slot for _, slots in outside for slot in slots if slot >= 0} | set(roots)
        described = [template for face in faces for template in face.described()]
        leaves_only = not any(slot >= 0 for item in self.made if item.identity is not None for slot in item.slots) \
            and not any(slot >= 0 for _, slots in described for slot in slots)
        return PreparedPart(tuple(self.made), tuple(self.externals), tuple(sorted(self.given.items())),
                            tuple(sorted(reached)), pages, faces, tagged, parent_tree, key_count, grafted,
                            destinations, bookmarks, leaves_only)

    def _external(self, label: str) -> int:
        return -1 - self.externals.setdefault(label, len(self.externals))

    def _marker(self, template: Template) -> Name:
        name = b"/CompendiumMarker%d" % len(self.markers)
        self.markers[name] = template
        return Name(name.decode())

    def _template(self, syntax: bytes) -> Template:
        slots: list[int] = []

        def token(match: re.Match[bytes]) -> bytes:
            if match[1]:
                return match[1]
            if match[2]:
                replacement, inside = self.markers[match[2]]
                slots.extend(inside)
                return replacement
            slots.append(self.reference((int(match[3]), int(match[4]))))
            return b"%d 0 R"

        return _TOKEN.sub(token, syntax.replace(b"%", b"%%")), tuple(slots)

    def _identity(self, objgen: ObjGen, depth: int = 0) -> bytes | None:
        """What an object is, whatever its number: its content with each reference replaced by what the
        object referred to is, or by what it stands for elsewhere. None for an object that leads to a page
        or too deep, which is never taken for another."""
        if objgen in self.standing_in:
            return self.standing_in[objgen].encode()
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

    @staticmethod
    def _stream_dictionary(stream: pikepdf.Object, data: bytes) -> bytes:
        stream.stream_dict.Length = len(data)  # the data is copied as it is stored
        return stream.stream_dict.unparse(resolved=True)


def _joins(use: _FaceUse, face: _Face) -> bool:
    """Whether a layout's subset of a face can join one of the book's fonts of that face: both encode
    glyphs by their ids (Identity-H), and no glyph is given other text or another width than the font's.

    WeasyPrint encodes a face its own way in a layout where some character has no glyph (codes past the
    font's glyphs, mapped to .notdef by a CMap of that layout's codes only); other layouts' codes mean
    nothing in that CMap, so such a subset keeps a font of its own. A glyph that two layouts map to
    different text (one for a space, the other for a no-break space) would make one of them extract wrong.
    """
    if use.encoding[1] or not face.shared or use.encoding[0] != face.encoding:
        return False
    return not any(face.unicode.get(code, text) != text for code, text in use.unicode.items()) and not any(
        face.widths.get(glyph, width) != width for glyph, width in use.widths.items())


def _filled(template: Template, table: list[int]) -> bytes:
    body, slots = template
    return body % tuple(map(table.__getitem__, slots))


@dataclass
class _Face:
    """One font face as the book's layouts use it: the union of their subsets, written once at the end."""

    number: int
    name: str
    postscript_name: str
    """The name the subsets keep, by which the original font is found."""
    variant: int = 0
    """Which of the book's fonts of this face: more than one when layouts encode or map its glyphs apart."""
    shared: bool = True
    """Whether other layouts' subsets may join it: not when its encoding is a layout's own (`_joins`)."""
    encoding: bytes = b""
    descendant: dict[str, bytes] = field(default_factory=dict)
    descriptor: dict[str, bytes] = field(default_factory=dict)
    """How the first layout to use the face describes it."""
    widths: dict[int, bytes] = field(default_factory=dict)
    unicode: dict[bytes, bytes] = field(default_factory=dict)


class _Merge:
    """One book being written: each spread placed as it is read, then the frame, then what spans the book.
    The numbers the frame's objects will refer to (its page tree, its document element, the parent tree,
    the named destinations) are given out first, so that the spreads can point at them."""

    def __init__(self, output: _Output, book: pikepdf.Pdf, fonts: _FontFiles, whole_fonts: bool) -> None:
        self.output, self.book, self.fonts, self.whole_fonts = output, book, fonts, whole_fonts
        self.shared_streams: dict[bytes, int] = {}
        self.faces: dict[str, list[_Face]] = {}
        """By face, the book's fonts of it: one, unless layouts encode or map its glyphs apart (`_joins`)."""
        self.destinations: dict[bytes, tuple[bytes, bytes]] = {}
        """Named destinations by the name's bytes (their order in the name tree): the name and the destination."""
        self.parent_tree: dict[int, bytes] = {}
        self.grafted: dict[int, list[int]] = {}
        """By run of empty pages, the top-level tags of the layouts that take their place."""
        self.spread_pages: dict[int, list[int]] = {}
        """By run, the pages of its layouts."""
        self.bookmarks: dict[int, list[dict[str, bytes]]] = {}
        """By run, each layout's bookmark, but for the links, which the frame decides."""
        self.pages_number = output.allocate()
        self.destinations_number = output.allocate()
        structure = book.Root.get("/StructTreeRoot")
        self.structure = _FrameStructure(structure) if structure is not None else None
        if self.structure is not None:
            self.structure_root_number, self.document_number, self.parent_tree_number = (
                output.allocate(), output.allocate(), output.allocate())
            self.next_key = self.structure.next_key

    def add_spread(self, part: PreparedPart, layout: Path, run: int = 0) -> None:
        """Writes one layout's objects, which take the place of run ``run`` of empty pages; ``layout`` is its
        PDF, which holds its large streams."""
        if part.tagged != (self.structure is not None):
            raise ValueError(f"{layout}: {'the spread' if part.tagged else 'the frame'} is tagged, "
                             f"{'the frame' if part.tagged else 'the spread'} is not")
        offset = self.next_key if part.tagged else 0
        with _LargeStreams(lambda: pikepdf.open(layout)) as large:
            table = self._place(part, offset, large.read)
        self.spread_pages.setdefault(run, []).extend(table[slot] for slot in part.pages)
        if part.tagged:
            self.parent_tree |= {offset + key: _filled(value, table) for key, value in part.parent_tree}
            self.next_key = offset + part.key_count
            self.grafted.setdefault(run, []).extend(table[slot] for slot in part.grafted)
        self.bookmarks.setdefault(run, []).extend(
            {key: _filled(value, table) for key, value in fields} for fields in part.bookmarks)

    def add_frame(self, runs: list[list[pikepdf.Object]]) -> None:
        """Writes the frame, each run of its empty pages (``runs``, in order) replaced by its layouts' pages."""
        book = self.book
        copier = _Copier(book)
        for number, stubs in enumerate(runs):  # what pointed at an empty page points at the page in its place
            for stub, page in zip(stubs, self.spread_pages[number], strict=False):
                copier.elsewhere(stub.objgen, f"#{page}")
        copier.take(book.Root.Pages.objgen, f"#{self.pages_number}")
        index = {page.objgen: number for number, page in enumerate(book.pages)}
        stub_objgens = {stub.objgen for stubs in runs for stub in stubs}
        if runs:
            kids = list(book.Root.Pages.Kids)
            if [kid.objgen for kid in kids] != list(index):
                raise ValueError("the frame's page tree is not one flat list of pages")
            in_place = {index[stubs[0].objgen]: copier.marker(b" ".join(b"%d 0 R" % page for page in
                                                                    self.spread_pages[number]))
                        for number, stubs in enumerate(runs)}
            book.Root.Pages.Kids = Array([in_place.get(at, kid) for at, kid in enumerate(kids)
                                          if at in in_place or kid.objgen not in stub_objgens])
            book.Root.Pages.Count = len(kids) - len(stub_objgens) + sum(map(len, self.spread_pages.values()))
        faces = _face_uses(copier, [page.obj for page in book.pages if page.obj.objgen not in stub_objgens])
        parent_tree: tuple[tuple[int, Template], ...] = ()
        if self.structure is not None:
            structure = self.structure
            copier.take(structure.document.objgen, f"#{self.document_number}")
            if structure.root.is_indirect:
                copier.take(structure.root.objgen, f"#{self.structure_root_number}")
            segments, entries = structure.without(runs, index)
            parent_tree = tuple((key, copier.value(value)) for key, value in entries)
            kids: list[pikepdf.Object] = [*segments[0]]
            for number, segment in enumerate(segments[1:]):
                kids += [copier.marker(b" ".join(b"%d 0 R" % tag for tag in self.grafted.get(number, []))), *segment]
            structure.document.K = Array(kids)
            structure.root.ParentTree = copier.marker(b"%d 0 R" % self.parent_tree_number)
            structure.root.ParentTreeNextKey = self.next_key
        for number, stubs in enumerate(runs):
            if self.bookmarks.get(number):
                self._nest_bookmarks(copier, index, index[stubs[0].objgen], self.bookmarks[number])
        destinations = _destinations(copier, book)
        if self.destinations or destinations:
            if "/Names" not in book.Root:
                book.Root.Names = Dictionary()
            book.Root.Names.Dests = copier.marker(b"%d 0 R" % self.destinations_number)
        root = copier.reference(book.Root.objgen)
        info = book.trailer.get("/Info")
        info_slot = copier.reference(info.objgen) if info is not None and info.is_indirect else None
        part = copier.prepared((), faces, self.structure is not None, parent_tree, 0, (), destinations, (),
                               (root,) if info_slot is None else (root, info_slot))
        table = self._place(part, 0, lambda objgen: book.get_object(objgen).read_raw_bytes())
        self.parent_tree |= {key: _filled(value, table) for key, value in parent_tree}
        self.root_number = table[root]
        self.info_number = table[info_slot] if info_slot is not None else None

    def _place(self, part: PreparedPart, key_offset: int, large_stream: Callable[[ObjGen], bytes]) -> list[int]:
        """Numbers the part's objects in the book and writes them; the table that gives each slot's number."""
        faces, new_faces = self._take_faces(part.faces)
        table = [0] * len(part.objects) + [self._number_of(label, key_offset, faces)
                                           for label in reversed(part.externals)]
        written, standing_for = self._written(part, [face for face in part.faces if face.name in new_faces])
        given = dict(part.given)
        for slot in written:
            table[slot] = self._number_of(given[slot], key_offset, faces) if slot in given else self.output.allocate()
        for slot, (in_the_book, number) in standing_for.items():
            table[slot] = number if in_the_book else table[number]
        for slot in written:
            item = part.objects[slot]
            body = _filled((item.body, item.slots), table)
            if item.stream:
                if item.identity is not None:
                    self.shared_streams.setdefault(item.identity, table[slot])
                data = item.data if item.data is not None else large_stream(item.source)
                self.output.add_stream(table[slot], body, data)
            else:
                self.output.add(table[slot], body)
        for use in part.faces:
            if use.name in new_faces:
                face = faces[use.name]
                face.encoding = _filled(use.encoding, table)
                face.descendant = {key: _filled(value, table) for key, value in use.descendant.items()}
                face.descriptor = {key: _filled(value, table) for key, value in use.descriptor.items()}
        for key, name, destination in part.destinations:  # the first layout to name a destination wins
            if key not in self.destinations:
                self.destinations[key] = (name, _filled(destination, table))
        return table

    def _take_faces(self, uses: tuple[_FaceUse, ...]) -> tuple[dict[str, _Face], set[str]]:
        """Joins a layout's subsets to the book's fonts: the font each of its faces joins, by face, and the
        names of the faces whose font is new to the book."""
        taken, new = {}, set()
        for use in uses:
            variants = self.faces.setdefault(use.name, [])
            face = next((face for face in variants if _joins(use, face)), None)
            if face is None:
                face = _Face(self.output.allocate(), use.name, use.postscript_name, len(variants),
                             shared=not use.encoding[1])
                variants.append(face)
                new.add(use.name)
            face.widths |= use.widths
            face.unicode |= use.unicode
            taken[use.name] = face
        return taken, new

    def _written(self, part: PreparedPart, new_faces: list[_FaceUse]
                 ) -> tuple[list[int], dict[int, tuple[bool, int]]]:
        """The slots of the objects to write, in order, and of the streams that an identical one stands for:
        either in the book already (true, its number) or earlier in the part (false, its slot). What only
        such a stream refers to is not written."""
        standing_for: dict[int, tuple[bool, int]] = {}
        first: dict[bytes, int] = {}

        def stands_for(slot: int) -> bool:
            identity = part.objects[slot].identity
            if identity is None:
                return False
            if identity in self.shared_streams:
                standing_for[slot] = (True, self.shared_streams[identity])
            elif identity in first:
                standing_for[slot] = (False, first[identity])
            else:
                first[identity] = slot
                return False
            return True

        if part.leaves_only:
            return [slot for slot in range(len(part.objects)) if not stands_for(slot)], standing_for
        described = [template for face in new_faces for template in face.described()]
        queue = deque(dict.fromkeys([*part.roots, *(slot for _, slots in described for slot in slots if slot >= 0)]))
        seen, written = set(queue), []
        while queue:
            slot = queue.popleft()
            if stands_for(slot):
                continue
            written.append(slot)
            for target in part.objects[slot].slots:
                if target >= 0 and target not in seen:
                    seen.add(target)
                    queue.append(target)
        return sorted(written), standing_for

    def _number_of(self, label: str, key_offset: int, faces: dict[str, _Face]) -> int:
        """The number the book gives what a part names outside itself (see `PreparedPart.externals`); the
        part's faces are ``faces``, as `_take_faces` gave them."""
        kind, _, name = label.partition(":")
        match kind:
            case "key":
                return key_offset + int(name)
            case "face":
                return faces[name].number
            case "pages":
                return self.pages_number
            case "structure":
                return self.structure_root_number
            case "document":
                return self.document_number
        return int(kind.removeprefix("#"))

    def _nest_bookmarks(self, copier: _Copier, index: dict[ObjGen, int], at: int,
                        bookmarks: list[dict[str, bytes]]) -> None:
        """Puts the bookmarks of the layouts in place of the empty pages from ``at`` (the spreads') under the
        frame's last top-level bookmark before them (the part's opener), after its own, as one layout of the
        whole book would have nested them; with none before them, at the top level."""
        book = self.book
        if "/Outlines" not in book.Root:
            book.Root.Outlines = book.make_indirect(Dictionary(Type=Name.Outlines, Count=0))
        outline = book.Root.Outlines
        top = list(_outline_items(outline))
        before = [item for item in top if (page := _destination_page(item, index)) is not None and page < at]
        parent = before[-1] if before else outline
        siblings = list(_outline_items(parent)) if before else top
        previous = siblings[-1] if before and siblings else None
        following = None if before else next((item for item in top if item not in before), None)
        items = [book.make_indirect(Dictionary({key: copier.marker(value) for key, value in fields.items()}))
                 for fields in bookmarks]
        for item, (prior, after) in zip(items, zip([previous, *items], [*items[1:], following], strict=False),
                                        strict=True):
            item.Parent = parent
            if prior is not None:
                item.Prev = prior
            if after is not None:
                item.Next = after
        if previous is not None:
            previous.Next = items[0]
        else:
            parent.First = items[0]
        if following is not None:
            following.Prev = items[-1]
        else:
            parent.Last = items[-1]
        if parent is not outline:
            parent.Count = abs(int(parent.get("/Count", 0))) + len(items)  # open, as WeasyPrint leaves a part
        outline.Count = int(outline.get("/Count", 0)) + len(items)

    def finish(self) -> None:
        """Writes what spans the book, which the frame refers to, and closes the file."""
        if self.structure is not None:
            self.output.add(self.parent_tree_number, b"<< /Nums [ %s ] >>" % b" ".join(
                b"%d %s" % (key, value) for key, value in sorted(self.parent_tree.items())))
        if self.destinations:
            self.output.add(self.destinations_number, b"<< /Names [ %s ] >>" % b" ".join(
                b"%s %s" % named for _, named in sorted(self.destinations.items())))
        for name in sorted(self.faces):
            for face in self.faces[name]:
                self._write_face(face)
        self.fonts.keep_only_used()
        identifier = self.book.trailer.get("/ID")
        self.output.finish(self.root_number, self.info_number,
                           bytes(identifier[0]) if identifier is not None else hashlib.sha256(b"").digest()[:16])

    def _write_face(self, face: _Face) -> None:
        compressed, length = self.fonts.embedded(face.name, face.postscript_name,
                                                 None if self.whole_fonts else sorted(face.widths))
        tagged = repr(sorted(face.widths)) + (f"#{face.variant}" if face.variant else "")
        tag = "".join(chr(ord("A") + byte % 26) for byte in hashlib.sha256(tagged.encode()).digest()[:6])
        name = Name(f"/{face.name}" if self.whole_fonts else f"/{tag}+{face.name}").unparse()  # a tag marks a subset
        output = self.output
        file_number, descriptor_number, descendant_number, unicode_number = (output.allocate() for _ in range(4))
        output.add_stream(file_number, b"<< /Filter /FlateDecode /Length %d /Length1 %d >>"
                          % (len(compressed), length), compressed)
        output.add(descriptor_number, _dictionary(face.descriptor | {
            "/FontName": name, "/FontFile2": b"%d 0 R" % file_number}))
        widths = b" ".join(b"%d [ %s ]" % (gid, face.widths[gid]) for gid in sorted(face.widths))
        output.add(descendant_number, _dictionary(face.descendant | {
            "/BaseFont": name, "/FontDescriptor": b"%d 0 R" % descriptor_number, "/W": b"[ %s ]" % widths}))
        cmap = zlib.compress(_unicode_cmap(face.unicode), 9)
        output.add_stream(unicode_number, b"<< /Filter /FlateDecode /Length %d >>" % len(cmap), cmap)
        output.add(face.number, _dictionary({
            "/Type": b"/Font", "/Subtype": b"/Type0", "/BaseFont": name, "/Encoding": face.encoding,
            "/DescendantFonts": b"[ %d 0 R ]" % descendant_number, "/ToUnicode": b"%d 0 R" % unicode_number}))


class _LargeStreams:
    """A layout's PDF, opened only if one of its large streams is written."""

    def __init__(self, opening: Callable[[], pikepdf.Pdf]) -> None:
        self.opening, self.pdf = opening, None

    def read(self, objgen: ObjGen) -> bytes:
        if self.pdf is None:
            self.pdf = self.opening()
        return self.pdf.get_object(objgen).read_raw_bytes()

    def __enter__(self) -> _LargeStreams:
        return self

    def __exit__(self, *_: object) -> None:
        if self.pdf is not None:
            self.pdf.close()


class _FontFiles:
    """The font files a book embeds, compressed, from the project's fonts; with ``kept``, kept there by the
    font and the glyphs they hold, since a rebuild after an edit mostly embeds the same ones (subsetting
    and compressing them is a sixth of a merge)."""

    def __init__(self, originals: Path, kept: Path | None, kept_files: KeptFiles) -> None:
        self.originals, self.kept, self.kept_files, self.used = originals, kept, kept_files, set[str]()
        if kept is not None:
            kept.mkdir(parents=True, exist_ok=True)

    def embedded(self, face: str, postscript_name: str, glyphs: list[int] | None) -> tuple[bytes, int]:
        """The font file, compressed, and its length before: whole, or cut to ``glyphs``."""
        original = _original_fonts(self.originals).get(postscript_name)
        if original is None:
            # Pango took a system font for a character the book's fonts lack, which validation refuses
            raise CompendiumError(f"в макете есть шрифт {face}, которого нет среди шрифтов книги в {self.originals}: "
                                  "им набран символ, которого нет в шрифтах книги; проверьте записи командой "
                                  "validate и сообщите об этой ошибке разработчикам")
        key = hashlib.sha256(b"%s\0%s\0%s" % (hashlib.sha256(original).digest(), repr(glyphs).encode(),
                                                fontTools.version.encode())).hexdigest()[:40]
        self.used.add(key)
        kept = self.kept / key if self.kept is not None else None
        data = self.kept_files.read(kept, f"шрифт {postscript_name} для сведения книги") if kept else None
        if data is not None:
            return data[8:], int.from_bytes(data[:8], "big")
        font_file = original if glyphs is None else _subset(original, glyphs)
        compressed = zlib.compress(font_file, 9)
        if kept is not None:
            keep(kept, len(font_file).to_bytes(8, "big") + compressed)
        return compressed, len(font_file)

    def keep_only_used(self) -> None:
        for stale in (path for path in self.kept.glob("*") if kept_name(path) not in self.used) if self.kept else ():
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

    def without(self, runs: list[list[pikepdf.Object]], index: dict[ObjGen, int]
                ) -> tuple[list[list[pikepdf.Object]], list[tuple[int, pikepdf.Object]]]:
        """The document element's children between the runs of empty pages (one more list than runs), and
        the parent tree's entries, all without the empty pages' own."""
        pages = {stub.objgen for stubs in runs for stub in stubs}
        keys = {int(stub.StructParents) for stubs in runs for stub in stubs if "/StructParents" in stub}
        kids = [kid for kid in _as_list(self.document.K) if not _on_pages(kid, pages)]
        starts = [_first_page(kid, index) for kid in kids]
        segments, taken = [], 0
        for stubs in runs:
            at = index[stubs[0].objgen]
            position = next((number for number, start in enumerate(starts)
                             if number >= taken and start is not None and start > at), len(kids))
            segments.append(kids[taken:position])
            taken = position
        segments.append(kids[taken:])
        return segments, [(key, value) for key, value in self.entries if key not in keys]


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
