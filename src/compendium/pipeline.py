"""The build, stage by stage: load, validate, render the PDF, the map and the Word draft, write.

Nothing is written before all is checked; importing a draft follows the same rule.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from .draft_fields import sources_digest
from .errors import CompendiumError, SourceProblems
from .geography_map import draw_geography_map
from .import_docx import FileEdit, ImportPlan, check_edits, file_edits, plan_import, read_draft
from .load import load_edition
from .model import Collection
from .paths import ProjectPaths
from .render_docx import render_docx
from .render_pdf import render_pdf
from .subjects import load_subjects
from .validate import build_collection
from .write import write_outputs

log = logging.getLogger("compendium")

MAP_PNG_WIDTH_MM = 190  # as printed in the book
MAP_PNG_DPI = 300


@dataclass(frozen=True)
class BuildResult:
    """What a build produced."""

    outputs: dict[str, Path]
    page_count: int
    seconds: float


def load_collection(edition_dir: Path, paths: ProjectPaths) -> Collection:
    """Steps 1–2: read and check every source; raises SourceProblems listing all that is wrong."""
    log.info("Step 1 - Loading sources from %s", edition_dir)
    sources, unreadable = load_edition(edition_dir)
    if sources is None:
        raise SourceProblems(unreadable)
    log.info("Step 2 - Validating %d practices", len(sources.practices))
    collection, invalid = build_collection(sources, load_subjects(paths.subjects))
    if collection is None or unreadable:
        raise SourceProblems(unreadable + invalid)
    return collection


def build(edition_dir: Path, paths: ProjectPaths, output_root: Path | None = None) -> BuildResult:
    """Builds the edition into <output_root>/<edition>/ (build/ by default).

    The previous outputs stay in place until the new ones are complete.
    """
    started = time.perf_counter()
    collection = load_collection(edition_dir, paths)
    log.info("Step 3 - Laying out the PDF")
    pdf = render_pdf(collection, paths)
    log.info("Step 4 - Drawing the map as PNG")

    def map_png(width_mm: float) -> bytes:
        return draw_geography_map(collection, paths, width_mm).png(paths.fonts, MAP_PNG_DPI)

    log.info("Step 5 - Writing the Word draft")
    draft = render_docx(collection, paths, pdf.anchor_pages, map_png, sources_digest(collection.directory))
    folder = (output_root or paths.build) / collection.slug
    outputs = {
        "pdf": folder / f"compendium-{collection.slug}.pdf",
        "docx": folder / f"draft-{collection.slug}.docx",
        "map": folder / f"map-{collection.slug}.png",
    }
    log.info("Step 6 - Writing %s", folder)
    write_outputs({outputs["pdf"]: pdf.data, outputs["docx"]: draft, outputs["map"]: map_png(MAP_PNG_WIDTH_MM)})
    return BuildResult(outputs, pdf.page_count, time.perf_counter() - started)


@dataclass(frozen=True)
class DraftImport:
    """What importing a draft would change, file by file, and what it leaves alone."""

    plan: ImportPlan
    edits: list[FileEdit]


def import_draft(draft_path: Path, paths: ProjectPaths, edition_dir: Path | None, force: bool) -> DraftImport:
    """Reads an edited Word draft and works out the record edits; nothing is written here.

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
    log.info("Step 3 - Comparing fields")
    plan = plan_import(draft, collection, force)
    if plan.conflicts or plan.problems:
        return DraftImport(plan, [])
    edits = file_edits(plan)
    log.info("Step 4 - Checking the edited records")
    check_edits(edits, collection, lambda folder: load_collection(folder, paths))
    return DraftImport(plan, edits)


def write_sources(edits: list[FileEdit]) -> None:
    """Replaces the edited record files, all at once."""
    write_outputs({edit.path: edit.after.encode("utf-8") for edit in edits})
