"""The build, stage by stage: load, validate, render the PDFs, the map and the Word draft, check, write.

Nothing is written before all is checked; importing a draft follows the same rule.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from .book import Book
from .cache_files import KeptFiles
from .characters import font_coverage
from .draft_comments import CommentNote, comments_markdown
from .draft_fields import sources_digest
from .errors import CompendiumError, DiskProblem, SourceProblems, display_path
from .geography_map import MapRecords, draw_geography_map
from .import_docx import FileEdit, ImportPlan, check_edits, file_edits, plan_import, read_draft
from .import_safety import refuse_another_edition, refuse_losses
from .layout_cache import INPUTS_FILE, DrawingCache
from .load import load_edition
from .model import Collection, Edition
from .paths import ProjectPaths
from .preflight import (
    Finding,
    PdfReadings,
    Preflight,
    check_tools,
    expected_book_pages,
    inspect_docx,
    inspect_pdf,
    inspect_png,
    missing_optional,
)
from .render_book import LayoutRunner, PdfRole, PlacedPart, RenderedBook, render_books
from .render_docx import render_docx
from .subjects import load_subjects
from .validate import build_collection
from .versions import check_versions
from .write import OutputLock, StagedOutputs, replace_file, write_files

log = logging.getLogger("compendium")

MAP_PNG_WIDTH_MM = 190  # as printed in the book
CACHE = ".cache"
"""The folder, beside the editions' output folders, that keeps laid-out parts between builds."""
MAP_PNG_DPI = 300


@dataclass(frozen=True)
class BuildResult:
    """What a build produced, and what its preflight found."""

    outputs: dict[str, Path]
    preflight: Preflight
    committed: bool
    seconds: float
    layouts: dict[str, tuple[PlacedPart, ...]] = field(default_factory=dict)
    """By book (its key in ``outputs``), the layouts it was merged from, in the cache, and the book's page
    for each of their pages: what a page of the book must look like."""


def load_collection(edition_dir: Path, paths: ProjectPaths) -> Collection:
    """Steps 1–2: read and check every source; raises SourceProblems listing all that is wrong."""
    log.info("Step 1 - Loading sources from %s", edition_dir)
    sources, unreadable = load_edition(edition_dir)
    if sources is None:
        raise SourceProblems(unreadable)
    log.info("Step 2 - Validating %d practices", len(sources.practices))
    collection, invalid = build_collection(sources, load_subjects(paths.subjects), font_coverage(paths.fonts))
    if collection is None or unreadable:
        raise SourceProblems(unreadable + invalid)
    return collection


def build_date(edition: Edition) -> datetime:
    """The date every output carries: SOURCE_DATE_EPOCH when set, else the edition's, so rebuilds match."""
    if epoch := os.environ.get("SOURCE_DATE_EPOCH"):
        if not epoch.isdigit():
            raise CompendiumError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not {epoch!r}")
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    published = edition.publication_date
    return datetime(published.year, published.month, published.day, tzinfo=UTC)


def build(edition_dir: Path, paths: ProjectPaths, output_root: Path | None = None,
          profiles: Sequence[str] = ("print", "screen"), strict: bool = False, wait: bool = True) -> BuildResult:
    """Builds the edition into <output_root>/<edition>/ (build/ by default) and checks what it made.

    The previous outputs stay in place until the new ones are complete and, with ``strict``,
    free of preflight warnings. One build of an edition's outputs runs at a time, from its first read of the
    sources to the swap and the cache's pruning (`OutputLock`): another waits for it, saying so, or without
    ``wait`` is refused. A build that waited reads the sources once it has the lock, so the build that runs
    last writes the sources as they are when it starts, edits made meanwhile included.
    """
    started = time.perf_counter()
    check_versions()
    check_tools()
    root = output_root or paths.build
    # Collection.slug, known before a record is read: the lock is taken first, the cache goes by it too
    folder = root / edition_dir.resolve().name
    cache = root / CACHE / folder.name
    with _disk_faults_named(root, folder, cache), OutputLock(folder, _waiting_for_another(folder, wait)) as lock:
        with LayoutRunner() as runner:  # its worker processes start while the sources load
            records = _records_digest(edition_dir)
            collection = load_collection(edition_dir, paths)
            made = build_date(collection.edition)
            kept = KeptFiles()
            readings = PdfReadings(cache / "readings", kept)
            try:
                rendered, draft, png = _render(collection, paths, profiles, made, cache, kept, runner, readings.start)
            except BaseException:
                readings.close()
                raise
        if _records_digest(edition_dir) != records:
            _forget_layout_inputs(edition_dir, cache)
        outputs = _output_paths(folder, collection, rendered)
        log.info("Step 5 - Checking the outputs")
        with StagedOutputs(folder, lock) as staged, closing(readings):
            written = {"docx": staged.add(outputs["docx"], draft),
                       "map": staged.add(outputs["map"], png)}
            preflight = _preflight(collection, folder, outputs, rendered, staged, made, readings)
            preflight.findings.extend(Finding("notice", _shown_in(damaged.file, root), damaged.message())
                                      for damaged in kept.damaged)
            preflight.outputs.append(inspect_docx(written["docx"], outputs["docx"].name))
            preflight.outputs.append(inspect_png(written["map"], outputs["map"].name, MAP_PNG_WIDTH_MM))
            staged.add(outputs["preflight"], preflight.json())
            committed = not (strict and preflight.warnings)
            if committed:
                log.info("Step 6 - Writing %s", folder)
                stale = set((folder / "practices").glob("*.pdf")) - set(outputs.values())
                staged.commit(stale)
    layouts = {_pdf_key(name): book.book.parts for name, book in rendered.items()}
    return BuildResult(outputs, preflight, committed, time.perf_counter() - started, layouts)


