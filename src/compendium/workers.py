"""The layout workers: one pool per process, kept for every build the process makes.

The `compendium` command forks its workers first thing, before it imports anything else
(`start_early`): a fork of a process that holds only the interpreter is the smallest start a worker
can have, and each worker then imports WeasyPrint and pikepdf and lays out a line of text with the
book's stylesheet and fonts while the command imports the pipeline and reads the records. At 250
practices that took the build's peak RSS summed over its processes from 449 to 367 MB (PSS 342 →
304 MB): a server to fork from would hold a third copy of WeasyPrint only to be copied.

A process that has imported the pipeline before its first build (the tests, a library caller) holds
far more than a worker needs, and may run threads, which a fork does not take along safely: its
workers are forked from a server that has loaded only what they need (multiprocessing's forkserver).
"""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
import urllib.parse
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pathlib import Path

    from .book import Book
    from .cache_files import Damaged
    from .errors import Problem
    from .layout_cache import LaidOut, LayoutJob, StubRun
    from .model import Collection
    from .paths import ProjectPaths

T = TypeVar("T")
FORKED = sys.platform == "linux"
WORKER_MODULES = ["compendium.render_pdf", "compendium.assemble_pdf"]
SERVER = multiprocessing.get_context("forkserver" if FORKED else "spawn")
if FORKED:
    SERVER.set_forkserver_preload(WORKER_MODULES)
PR_SET_PDEATHSIG = 1
M_ARENA_MAX = -8
_LIBC = ctypes.CDLL(None) if FORKED else None
log = logging.getLogger("compendium")

_pool: ProcessPoolExecutor | None = None
_for_one_build = False


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def start_early(paths: ProjectPaths | None, for_one_build: bool) -> None:
    """Forks the workers now, each to load what it lays out with and to warm up on ``paths``' layouts;
    ``for_one_build``, they end once that build's layouts are done (`release`).

    Call it before importing the pipeline, with no other thread running."""
    global _pool, _for_one_build
    _share_one_heap()
    if FORKED and cores() > 1 and _pool is None:
        _for_one_build = for_one_build
        _pool = ProcessPoolExecutor(cores(), mp_context=multiprocessing.get_context("fork"),
                                    initializer=_start_worker, initargs=(paths,))
        _pool.submit(int)  # a fork context starts every worker at the first job


def _share_one_heap() -> None:
    """Has every thread of this process allocate from the one heap that `give_back_free_pages` trims.

    By default glibc gives a thread its own heap. The Word draft, written on a thread while the main thread
    templates the layouts, left 23 MB there that trimming did not give back: at 1 000 practices the building
    process held 139 MB through every layout that followed, against 116 with one heap."""
    if _LIBC is not None:
        _LIBC.mallopt(M_ARENA_MAX, 1)


def submit(work: Callable[..., T], *arguments: Any) -> Future[T]:
    """Starts ``work`` on a worker. A pool that a killed worker broke (its builds failed with it) is
    replaced by one forked from the server."""
    global _pool
    if _pool is not None:
        try:
            return _pool.submit(work, *arguments)
        except BrokenProcessPool:
            log.info("A layout worker ended unexpectedly; starting new ones")
    _pool = ProcessPoolExecutor(cores(), mp_context=SERVER, initializer=_start_worker, initargs=(None,))
    # each worker's start waits for the server to have loaded WeasyPrint: a thread waits, not the caller
    threading.Thread(target=_start_every_worker, args=(_pool,), daemon=True).start()
    return _pool.submit(work, *arguments)


def release() -> None:
    """Ends the workers of a process that makes one build, its layouts done: the checks that follow have
    no work for them, and each holds some 120 MB at 500 practices, a third of the build's peak there."""
    global _pool
    if _for_one_build and _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def _start_every_worker(pool: ProcessPoolExecutor) -> None:
    for _ in range(cores()):
        try:
            pool.submit(int)
        except (BrokenProcessPool, RuntimeError):  # broken, or shut down as the interpreter exits
            return


# What the workers run. Each imports WeasyPrint and pikepdf on its first job, or earlier (_start_worker); with
# a single core the work runs in the building process, which imports them then.

def _start_worker(paths: ProjectPaths | None) -> None:
    """A worker's first steps: it is to end with the process that submits its jobs, however that ends, and
    to have what its first layout needs loaded."""
    if FORKED:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    from .render_pdf import warm_up  # a worker of the command loads WeasyPrint here, once forked

    if paths is not None:
        warm_up(paths)
    _return_free_memory()


def lay_out(job: LayoutJob) -> LaidOut:
    from .render_pdf import lay_out_part

    try:
        return lay_out_part(job)
    finally:
        _return_free_memory()


def lay_out_in_turn(jobs: list[LayoutJob]) -> list[LaidOut]:
    return [lay_out(job) for job in jobs]


def measure_overflow(book: Book, collection: Collection, paths: ProjectPaths) -> list[Problem]:
    from .render_pdf import measure_overflow as measured

    return measured(book, collection, paths)


def contents_first_rows(job: LayoutJob) -> list[str]:
    from .render_pdf import contents_first_rows as found

    try:
        return found(job)
    finally:
        _return_free_memory()


def merge_book(frame: Path, runs: list[StubRun], fonts: Path, whole_fonts: bool, book: Path,
               kept_fonts: Path) -> list[Damaged]:
    from .assemble_pdf import merge_spreads
    from .page_reading import keep_page_facts

    try:
        damaged = merge_spreads(frame, runs, fonts, whole_fonts, book, kept_fonts)
        keep_page_facts(book, book.read_bytes(), font_files=True)  # read back from the file, for the preflight
        return damaged
    finally:
        _return_free_memory()


def _return_free_memory() -> None:
    """Gives a worker's free heap back to the system: a long frame's layout or a merge leaves the heap
    large, and what follows needs far less.

    What survives a collection in a worker is what it keeps (modules, the parsed stylesheet, fonts), so
    it is frozen out of later collections: each one then looks only at the last job's objects, a few
    milliseconds instead of some 50, a sixth of a spread's layout."""
    _forget_names_the_job_cached()
    give_back_free_pages()
    gc.freeze()


def _forget_names_the_job_cached() -> None:
    """Drops the strings a layout leaves in the interpreter's caches: the type attribute cache keeps the last
    attribute names looked up (WeasyPrint builds names such as ``border_top_width`` as it draws) and
    urllib the last URLs split (every link). A few hundred objects, each allocated late in the layout, are
    enough to keep dozens of the allocator's 1 MB arenas in use after a long frame: with them dropped, a
    worker holds some 12 MB less after a frame of 500 practices."""
    urllib.parse.clear_cache()
    sys._clear_type_cache()


def give_back_free_pages() -> None:
    """Collects garbage and hands the heap's free pages back to the system."""
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
