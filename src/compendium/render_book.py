"""Stage 3: each profile's PDF, laid out as a frame, the contents a few pages a layout and one layout per
spread, on every core, and merged.

Every spread is exactly two pages, so once the frame (the book with one spread's two pages left
empty to stand for all of them, and the contents' pages left empty too) is laid out, every spread's
page numbers are known. The spreads are then laid out independently, in worker processes, and kept
in the layout cache: after an edit, only the parts whose HTML changed are laid out again, and the
merge gives the same bytes as a clean build. The contents, the one part of the frame that grows with
the edition, is laid out apart so that no layout holds all of it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Generic, Literal, NamedTuple, TypeVar

from . import workers
from .book import Book, planned_pages
from .book_html import BookTemplate, KeptTemplates
from .cache_files import KeptFiles, keep
from .errors import CompendiumError, SourceProblems
from .layout_cache import (
    INPUTS_FILE,
    EditionRecords,
    KnownLayouts,
    LaidOut,
    LayoutCache,
    LayoutJob,
    StubRun,
    compress_html,
    inputs_key,
    layout_key,
    named_files,
    project_fingerprint,
)
from .model import Collection
from .paths import ProjectPaths
from .profiles import PROFILES, SCREEN, Profile
from .progress import COUNT_LOGGER

T = TypeVar("T")
FRAME_PASSES = 3
"""Layouts of the frame before its page numbers must have settled: the first prints placeholders, the
second the pages found, and a third is needed only when a number's width moved a line break."""
CONTENTS_FILE = "contents.json"
"""The row each of the contents' pages starts with, by what the contents depends on, in the edition's cache folder."""
PAGES_FILE = "pages.json"
"""Where the sections fell in the edition's last build, in its cache folder: the next build's guess."""
log = logging.getLogger("compendium")
counts = logging.getLogger(COUNT_LOGGER)


PdfRole = Literal["practice", "part", "book"]
"""A finished PDF as the preflight sees it: a practice's own (shipped), a layout inside a book, or a book."""


class PlacedPart(NamedTuple):
    """A layout inside a book, and the book's page for each of its pages (0 for a page the book leaves out)."""

    pdf: Path
    pages: tuple[int, ...]


@dataclass(frozen=True)
class RenderedPdf:
    """A laid-out and checked PDF, with what the preflight report needs to know of its layout."""

    pdf: Path
    """The PDF, in the layout cache: the build copies it to the outputs."""
    profile: Profile
    page_count: int
    anchor_pages: dict[str, int]
    """The 1-based page of every section: where the contents of the Word draft points."""
    title: str
    overflow: tuple[str, ...] = ()
    """Text that runs outside its page's text area, as «page N: text…»."""
    parts: tuple[PlacedPart, ...] = ()
    """For a book, the layouts it is merged from."""


@dataclass(frozen=True)
class RenderedBook:
    """The whole book for one profile and, for the screen, each practice's spread on its own."""

    book: RenderedPdf
    practices: dict[str, RenderedPdf]


class LayoutRunner:
    """Lays out one build's jobs on the process's workers (`workers`), one per core; with a single core,
    jobs are laid out in this process. Jobs of its own that have not started when it closes are cancelled."""

    def __init__(self, count: int | None = None) -> None:
        self.workers = count or workers.cores()
        self._submitted: list[Future[Any]] = []

    def submit(self, work: Callable[..., T], *arguments: Any) -> Future[T]:
        """Starts ``work`` on a worker; without workers, does it now."""
        if self.workers > 1:
            self._submitted.append(workers.submit(work, *arguments))
            return self._submitted[-1]
        done: Future[T] = Future()
        try:
            done.set_result(work(*arguments))
        except Exception as error:  # raised where the result is asked for, as from a worker
            done.set_exception(error)
        return done

    def while_busy(self, busy: Sequence[Future[Any]], spare: Iterator[Callable[[], Future[Any]]]) -> None:
        """Starts spare work on the workers ``busy`` leaves idle, one piece as another ends, until ``busy``
        is done or the spare work runs out."""
        if self.workers == 1:
            return
        running, extra = {future for future in busy if not future.done()}, set()
        while running:  # spare work is drawn only when a worker is idle: making a piece of it costs templating
            if len(running) + len(extra) < self.workers:
                start = next(spare, None)
                if start is None:
                    return
                extra.add(start())
            else:
                finished, _ = wait(running | extra, return_when=FIRST_COMPLETED)
                running, extra = running - finished, extra - finished

    def __enter__(self) -> LayoutRunner:
        return self

    def __exit__(self, *_: object) -> None:
        for future in self._submitted:
            future.cancel()  # the workers stay for the next build, free of this one's leftovers
        workers.release()


