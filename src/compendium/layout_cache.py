"""Layout jobs, what they give, and the laid-out parts kept between builds, keyed by all their layout
depends on.

A part's key is a hash of its HTML, of the files that HTML points at (pictures), and of the
project's fingerprint: the layouts, the assets, compendium's own code and WeasyPrint's version.
The same key therefore means the same PDF bytes, which is what lets an incremental build equal
a clean one. The cache is a plain folder; deleting it only costs time. Each of its files is used
only while it is the bytes that were written (`cache_files`): a damaged one is made again.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from .cache_files import KeptFiles, discard, keep, kept_name
from .paths import ProjectPaths
from .profiles import Profile

_FILE_URL = re.compile(r"""file://[^"'()\s<>]+""")
_FORMAT = "3"  # bump when LaidOut changes shape
INPUTS_FILE = "inputs.json"
"""Where `KnownLayouts` keeps the layout key of each part's inputs, in the edition's cache folder."""
PREPARED_SUFFIX = ".objects"
"""Beside a layout's PDF, its objects as the merge takes them (`assemble_pdf.keep_prepared_spread`)."""


@dataclass(frozen=True)
class LayoutJob:
    """One WeasyPrint run: the book's frame, some pages of its contents, or one practice's spread. Sent to
    worker processes."""

    compressed_html: bytes
    """The part's HTML (`compress_html`): a build holds each job from its templating until its layout is
    done, and the HTML of 1 000 spreads is 13 MB as text, 3 MB compressed (0.1 ms a spread)."""
    profile: Profile
    made: datetime
    paths: ProjectPaths
    edition: Path
    pdf: Path | None
    """Where to write the PDF; None to lay the part out only to learn its pages."""
    spread_of: str | None = None
    """The practice id when the job is a spread."""
    title: str | None = None
    """The PDF's own title, when it is not the book's: a spread is also shared on its own."""
    pages_elsewhere: int = 0
    """For a frame, the pages the spreads add beyond its two empty ones: the book's sheets count them."""
    contents_pages: tuple[str, ...] = ()
    """For a part of the contents, the id of the row each of its pages must start with, as the contents'
    pages were found (`render_book._Parts.contents_pages`)."""

    @property
    def html(self) -> str:
        return zlib.decompress(self.compressed_html).decode()


class StubRun(NamedTuple):
    """For the merge (`assemble_pdf.merge_spreads`): consecutive empty pages of the frame, from ``first``
    (0-based), and the layouts that take their place."""

    first: int
    count: int
    layouts: Sequence[Path]
    own_destinations: bool = True
    """False for layouts whose anchors only stand in for sections laid out elsewhere (the contents')."""


def compress_html(html: str) -> bytes:
    return zlib.compress(html.encode(), 1)


@dataclass(frozen=True)
class LaidOut:
    """What the book needs to know of one layout without reading its PDF, and where that PDF is."""

    pdf: Path | None
    """The PDF in the cache; None for a frame laid out only to find its pages, or a spread that does not fit."""
    page_count: int
    anchors: dict[str, int]
    """The 1-based page, within this PDF, of each element id the book needs (the sections)."""
    overflow: tuple[tuple[int, str], ...]
    """(page, text) for text that runs outside its page's text area, counted within this PDF."""
    fits: bool = True
    """False for a spread that is not exactly two facing pages; such a layout is never kept."""


