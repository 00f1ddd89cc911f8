"""Stage 3: each profile's PDF, laid out as a frame plus one layout per spread, on every core, and merged.

Every spread is exactly two pages, so once the frame (the book with each spread left as two
empty pages) is laid out, every spread's page numbers are known. The spreads are then laid out
independently, in worker processes, and kept in the layout cache: after an edit, only the parts
whose HTML changed are laid out again, and the merge gives the same bytes as a clean build.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from .assemble_pdf import PlacedSpread, merge_spreads
from .book import Book
from .errors import SourceProblems
from .layout_cache import LaidOut, LayoutCache, layout_key, project_fingerprint
from .model import Collection
from .paths import ProjectPaths
from .progress import COUNT_LOGGER
from .render_pdf import PROFILES, SCREEN, BookTemplate, LayoutJob, Profile, lay_out_part, measure_overflow

T = TypeVar("T")
log = logging.getLogger("compendium")
counts = logging.getLogger(COUNT_LOGGER)
# Workers start from a clean server process that has WeasyPrint loaded already, rather than forking
# this one, which may hold font and layout state (in `watch`, say).
_WORKERS = multiprocessing.get_context("forkserver" if sys.platform == "linux" else "spawn")
if sys.platform == "linux":
    _WORKERS.set_forkserver_preload(["compendium.render_book"])


@dataclass(frozen=True)
class RenderedPdf:
    """A laid-out and checked PDF, with what the preflight report needs to know of its layout."""

    data: bytes
    profile: Profile
    page_count: int
    anchor_pages: dict[str, int]
    """The 1-based page of every section: where the contents of the Word draft points."""
    title: str
    overflow: tuple[str, ...] = ()
    """Text that runs outside its page's text area, as «page N: text…»."""


@dataclass(frozen=True)
class RenderedBook:
    """The whole book for one profile and, for the screen, each practice's spread on its own."""

    book: RenderedPdf
    practices: dict[str, RenderedPdf]