class Part(NamedTuple):
    """One layout to make: a profile's frame, or one of its spreads."""

    profile: Profile
    book: Book
    spread_of: str | None = None
    title: str | None = None
    written: bool = True
    """False for a frame laid out only to learn its pages."""
    contents_pages: tuple[str, ...] = ()
    """For some pages of the contents, the id of the row each starts with."""


def render_books(collection: Collection, paths: ProjectPaths, profiles: Sequence[str], made: datetime,
                 cache_folder: Path, kept: KeptFiles, runner: LayoutRunner,
                 meanwhile: Callable[[dict[str, int]], T], pdf_made: Callable[[Path, PdfRole], object]
                 ) -> tuple[dict[str, RenderedBook], T]:
    """Lays out every profile's frame, then every spread that is not in the cache, then merges each book.

    Once the layout of the frame has given the page of each section and the parts are with the workers,
    ``meanwhile`` is given the pages and runs on a thread here while they lay out; it runs again should
    the pages then move. ``pdf_made`` is told of each finished PDF (a layout, a practice's own, a book),
    which can be read back while the rest is made. ``made`` is the date the PDFs carry, so the same sources give
    the same bytes. What is kept in ``cache_folder`` is read through ``kept``, which notes what was damaged.
    """
    book = Book.of(collection)
    parts = _Parts(collection, paths, made, cache_folder, kept, runner)
    chosen = [PROFILES[name] for name in profiles]
    title = f"{book.edition.title} {book.period_label}"  # as book.html.j2 titles the book
    titles = {practice.id: f"{practice.municipality}: «{practice.title}» — {title}"
              for practice in collection.practices}
    with _Alongside(meanwhile) as alongside:
        frames, contents, laid_out = _frames_and_spreads(parts, book, chosen, titles, alongside.start)
        overflowing = [practice for practice in collection.practices
                       if not all(laid_out[name][practice.id].fits for name in profiles)]
        if overflowing:
            measuring = replace(book, practices=tuple(overflowing), part="measure")
            raise SourceProblems(runner.submit(workers.measure_overflow, measuring, collection, paths).result())
        log.info("Step 4 - Merging the spreads into each book")
        merged = parts.merge({profile.name: (frames[profile.name], contents[profile.name], laid_out[profile.name])
                              for profile in chosen})
        made_of = {profile.name: _parts_of(frames[profile.name], contents[profile.name], laid_out[profile.name], book)
                   for profile in chosen}
        for name, placed in made_of.items():  # a practice's own PDF is its screen spread
            own = {spread.pdf for spread in laid_out[name].values()} if name == SCREEN.name else set()
            for part in placed:
                pdf_made(part.pdf, "practice" if part.pdf in own else "part")
        book_pdfs = merged()
        for pdf in book_pdfs:
            pdf_made(pdf, "book")
        done_meanwhile = alongside.result(frames[profiles[0]].anchors)
    books = iter(book_pdfs)
    rendered = {}
    for profile in chosen:
        frame, spreads_of = frames[profile.name], laid_out[profile.name]
        overflow = [f"page {page}: «{text}»" for page, text in frame.overflow] + [
            f"page {placed.pages[page - 1]}: «{text}»" for part, placed in zip(
                contents[profile.name], made_of[profile.name][1:], strict=False) for page, text in part.overflow] + [
            f"page {frame.anchors[f'practice-{practice_id}'] - 1 + page}: «{text}»"
            for practice_id, spread in spreads_of.items() for page, text in spread.overflow]
        practices = {practice_id: RenderedPdf(
            spread.pdf, profile, spread.page_count, spread.anchors, titles[practice_id],  # type: ignore[arg-type]
            tuple(f"page {page}: «{text}»" for page, text in spread.overflow))
            for practice_id, spread in spreads_of.items()} if profile is SCREEN else {}
        rendered[profile.name] = RenderedBook(
            RenderedPdf(next(books), profile, frame.page_count, frame.anchors, title, tuple(overflow),
                        made_of[profile.name]), practices)
    parts.forget_the_rest()
    return rendered, done_meanwhile