def project_fingerprint(paths: ProjectPaths) -> str:
    """What every layout depends on besides its HTML. Read once per build: a few megabytes."""
    digest = hashlib.sha256(f"{_FORMAT}:weasyprint {version('weasyprint')}".encode())
    package = Path(__file__).parent
    for folder, pattern in ((paths.layouts, "**/*"), (paths.assets, "**/*"), (package, "*.py")):
        for path in sorted(folder.glob(pattern)):
            if path.is_file():
                digest.update(f"\0{path.relative_to(folder).as_posix()}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def layout_key(fingerprint: str, html: str, *details: str, files: Mapping[str, str] | None = None) -> str:
    """The key of one layout: the fingerprint, its HTML, the files the HTML names (``files``, as
    `named_files` gives them, when already read) and any other detail."""
    digest = hashlib.sha256(fingerprint.encode())
    for detail in (*details, html):
        digest.update(b"\0" + detail.encode())
    for url, file_digest in sorted((named_files(html) if files is None else files).items()):
        digest.update(b"\0" + url.encode() + b"\0" + file_digest.encode())
    return digest.hexdigest()[:40]


def named_files(html: str) -> dict[str, str]:
    """The files an HTML names (its pictures), each with a digest of its bytes."""
    return {url: _file_digest(_path_of(url)) for url in set(_FILE_URL.findall(html))}


def _path_of(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


class EditionRecords:
    """Digests of an edition's records, read once per build: what a part's layout is made from, besides
    the project (the fingerprint) and the files its HTML names."""

    def __init__(self, directory: Path) -> None:
        self.files = {path.relative_to(directory).as_posix(): _file_digest(path)
                      for path in sorted(directory.rglob("*.yaml"))}
        self.edition = _joined(f"{name}:{digest}" for name, digest in self.files.items()
                               if not name.startswith("practices/"))
        """All but the practices: what every part shows besides the practices it shows."""

    def practice(self, practice_id: str) -> str:
        return self.files.get(f"practices/{practice_id}.yaml", "missing")


def inputs_key(*inputs: str) -> str:
    """A digest of what a part's HTML is made from, for `KnownLayouts`."""
    return _joined(inputs)


def _joined(parts: Iterable[str]) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class KnownLayouts:
    """The layout key that each part's inputs gave in the last build, kept in one file per edition, so that
    a part whose inputs did not change is not templated again only to learn its key.

    A part's inputs are a digest of everything its HTML is made from (see `render_book`), but the files
    the HTML names: those are read again each time and compared by digest, as the layout key reads them.
    """

    def __init__(self, file: Path, kept: KeptFiles) -> None:
        self.file = file
        try:
            last = json.loads(kept.read(file, "какой макет дали исходные данные каждой части") or b"null")
        except ValueError:
            last = None
        self.last: dict[str, object] = last if isinstance(last, dict) else {}
        self.now: dict[str, tuple[str, dict[str, str]]] = {}

    def key(self, inputs: str) -> str | None:
        """The layout key these inputs gave, if the files its HTML named are as they were."""
        entry = self.now.get(inputs) or self.last.get(inputs)
        match entry:
            case [str() as key, dict() as files] if all(
                    isinstance(digest, str) and _file_digest(_path_of(url)) == digest
                    for url, digest in files.items()):
                self.now[inputs] = (key, files)
                return key
        return None

    def learn(self, inputs: str, key: str, files: dict[str, str]) -> None:
        self.now[inputs] = (key, files)

    def save(self) -> None:
        """Keeps the inputs this build asked for, so that the file does not grow with every edit."""
        keep(self.file, json.dumps(self.now, ensure_ascii=False).encode())


class LayoutCache:
    """One folder of laid-out parts. The worker that lays a part out writes its PDF (``pdf_path``) and, for a
    part of a book, its prepared objects beside it; ``put`` then writes the facts: an entry counts only once
    all are there, each written whole and found as written."""

    def __init__(self, folder: Path, kept: KeptFiles) -> None:
        self.folder, self.kept = folder, kept
        self.folder.mkdir(parents=True, exist_ok=True)
        self.used: set[str] = set()

    def pdf_path(self, key: str) -> Path:
        return self.folder / f"{key}.pdf"

    def get(self, key: str, what: str) -> LaidOut | None:
        """The part kept under ``key``; None if it is not kept, or any of its files is damaged: the part is
        then laid out again, and ``what`` names it in the notice. Its PDF is hashed whole here, as the
        outputs, the merge and the preflight take it as it is."""
        self.used.add(key)
        try:
            facts = json.loads(self.kept.read(self.folder / f"{key}.json", what) or b"null")
            laid_out = LaidOut(self.pdf_path(key) if facts["written"] else None, int(facts["page_count"]),
                               {str(name): int(page) for name, page in facts["anchors"].items()},
                               tuple((int(page), str(text)) for page, text in facts["overflow"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # not kept, or not kept by this version: lay the part out again
        if laid_out.pdf is None:
            return laid_out
        prepared = laid_out.pdf.with_suffix(PREPARED_SUFFIX)
        if self.kept.intact(laid_out.pdf, what) and (not prepared.exists() or self.kept.intact(prepared, what)):
            return laid_out
        for path in self.folder.glob(f"{key}.*"):
            discard(path)  # what is left of the entry is made again with it
        return None

    def has(self, key: str) -> bool:
        """Whether the cache may hold the part, without counting it as used by this build."""
        return (self.folder / f"{key}.json").is_file()

    def put(self, key: str, laid_out: LaidOut) -> None:
        self.used.add(key)
        if not laid_out.fits:
            return
        facts = {"written": laid_out.pdf is not None, "page_count": laid_out.page_count,
                 "anchors": laid_out.anchors, "overflow": laid_out.overflow}
        keep(self.folder / f"{key}.json", json.dumps(facts, ensure_ascii=False).encode())

    def keep_only_used(self) -> None:
        """Drops the entries this build did not ask for, so the cache does not grow with every edit."""
        for path in self._entries():
            if path.name.split(".", 1)[0] not in self.used:
                path.unlink(missing_ok=True)

    def _entries(self) -> Iterable[Path]:
        return self.folder.glob("*.*") if self.folder.is_dir() else ()


class DrawingCache:
    """Pictures drawn from text (the map's PNGs, drawn from its SVG), kept by a digest of that text and of
    the project's fingerprint; a build keeps only the ones it asked for."""

    def __init__(self, folder: Path, paths: ProjectPaths, kept: KeptFiles) -> None:
        self.folder, self.paths, self.kept = folder, paths, kept
        self.used: set[str] = set()
        self.fingerprint: str | None = None

    def get(self, source: str, draw: Callable[[], bytes], what: str) -> bytes:
        """The picture drawn from ``source``, kept or drawn now; ``what`` names it should the kept one be damaged."""
        self.fingerprint = self.fingerprint or project_fingerprint(self.paths)
        key = layout_key(self.fingerprint, source)
        self.used.add(key)
        drawn = self.kept.read(self.folder / key, what)
        if drawn is None:
            drawn = draw()
            self.folder.mkdir(parents=True, exist_ok=True)
            keep(self.folder / key, drawn)
        return drawn

    def keep_only_used(self) -> None:
        for path in self.folder.glob("*"):
            if kept_name(path) not in self.used:
                path.unlink(missing_ok=True)
