"""The build, stage by stage: load, validate, render, write. Nothing is written before all is checked."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import SourceProblems
from .geography_map import draw_geography_map
from .load import load_edition
from .model import Collection
from .paths import ProjectPaths
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
    map_png = draw_geography_map(collection, paths, MAP_PNG_WIDTH_MM).png(paths.fonts, MAP_PNG_DPI)
    folder = (output_root or paths.build) / collection.slug
    outputs = {"pdf": folder / f"compendium-{collection.slug}.pdf", "map": folder / f"map-{collection.slug}.png"}
    log.info("Step 5 - Writing %s", folder)
    write_outputs({outputs["pdf"]: pdf.data, outputs["map"]: map_png})
    return BuildResult(outputs, pdf.page_count, time.perf_counter() - started)