def _waiting_for_another(folder: Path, wait: bool) -> Callable[[], None]:
    """What a build does when another holds its edition's lock: says it waits, once, or is refused."""
    shown = f"{display_path(folder)}/"

    def busy() -> None:
        if not wait:
            raise CompendiumError(f"сборка в {shown} уже идёт в другом процессе; дождитесь её окончания "
                                  "или запустите без --no-wait")
        log.warning("сборка в %s уже идёт в другом процессе; жду её окончания…", shown)

    return busy


def _records_digest(edition_dir: Path) -> str | None:
    try:
        return sources_digest(edition_dir)
    except OSError:
        return None  # a record that cannot be read: loading the edition says which


def _forget_layout_inputs(edition_dir: Path, cache: Path) -> None:
    """Drops the layout key noted for each part's inputs, after the records changed while the build ran.

    A part's inputs are the digests of its records as they are on disk when the layouts start
    (`EditionRecords`), its HTML is made from the records as loaded: an edit landing in between noted the
    edited records' inputs with the key of the HTML of the records before it, and the next build, reading the
    edit, would have taken that layout for the edit's. The layouts stay: their keys are their HTML's.
    """
    (cache / INPUTS_FILE).unlink(missing_ok=True)
    log.warning("%s: записи изменились во время сборки; она собрана по записям, какими они были в её начале, "
                "изменения войдут в следующую сборку", display_path(edition_dir))


@contextmanager
def _disk_faults_named(root: Path, folder: Path, cache: Path) -> Iterator[None]:
    """Turns a full disk, a read-only folder or a missing permission, met writing the outputs, the cache or the
    lock, into one message naming the folder: whether in this process, on a thread or in a worker, whose
    error its future raises again here. The previous outputs stay as they were (`StagedOutputs`).

    An error of a file outside the output root is left alone (an unreadable picture is the sources'), but for
    a full disk, which stops the build wherever it is met."""
    try:
        yield
    except OSError as error:
        if error.errno not in DiskProblem.FAULTS:
            raise
        written = error.filename2 or error.filename  # a copy or a rename names the file it writes second
        where = Path(os.path.abspath(os.fsdecode(written) if written is not None else root))
        named = next((known for known in (cache, folder, root) if where.is_relative_to(os.path.abspath(known))), None)
        if Path(os.path.abspath(root)).is_relative_to(where) and not root.is_dir():
            named = where.parent  # the output root could not be made: this is the folder that refused it
        if named is not None:
            raise DiskProblem.of(error, named) from error
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskProblem.of(error, where.parent, beside_outputs=False) from error
        raise


def _render(collection: Collection, paths: ProjectPaths, profiles: Sequence[str], made: datetime,
            cache_folder: Path, kept: KeptFiles, runner: LayoutRunner, pdf_made: Callable[[Path, PdfRole], object]
            ) -> tuple[dict[str, RenderedBook], bytes, bytes]:
    """Steps 3–4: the PDFs of every profile, laid out on every core and merged; the Word draft and the map
    PNG are made here meanwhile."""
    profiles = sorted(dict.fromkeys(profiles), key=lambda name: name != "screen")

    drawings = DrawingCache(cache_folder / "drawings", paths, kept)

    map_records = MapRecords.of(collection)

    def map_png(width_mm: float) -> bytes:  # placing the markers and making a 300 dpi PNG take a second
        return drawings.get(f"{map_records!r}\0{width_mm}\0{MAP_PNG_DPI}", lambda: draw_geography_map(
            map_records, paths, width_mm).png(paths.fonts, MAP_PNG_DPI), f"карта шириной {width_mm:g} мм в PNG")

    def draft_and_map(pages: dict[str, int]) -> tuple[bytes, bytes]:  # every profile places the sections alike
        log.info("Drawing the map as PNG and writing the Word draft")
        draft = render_docx(collection, paths, pages, map_png, sources_digest(collection.directory), made)
        return draft, map_png(MAP_PNG_WIDTH_MM)

    log.info("Step 3 - Laying out the %s", " and ".join(f"{name} PDF" for name in profiles))
    rendered, (draft, png) = render_books(collection, paths, profiles, made, cache_folder, kept, runner,
                                          draft_and_map, pdf_made)
    drawings.keep_only_used()
    return rendered, draft, png