def _frames_and_spreads(parts: _Parts, book: Book, profiles: Sequence[Profile], titles: dict[str, str],
                        pages_found: Callable[[dict[str, int]], None]
                        ) -> tuple[dict[str, LaidOut], dict[str, list[LaidOut]], dict[str, dict[str, LaidOut]]]:
    """Each profile's frame, contents and spreads.

    The contents' pages are found first (`_Parts.contents_pages`), with placeholders for its page
    numbers, and the frame, which leaves that many pages empty for them, is laid out once and not
    written: that gives every section's page. Meanwhile, the workers they leave idle lay spreads out
    on the pages they had last time (or that the page plan gives): a guess, kept if it was right. The
    contents' pages are then found with those pages printed, and the frame, the contents (some pages
    a layout) and the spreads laid out on the workers together. Should a printed number have moved a
    section (a wider number breaking a line), all are laid out again with the pages found; what did not
    move comes from the cache.

    ``pages_found`` (the Word draft) starts once those frames are laid out: the draft's XML and a frame's
    boxes are the two largest things a build holds, and at 500 practices, made at the same time, they
    added 40 MB to the build's peak of some 400.
    """
    # every profile's pages flow alike (print adds only bleed, and sheet padding after the last spread)
    guessed = _spreads(book, profiles, titles, parts.likely_pages(book))
    frame = book.frame()
    starts = parts.contents_pages(frame, profiles[0], meanwhile=guessed)
    found = parts.lay_out("frames with placeholder page numbers",
                          [Part(profiles[0], replace(frame, contents_pages=len(starts)), written=False)],
                          meanwhile=guessed)
    pages = _in_the_book(found[0], book).anchors
    for attempt in range(FRAME_PASSES - 1):
        numbered = replace(frame, pages=pages)
        starts = parts.contents_pages(numbered, profiles[0], meanwhile=_spreads(book, profiles, titles, pages))
        numbered = replace(numbered, contents_pages=len(starts))
        contents_parts = {profile.name: _contents_parts(numbered, starts, pages["contents"], profile)
                          for profile in profiles}
        laid_out = iter(parts.lay_out("frames, contents and spreads", [
            *(Part(profile, numbered) for profile in profiles),
            *(part for profile in profiles for part in contents_parts[profile.name]),
            *_spreads(book, profiles, titles, pages)],
            once_first_known=partial(pages_found, pages) if attempt == 0 else None))
        frames = {profile.name: _in_the_book(next(laid_out), book) for profile in profiles}
        contents = {profile.name: [next(laid_out) for _ in contents_parts[profile.name]] for profile in profiles}
        spreads = {profile.name: {practice.id: next(laid_out) for practice in book.practices} for profile in profiles}
        if all(frames[name].anchors[anchor] == pages[anchor] for name in frames for anchor in book.listed_anchors):
            parts.remember_pages(pages)
            return frames, contents, spreads
        pages = frames[profiles[0].name].anchors
    raise CompendiumError(f"the contents' page numbers did not settle in {FRAME_PASSES} layouts of the frame; "
                          "check layouts/pdf/contents.html.j2")


CONTENTS_PAGES_PER_LAYOUT = 4
"""How many of the contents' pages one layout holds."""
CONTENTS_ROWS_PER_LAYOUT = 120
"""How many of the contents' rows `_Parts.contents_pages` lays out at a time to find its pages: about five pages."""


def _contents_parts(frame: Book, starts: Sequence[int], first_page: int, profile: Profile) -> list[Part]:
    """The contents, some pages a layout, each starting with the row its first page starts with (``starts``,
    one per page)."""
    rows = len(frame.contents)
    parts = []
    for first in range(0, len(starts), CONTENTS_PAGES_PER_LAYOUT):
        pages = starts[first:first + CONTENTS_PAGES_PER_LAYOUT]
        end = starts[first + len(pages)] if first + len(pages) < len(starts) else rows
        parts.append(Part(profile, frame.contents_part((pages[0], end), first_page + first),
                          contents_pages=tuple(frame.contents_row_id(row) for row in pages)))
    return parts