class LayoutRunner:
    """Lays out jobs on worker processes, one per core, started when the runner is made so that they are
    ready by the time the first job is; a single job, or a single core, is laid out in this process."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or len(os.sched_getaffinity(0))
        self._pool = ProcessPoolExecutor(self.workers, mp_context=_WORKERS) if self.workers > 1 else None
        if self._pool is not None:
            for _ in range(self.workers):
                self._pool.submit(int)  # starts a worker; WeasyPrint is already loaded in the server it forks from

    def run(self, jobs: Sequence[LayoutJob]) -> Iterator[LaidOut]:
        """The jobs' layouts, in the jobs' order."""
        return self.each(lay_out_part, [(job,) for job in jobs])

    def each(self, work: Callable[..., T], arguments: Sequence[tuple[Any, ...]]) -> Iterator[T]:
        """``work`` applied to each tuple of arguments, on the workers when there is more than one."""
        if self._pool is None or len(arguments) < 2:
            return (work(*each) for each in arguments)
        return self._pool.map(work, *zip(*arguments, strict=True))

    def __enter__(self) -> LayoutRunner:
        return self

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def render_books(collection: Collection, paths: ProjectPaths, profiles: Sequence[str], made: datetime,
                 cache_folder: Path, runner: LayoutRunner,
                 meanwhile: Callable[[dict[str, int]], T]) -> tuple[dict[str, RenderedBook], T]:
    """Lays out every profile's frame, then every spread that is not in the cache, then merges each book.

    While the workers merge, ``meanwhile`` runs here, given the page of each section (the first
    profile's). ``made`` is the date the PDFs carry, so the same sources give the same bytes.
    """
    book = Book.of(collection)
    parts = _Parts(collection, paths, made, cache_folder, runner)
    chosen = [PROFILES[name] for name in profiles]
    frames = dict(zip(profiles, parts.lay_out(
        "frames", [(profile, replace(book, part="frame"), None, None) for profile in chosen]), strict=True))
    title = f"{book.edition.title} {book.period_label}"  # as book.html.j2 titles the book
    titles = {practice.id: f"{practice.municipality}: «{practice.title}» — {title}"
              for practice in collection.practices}
    spread_jobs = [
        (profile, replace(book, part="spreads", practices=(practice,),
                          first_page=frames[profile.name].anchors[f"practice-{practice.id}"]),
         practice.id, titles[practice.id])
        for profile in chosen for practice in collection.practices
    ]
    spreads = iter(parts.lay_out("spreads", spread_jobs))
    laid_out = {profile.name: {practice.id: next(spreads) for practice in collection.practices} for profile in chosen}
    overflowing = [practice for practice in collection.practices
                   if not all(laid_out[name][practice.id].fits for name in profiles)]
    if overflowing:
        raise SourceProblems(measure_overflow(replace(book, practices=tuple(overflowing), part="measure"),
                                              collection, paths))
    parts.forget_the_rest()
    merged = runner.each(_merged, [(profile, frames[profile.name], laid_out[profile.name], paths, title, titles)
                                   for profile in chosen])
    done_meanwhile = meanwhile(frames[profiles[0]].anchors)
    return dict(zip(profiles, merged, strict=True)), done_meanwhile


def _merged(profile: Profile, frame: LaidOut, spreads: dict[str, LaidOut], paths: ProjectPaths,
            title: str, titles: dict[str, str]) -> RenderedBook:
    placed = []
    overflow = [f"page {page}: «{text}»" for page, text in frame.overflow]
    practices = {}
    for practice_id, spread in spreads.items():
        first_page = frame.anchors[f"practice-{practice_id}"]
        placed.append(PlacedSpread(first_page - 1, spread.pdf))
        overflow += [f"page {first_page - 1 + page}: «{text}»" for page, text in spread.overflow]
        if profile.name == SCREEN.name:  # by name: the profile may be a worker's unpickled copy
            practices[practice_id] = RenderedPdf(
                spread.pdf, profile, spread.page_count, spread.anchors, titles[practice_id],
                tuple(f"page {page}: «{text}»" for page, text in spread.overflow))
    data = merge_spreads(frame.pdf, placed, paths.fonts, profile.whole_fonts)
    return RenderedBook(RenderedPdf(data, profile, frame.page_count, frame.anchors, title, tuple(overflow)), practices)


class _Parts:
    """Turns parts of the book into layout jobs, answers what it can from the cache and runs the rest."""

    def __init__(self, collection: Collection, paths: ProjectPaths, made: datetime, cache_folder: Path,
                 runner: LayoutRunner) -> None:
        self.collection, self.paths, self.made, self.runner = collection, paths, made, runner
        self.fingerprint = project_fingerprint(paths)
        self.caches: dict[str, LayoutCache] = {}
        self.templates: dict[str, BookTemplate] = {}
        self.cache_folder = cache_folder

    def lay_out(self, what: str, parts: Sequence[tuple[Profile, Book, str | None, str | None]]) -> list[LaidOut]:
        """Each part's layout, from the cache or laid out now; ``parts`` are (profile, book, spread of, title)."""
        keyed = []
        for profile, book, spread_of, title in parts:
            job = LayoutJob(self._template(profile).render(book), profile, self.made, self.paths,
                            self.collection.directory, spread_of, title)
            key = layout_key(self.fingerprint, job.html, profile.name, self.made.isoformat(), title or "")
            keyed.append((self._cache(profile), key, job))
        found = {key: cache.get(key) for cache, key, _ in keyed}
        missing = [(cache, key, job) for cache, key, job in keyed if found[key] is None]
        log.info("%d of %d %s to lay out; %d from the cache", len(missing), len(keyed), what,
                 len(keyed) - len(missing))
        laid_out_now = self.runner.run([job for _, _, job in missing])
        for done, ((cache, key, _), laid_out) in enumerate(zip(missing, laid_out_now, strict=True), start=1):
            cache.put(key, laid_out)
            found[key] = laid_out
            counts.info("%d of %d %s laid out", done, len(missing), what)
        return [found[key] for _, key, _ in keyed]  # type: ignore[misc]

    def forget_the_rest(self) -> None:
        for cache in self.caches.values():
            cache.keep_only_used()

    def _template(self, profile: Profile) -> BookTemplate:
        if profile.name not in self.templates:
            self.templates[profile.name] = BookTemplate(self.collection, self.paths, profile)
        return self.templates[profile.name]

    def _cache(self, profile: Profile) -> LayoutCache:
        if profile.name not in self.caches:
            self.caches[profile.name] = LayoutCache(self.cache_folder / profile.name)
        return self.caches[profile.name]