def _output_paths(folder: Path, collection: Collection, rendered: dict[str, RenderedBook]) -> dict[str, Path]:
    slug = collection.slug
    outputs = {_pdf_key(name): folder / f"compendium-{slug}{'' if name == 'screen' else '-' + name}.pdf"
               for name in rendered}
    for practice_id in rendered["screen"].practices if "screen" in rendered else ():
        outputs[f"practice-{practice_id}"] = folder / "practices" / f"{practice_id}.pdf"
    outputs |= {"docx": folder / f"draft-{slug}.docx", "map": folder / f"map-{slug}.png",
                "preflight": folder / "preflight.json"}
    return outputs


def _shown_in(file: Path, root: Path) -> str:
    """A file of the build folder as a finding names it: from the build folder, as .cache/<edition>/…"""
    return file.relative_to(root).as_posix() if file.is_relative_to(root) else str(file)


def _pdf_key(profile: str) -> str:
    """The screen PDF is the book people share, so it keeps the plain name; others are named by profile."""
    return "pdf" if profile == "screen" else f"pdf-{profile}"


def _preflight(collection: Collection, folder: Path, outputs: dict[str, Path], rendered: dict[str, RenderedBook],
               staged: StagedOutputs, made: datetime, readings: PdfReadings) -> Preflight:
    book, findings, reports = Book.of(collection), missing_optional(collection), []
    pdfs = [(key, kind, pdf, expected) for name in sorted(rendered)
            for key, kind, pdf, expected in [(_pdf_key(name), "pdf", rendered[name].book, None),
                                             *((f"practice-{pid}", "practice", pdf, 2)
                                               for pid, pdf in rendered[name].practices.items())]]
    written = [staged.add_copy(outputs[key], pdf.pdf) for key, _, pdf, _ in pdfs]
    for (key, kind, pdf, expected), path in zip(pdfs, written, strict=True):
        shown_as = outputs[key].relative_to(folder).as_posix()
        pages = expected or expected_book_pages(book, pdf, findings, shown_as)
        reading = readings.of(pdf.pdf, "practice" if kind == "practice" else "book", pdf.parts)  # the copy's bytes
        reports.append(inspect_pdf(path, reading, shown_as, kind, pdf, pages, findings))
    readings.forget_the_rest()
    return Preflight(collection.slug, made.date().isoformat(), reports, findings)


@dataclass(frozen=True)
class DraftImport:
    """What importing a draft would change, file by file, and what it leaves alone."""

    plan: ImportPlan
    edits: list[FileEdit]


def import_draft(draft_path: Path, paths: ProjectPaths, edition_dir: Path | None, force: bool) -> DraftImport:
    """Reads an edited Word draft and works out the record edits; nothing is written here.

    A draft of another edition is refused, and so is a plan that would lose text (see import_safety),
    unless ``force``, which also takes the draft's text where the records changed since.

    The edits are checked by loading the edition with them applied, in a scratch copy.
    """
    log.info("Step 1 - Reading the draft %s", draft_path)
    draft = read_draft(draft_path)
    edition = edition_dir or (paths.root / draft.edition if draft.edition else None)
    if edition is None:
        raise CompendiumError(f"{draft_path}: the draft does not say which edition it was made from; "
                              "give it with --edition")
    log.info("Step 2 - Loading the records of %s", edition)
    collection = load_collection(edition, paths)
    overridden = refuse_another_edition(draft, draft_path, collection, force)
    log.info("Step 3 - Comparing fields")
    # the safety check runs on the plan, before anything is written and in a dry run too
    plan = refuse_losses(plan_import(draft, collection, force), draft, collection, force)
    if overridden:
        plan = replace(plan, notes=(overridden, *plan.notes))
    if plan.conflicts or plan.problems:
        return DraftImport(plan, [])
    edits = file_edits(plan)
    log.info("Step 4 - Checking the edited records")
    check_edits(edits, collection, lambda folder: load_collection(folder, paths))
    return DraftImport(plan, edits)


def write_sources(edits: list[FileEdit]) -> None:
    """Replaces the edited record files, all at once; a folder that cannot take them is one message."""
    try:
        write_files({edit.path: edit.after.encode("utf-8") for edit in edits})
    except OSError as error:
        if error.errno not in DiskProblem.FAULTS:
            raise
        written = error.filename2 or error.filename
        folder = Path(os.fsdecode(written)).parent if written is not None else edits[0].path.parent
        raise DiskProblem.of_records(error, folder) from error


def write_comments(notes: Sequence[CommentNote], target: Path, draft_name: str) -> None:
    """Writes a draft's comments out for the organisers (Markdown: readable as it is, and grouped by record)."""
    try:
        replace_file(target, comments_markdown(notes, draft_name).encode("utf-8"))
    except OSError as error:
        raise CompendiumError(f"{display_path(target)}: комментарии не записаны ({error.strerror}); "
                              "укажите в --comments другой файл") from None