def _in_the_book(frame: LaidOut, book: Book) -> LaidOut:
    """A frame's layout as the merged book has it: its two empty pages replaced by every spread, so that the
    pages after them move on, and each practice starting two pages after the one before."""
    if not book.practices:
        return frame
    first, added = frame.anchors[f"practice-{book.practices[0].id}"], _pages_beyond_the_stand_in(book)
    if any(frame.anchors[f"practice-{practice.id}"] != first for practice in book.practices):
        raise CompendiumError("the frame must leave two empty pages for all the spreads, with every practice's "
                              "anchor on the first; check layouts/pdf/book.html.j2")

    anchors = {name: _moved_on(page, first, added) for name, page in frame.anchors.items()}
    anchors |= {f"practice-{practice.id}": first + 2 * number for number, practice in enumerate(book.practices)}
    return replace(frame, page_count=frame.page_count + added, anchors=anchors,
                   overflow=tuple((_moved_on(page, first, added), text) for page, text in frame.overflow))


def _moved_on(page: int, stand_in: int, added: int) -> int:
    """A frame's page in the book: those after its two empty pages from ``stand_in`` move on by ``added``."""
    return page + added if page > stand_in + 1 else page


def _parts_of(frame: LaidOut, contents: list[LaidOut], spreads: dict[str, LaidOut], book: Book
              ) -> tuple[PlacedPart, ...]:
    """The layouts a book is merged from, each with the book's pages for its own: the frame first, whose
    empty pages the book leaves out, then the contents' layouts and the spreads, in order. ``frame`` is as
    `_in_the_book` gives it."""
    added = _pages_beyond_the_stand_in(book)
    first = frame.anchors[f"practice-{book.practices[0].id}"] if book.practices else frame.page_count + 1
    contents_first = frame.anchors["contents"]
    contents_end = contents_first + sum(part.page_count for part in contents)
    frame_pages = tuple(0 if first <= page <= first + 1 or contents_first <= page < contents_end
                        else _moved_on(page, first, added) for page in range(1, frame.page_count - added + 1))
    contents_pages, page = [], contents_first
    for part in contents:
        contents_pages.append(PlacedPart(part.pdf, tuple(range(page, page + part.page_count))))  # type: ignore[arg-type]
        page += part.page_count
    starts = [frame.anchors[f"practice-{practice.id}"] for practice in book.practices]
    return (PlacedPart(frame.pdf, frame_pages), *contents_pages,  # type: ignore[arg-type]
            *(PlacedPart(spreads[practice.id].pdf, (start, start + 1))  # type: ignore[arg-type]
              for practice, start in zip(book.practices, starts, strict=True)))


def _pages_beyond_the_stand_in(book: Book) -> int:
    """The pages the spreads add to the frame, which leaves two for them all."""
    return max(0, 2 * len(book.practices) - 2)


def _spreads(book: Book, profiles: Sequence[Profile], titles: dict[str, str], pages: Mapping[str, int]) -> list[Part]:
    """Every profile's spreads, each starting on its page."""
    return [Part(profile, book.spread(practice, pages[f"practice-{practice.id}"]), practice.id, titles[practice.id])
            for profile in profiles for practice in book.practices]


class _Alongside(Generic[T]):
    """Runs a function of the book's pages on a thread as soon as they are known, and again, here,
    should they then move."""

    def __init__(self, work: Callable[[dict[str, int]], T]) -> None:
        self.work = work
        self.thread = ThreadPoolExecutor(1)
        self.started: tuple[dict[str, int], Future[T]] | None = None

    def start(self, pages: dict[str, int]) -> None:
        self.started = (pages, self.thread.submit(self._work_and_trim, pages))

    def _work_and_trim(self, pages: dict[str, int]) -> T:
        try:
            return self.work(pages)
        finally:
            workers.give_back_free_pages()  # the draft's XML trees are gone: their pages go to the layouts

    def result(self, pages: dict[str, int]) -> T:
        if self.started is not None and self.started[0] == pages:
            return self.started[1].result()
        return self.work(pages)

    def __enter__(self) -> _Alongside[T]:
        return self

    def __exit__(self, *_: object) -> None:
        self.thread.shutdown(cancel_futures=True)


class _Parts:
    """Turns parts of the book into layout jobs, answers what it can from the cache and runs the rest."""

    def __init__(self, collection: Collection, paths: ProjectPaths, made: datetime, cache_folder: Path,
                 kept: KeptFiles, runner: LayoutRunner) -> None:
        self.collection, self.paths, self.made, self.runner = collection, paths, made, runner
        self.fingerprint = project_fingerprint(paths)
        self.records = EditionRecords(collection.directory)
        self.kept = kept
        self.known = KnownLayouts(cache_folder / INPUTS_FILE, kept)
        self.caches: dict[str, LayoutCache] = {}
        self.templates: dict[str, BookTemplate] = {}
        self.compiled = KeptTemplates(cache_folder / "templates", kept)
        self.cache_folder = cache_folder
        self.started: dict[str, Future[LaidOut]] = {}
        """Layouts started on a guess, by key."""
        known = self._kept_json(CONTENTS_FILE, "первые строки страниц оглавления")
        self._known_contents: dict[str, list[int]] = {
            key: rows for key, rows in known.items()
            if isinstance(rows, list) and rows and all(type(row) is int and row >= 0 for row in rows)}
        self._used_contents: dict[str, list[int]] = {}

    def lay_out(self, what: str, parts: Sequence[Part], meanwhile: Sequence[Part] = (),
                once_first_known: Callable[[], None] | None = None) -> list[LaidOut]:
        """Each part's layout, from the cache or laid out now; ``meanwhile``, parts that may be asked for
        later, laid out on the workers these parts leave idle; ``once_first_known`` is called when the
        parts to lay out are with the workers and the first part's layout is known (from the cache, or
        done, or failed: its failure is raised where its result is asked for)."""
        keyed = [self._job(part) for part in parts]
        found = {key: cache.get(key, _described(part)) for part, (cache, key, _) in zip(parts, keyed, strict=True)}
        missing = [(cache, key) for cache, key, _ in keyed if found[key] is None]
        log.info("%d of %d %s to lay out; %d from the cache", len(missing), len(keyed), what,
                 len(keyed) - len(missing))
        laying_out = self._submitted([(key, job) for _, key, job in keyed if found[key] is None])
        keys = [key for _, key, _ in keyed]
        del keyed  # its jobs hold their parts' HTML and books, which the workers' queue holds until laid out
        if once_first_known is not None:
            if missing and missing[0][1] == keys[0]:
                wait(laying_out[:1])
            once_first_known()
        self.runner.while_busy(laying_out, self._spare(meanwhile))
        for done, ((cache, key), future) in enumerate(zip(missing, laying_out, strict=True), start=1):
            found[key] = future.result()
            cache.put(key, found[key])
            counts.info("%d of %d %s laid out", done, len(missing), what)
        return [found[key] for key in keys]  # type: ignore[misc]

    def _submitted(self, missing: list[tuple[str, Callable[[], LayoutJob]]]) -> list[Future[LaidOut]]:
        """The layouts of the missing parts, in order, started unless started on a guess. The frames go
        first, together, to one worker, which lays them out one after the other: a long frame leaves its
        worker holding more than before (some 35 MB at 500 practices, in the allocator's arenas), and with
        the frames on two workers, the one that laid out the first held that while the other laid out the
        second: 424 MB at 500 practices, against 364 MB so."""
        jobs = [self.started.pop(key, None) or job() for key, job in missing]
        frames = [job for job in jobs if isinstance(job, LayoutJob) and _is_frame(job)]
        together = iter(_one_each(self.runner.submit(workers.lay_out_in_turn, frames), len(frames)) if frames else ())
        return [job if isinstance(job, Future) else next(together) if _is_frame(job)
                else self.runner.submit(workers.lay_out, job) for job in jobs]

    def contents_pages(self, frame: Book, profile: Profile, meanwhile: Sequence[Part]) -> tuple[int, ...]:
        """The row each of the contents' pages starts with, as the contents of ``frame`` flows, kept in the
        cache folder by what it depends on. The contents is laid out some rows at a time, on a worker while
        the others lay ``meanwhile`` out: all but the last page of each layout are as one layout of every
        row would have them, and the next layout starts with the last page's first row. One layout of
        1 000 practices' rows held 100 MB of boxes."""
        key = inputs_key(self.fingerprint, str(self.collection.directory), profile.name, "contents pages",
                         self.records.edition, repr(frame.practices), json.dumps(dict(frame.pages), sort_keys=True))
        if key not in self._known_contents:
            rows = len(frame.contents)
            numbers = {frame.contents_row_id(number): number for number in range(rows)}
            starts: list[int] = []
            start = 0
            while True:
                end = min(rows, start + CONTENTS_ROWS_PER_LAYOUT)
                html = self._template(profile).render(frame.contents_part((start, end), frame.first_page))
                finding = self.runner.submit(workers.contents_first_rows, LayoutJob(
                    compress_html(html), profile, self.made, self.paths, self.collection.directory, None))
                self.runner.while_busy([finding], self._spare(meanwhile))
                firsts = [numbers[name] for name in finding.result()]
                if end == rows:
                    break
                if len(firsts) < 2:
                    raise CompendiumError(f"a page of the contents holds more than {CONTENTS_ROWS_PER_LAYOUT} "
                                          "rows; raise render_book.CONTENTS_ROWS_PER_LAYOUT")
                starts += firsts[:-1]
                start = firsts[-1]
            self._known_contents[key] = [*starts, *firsts]
        self._used_contents[key] = self._known_contents[key]
        return tuple(self._used_contents[key])

    def likely_pages(self, book: Book) -> Mapping[str, int]:
        """Where the sections fell in this edition's last build, or else where the page plan puts them."""
        last = self._kept_json(PAGES_FILE, "страницы разделов в прошлой сборке")
        if all(type(last.get(anchor)) is int and last[anchor] > 0 for anchor in book.listed_anchors):
            return last
        return planned_pages(book)

    def remember_pages(self, pages: Mapping[str, int]) -> None:
        keep(self.cache_folder / PAGES_FILE, json.dumps(dict(pages)).encode())

    def _kept_json(self, name: str, what: str) -> dict[str, Any]:
        """A JSON object kept in the cache folder; empty if it is not kept, or not an object."""
        try:
            found = json.loads(self.kept.read(self.cache_folder / name, what) or b"null")
        except ValueError:
            found = None
        return found if isinstance(found, dict) else {}

    def _job(self, part: Part) -> tuple[LayoutCache, str, Callable[[], LayoutJob]]:
        """The part's layout key, and its job to lay it out. A part whose inputs gave a layout that the cache
        seems to have, or that is being laid out on a guess, is not templated: its job is made only if asked
        for, as it is when the cache's copy turns out to be damaged."""
        cache, inputs = self._cache(part.profile), self._inputs(part)
        known = self.known.key(inputs)
        if known is not None and (cache.has(known) or known in self.started):
            return cache, known, lambda: self._templated(part, cache, inputs, known)[1]
        key, job = self._templated(part, cache, inputs)
        return cache, key, lambda: job

    def _templated(self, part: Part, cache: LayoutCache, inputs: str, known: str | None = None
                   ) -> tuple[str, LayoutJob]:
        html = self._template(part.profile).render(part.book)
        files = named_files(html)
        key = layout_key(self.fingerprint, html, part.profile.name, self.made.isoformat(), part.title or "",
                         str(part.written), files=files)
        if known is not None and key != known:
            raise CompendiumError(f"a layout's inputs did not name all its HTML is made from ({part.book.part}, "
                                  f"{part.spread_of or 'frame'}); delete {self.cache_folder} and report this")
        self.known.learn(inputs, key, files)
        job = LayoutJob(compress_html(html), part.profile, self.made, self.paths, self.collection.directory,
                        cache.pdf_path(key) if part.written else None, part.spread_of, part.title,
                        _pages_beyond_the_stand_in(part.book) if part.book.part == "frame" else 0,
                        part.contents_pages)
        return key if known is None else known, job

    def _inputs(self, part: Part) -> str:
        """A digest of all the part's HTML is made from but the files it names: the project, the date, the
        profile, the title, the records the part shows and where it stands in the book. A spread shows the
        edition and its own practice (`Book.spread`); the frame, the edition and every practice as listed
        (`Book.frame`)."""
        book = part.book
        if book.part == "spreads":
            shown = [self.records.edition, *(self.records.practice(practice.id) for practice in book.practices)]
            placed = str(book.first_page)
        else:  # the frame or the contents: every record but the practices, which they show as listed (Book.frame)
            shown = [self.records.edition, repr(book.practices)]
            placed = json.dumps([dict(book.pages), book.contents_pages, book.contents_rows, book.first_page,
                                 part.contents_pages], sort_keys=True)
        return inputs_key(self.fingerprint, str(self.collection.directory), self.made.isoformat(), part.profile.name,
                          part.title or "", str(part.written), book.part, placed, *shown)

    def _spare(self, parts: Sequence[Part]) -> Iterator[Callable[[], Future[LaidOut]]]:
        """Parts laid out on a guess, started one by one; ``lay_out`` takes them over if asked for them."""
        for part in parts:
            cache, key, job = self._job(part)
            if key not in self.started and not cache.has(key):
                yield partial(self._start, key, job)

    def _start(self, key: str, job: Callable[[], LayoutJob]) -> Future[LaidOut]:
        self.started[key] = self.runner.submit(workers.lay_out, job())
        return self.started[key]

    def merge(self, books: dict[str, tuple[LaidOut, list[LaidOut], dict[str, LaidOut]]]) -> Callable[[], list[Path]]:
        """Starts merging each profile's frame, contents and spreads on a worker, unless the cache has the book;
        the function returned waits and gives the books' PDFs in order. A book is kept under its layouts' keys."""
        merging, kept, merged = [], [], []
        for name, (frame, contents, spreads) in books.items():
            profile, cache = PROFILES[name], self._cache(PROFILES[name])
            layouts = " ".join(layout.pdf.name for layout in (frame, *contents, *spreads.values()))  # type: ignore[union-attr]
            key = layout_key(self.fingerprint, layouts, name, "book")
            book = LaidOut(cache.pdf_path(key), frame.page_count, frame.anchors, ())
            if cache.get(key, f"сведённая книга, {name}") is None:
                in_order = sorted(spreads, key=lambda practice_id: frame.anchors[f"practice-{practice_id}"])
                first_page = frame.anchors[f"practice-{in_order[0]}"] if in_order else 0
                runs = [StubRun(frame.anchors["contents"] - 1, sum(part.page_count for part in contents),
                                [part.pdf for part in contents], own_destinations=False),  # type: ignore[misc]
                        StubRun(first_page - 1, 2, [spreads[practice_id].pdf for practice_id in in_order])]  # type: ignore[misc]
                merging.append(self.runner.submit(workers.merge_book, frame.pdf, runs, self.paths.fonts,
                                                  profile.whole_fonts, book.pdf, self.cache_folder / "fonts" / name))
                kept.append((cache, key, book))
            merged.append(book.pdf)
        log.info("%d of %d books to merge; %d from the cache", len(merging), len(books), len(books) - len(merging))

        def when_done() -> list[Path]:
            for merge in merging:
                self.kept.damaged += merge.result()  # kept font files, or prepared parts, found damaged
            for cache, key, book in kept:
                cache.put(key, book)
            return merged  # type: ignore[return-value]

        return when_done

    def forget_the_rest(self) -> None:
        for cache in self.caches.values():
            cache.keep_only_used()
        self.known.save()
        keep(self.cache_folder / CONTENTS_FILE, json.dumps(self._used_contents).encode())

    def _template(self, profile: Profile) -> BookTemplate:
        if profile.name not in self.templates:
            self.templates[profile.name] = BookTemplate(self.collection, self.paths, profile, self.compiled)
        return self.templates[profile.name]

    def _cache(self, profile: Profile) -> LayoutCache:
        if profile.name not in self.caches:
            self.caches[profile.name] = LayoutCache(self.cache_folder / profile.name, self.kept)
        return self.caches[profile.name]


def _described(part: Part) -> str:
    """A part as a notice names it, in Russian."""
    if part.spread_of is not None:
        return f"макет разворота практики {part.spread_of}, {part.profile.name}"
    if part.contents_pages:
        return f"макет страниц оглавления, {part.profile.name}"
    return f"макет рамки книги, {part.profile.name}"


def _is_frame(job: LayoutJob) -> bool:
    return job.spread_of is None and not job.contents_pages


def _one_each(together: Future[list[T]], count: int) -> list[Future[T]]:
    """A future for each of the results one future gives together."""
    each: list[Future[T]] = [Future() for _ in range(count)]

    def done(finished: Future[list[T]]) -> None:
        try:
            results = finished.result()
        except BaseException as error:  # a failure, or the cancellation of a build that ends
            for future in each:
                future.set_exception(error)
        else:
            for future, result in zip(each, results, strict=True):
                future.set_result(result)

    together.add_done_callback(done)
    return each
