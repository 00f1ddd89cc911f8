"""A cache that cannot poison a build: whatever damage is found in build/.cache between builds, the next build
makes the outputs a clean build makes, lays out or draws again what was damaged, and says so in one notice.

The faults are data: which kept file, how it is damaged, and what else must go for the build to use that file
at all (an unchanged rebuild merges no book, so it reads no kept font; it templates nothing, so it loads no
compiled template).
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from compendium.cache_files import KeptFiles, keep
from compendium.paths import ProjectPaths
from compendium.pipeline import CACHE, BuildResult, build
from compendium.preflight import Finding, PdfReading, PdfReadings
from tests.conftest import DEFAULT_EDITION, snapshot

EDITION = DEFAULT_EDITION.name
PRACTICE = "anuchinsky-beekeeping"
BOOKS = {"screen": f"compendium-{EDITION}.pdf", "print": f"compendium-{EDITION}-print.pdf"}
DIGESTS = ".sha256"


def truncated(data: bytes) -> bytes:
    return data[:len(data) // 2]


def flipped(data: bytes) -> bytes:
    """64 bytes in the middle with every bit turned over: what a bad sector or a bad copy leaves."""
    start = max(0, len(data) // 2 - 32)
    return data[:start] + bytes(byte ^ 0xFF for byte in data[start:start + 64]) + data[start + 64:]


def garbage(data: bytes) -> bytes:
    return random.Random(len(data)).randbytes(max(len(data), 64))


def empty(_data: bytes) -> bytes:
    return b""  # what a power loss leaves of a file written but not yet flushed


class Layouts:
    """The laid-out parts a clean build kept for one profile, by what each is."""

    def __init__(self, folder: Path, outputs: Path, profile: str) -> None:
        self.folder = folder / profile
        book = (outputs / BOOKS[profile]).read_bytes()
        self.facts = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in self.folder.glob("*.json")}
        self.book = next(key for key in self.facts if (self.folder / f"{key}.pdf").is_file()
                         and (self.folder / f"{key}.pdf").read_bytes() == book)

    def spread(self) -> str:
        return next(key for key, facts in self.facts.items() if facts["anchors"] == {f"practice-{PRACTICE}": 1})

    def frame(self) -> str:
        return next(key for key, facts in self.facts.items()
                    if facts["written"] and "cover" in facts["anchors"] and key != self.book)

    def contents(self) -> str:
        return next(key for key, facts in self.facts.items() if facts["written"] and not facts["anchors"])


def layout(profile: str, part: str, suffix: str) -> Callable[[Path, Path], Path]:
    def found(cache: Path, outputs: Path) -> Path:
        layouts = Layouts(cache, outputs, profile)
        key = layouts.book if part == "book" else getattr(layouts, part)()
        return layouts.folder / f"{key}{suffix}"

    return found


def first_in(folder: str, pattern: str = "*") -> Callable[[Path, Path], Path]:
    return lambda cache, _outputs: sorted(path for path in (cache / folder).glob(pattern)
                                          if not path.name.endswith(DIGESTS))[0]


def named(name: str) -> Callable[[Path, Path], Path]:
    return lambda cache, _outputs: cache / name


def the_book_facts(profile: str) -> Callable[[Path, Path], list[Path]]:
    """The book is merged again, reading the kept fonts, only when the cache does not have it."""
    return lambda cache, outputs: [layout(profile, "book", ".json")(cache, outputs)]


class Fault(NamedTuple):
    file: Callable[[Path, Path], Path]
    """The kept file to damage, from the edition's cache folder and output folder of a clean build."""
    damage: Callable[[bytes], bytes]
    gone: Callable[[Path, Path], list[Path]] = lambda _cache, _outputs: []
    """Kept files to remove as well, so that the build uses the damaged one."""


FAULTS = {
    "spread PDF truncated": Fault(layout("screen", "spread", ".pdf"), truncated),
    "spread PDF with flipped bytes": Fault(layout("print", "spread", ".pdf"), flipped),
    "spread PDF empty": Fault(layout("screen", "spread", ".pdf"), empty),
    "frame PDF garbage": Fault(layout("print", "frame", ".pdf"), garbage),
    "contents PDF truncated": Fault(layout("screen", "contents", ".pdf"), truncated),
    "layout facts empty": Fault(layout("screen", "spread", ".json"), empty),
    "layout facts garbage": Fault(layout("print", "frame", ".json"), garbage),
    "prepared spread truncated": Fault(layout("screen", "spread", ".objects"), truncated),
    "prepared spread with flipped bytes": Fault(layout("print", "spread", ".objects"), flipped),
    "screen book truncated": Fault(layout("screen", "book", ".pdf"), truncated),
    "print book with flipped bytes": Fault(layout("print", "book", ".pdf"), flipped),
    "print book empty": Fault(layout("print", "book", ".pdf"), empty),
    "font truncated": Fault(first_in("fonts/screen"), truncated, the_book_facts("screen")),
    "font garbage": Fault(first_in("fonts/print"), garbage, the_book_facts("print")),
    "drawing garbage": Fault(first_in("drawings"), garbage),
    "drawing truncated": Fault(first_in("drawings"), truncated),
    "reading garbage": Fault(first_in("readings", "*.fonts.json"), garbage),
    "reading with flipped bytes": Fault(first_in("readings", "*.qpdf.json"), flipped),
    "known inputs garbage": Fault(named("inputs.json"), garbage),
    "contents pages with flipped bytes": Fault(named("contents.json"), flipped),
    "last pages empty": Fault(named("pages.json"), empty),
    "compiled template with flipped bytes": Fault(first_in("templates"), flipped,
                                                  lambda cache, _outputs: [cache / "inputs.json"]),
}


@pytest.fixture(scope="module")
def clean(project: ProjectPaths, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(DEFAULT_EDITION, project, output_root=tmp_path_factory.mktemp("clean"))


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_damaged_kept_file_is_made_again_with_a_notice(fault: str, clean: BuildResult, project: ProjectPaths,
                                                         tmp_path: Path) -> None:
    root = tmp_path / "build"
    shutil.copytree(clean.outputs["preflight"].parents[1], root)
    cache, outputs = root / CACHE / EDITION, root / EDITION
    planted = FAULTS[fault].file(cache, outputs)
    for extra in FAULTS[fault].gone(cache, outputs):
        extra.unlink()
    planted.write_bytes(FAULTS[fault].damage(planted.read_bytes()))

    again = build(DEFAULT_EDITION, project, output_root=root)

    assert again.committed
    made, made_clean = snapshot(outputs), snapshot(clean.outputs["preflight"].parent)
    assert made.pop("preflight.json") != made_clean.pop("preflight.json")  # it has the notice
    assert made == made_clean
    notices = [finding for finding in again.preflight.findings if finding not in clean.preflight.findings]
    assert notices == [Finding("notice", planted.relative_to(root).as_posix(), notices[0].message)]
    assert notices[0].message.startswith("кэш: ") and notices[0].message.endswith("отброшен и сделан заново")
    reported = json.loads(again.outputs["preflight"].read_text(encoding="utf-8"))
    assert reported == json.loads(clean.outputs["preflight"].read_text(encoding="utf-8")) | {
        "findings": [*json.loads(clean.preflight.json())["findings"], {
            "severity": "notice", "output": notices[0].output, "message": notices[0].message}]}
    # what was damaged was made again: the cache is the clean build's, byte for byte but for the order in which
    # the layouts' keys were learnt
    kept, kept_clean = snapshot(cache), snapshot(clean.outputs["preflight"].parents[1] / CACHE / EDITION)
    for name in ("inputs.json", f"inputs.json{DIGESTS}"):
        del kept[name], kept_clean[name]
    assert kept == kept_clean
    assert json.loads((cache / "inputs.json").read_bytes()) == json.loads(
        (clean.outputs["preflight"].parents[1] / CACHE / EDITION / "inputs.json").read_bytes())


def reshaped(change: Callable[[object], object]) -> Callable[[bytes], bytes]:
    return lambda data: json.dumps(change(json.loads(data))).encode()


SHAPES = {
    # kept whole, by another version of compendium: each is read as not kept, and made again
    "contents pages": (named("contents.json"), reshaped(lambda known: {key: ["1"] for key in known})),
    "layout facts": (layout("screen", "frame", ".json"),
                     reshaped(lambda facts: facts | {"anchors": {name: str(page) for name, page in
                                                                 facts["anchors"].items()}})),
}

@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_kept_file_of_another_shape_is_made_again(shape: str, clean: BuildResult, project: ProjectPaths,
                                                     tmp_path: Path) -> None:
    root = tmp_path / "build"
    shutil.copytree(clean.outputs["preflight"].parents[1], root)
    locate, change = SHAPES[shape]
    planted = locate(root / CACHE / EDITION, root / EDITION)
    keep(planted, change(planted.read_bytes()))  # with its digest: whole, but not what this version writes

    again = build(DEFAULT_EDITION, project, output_root=root)

    assert snapshot(again.outputs["preflight"].parent) == snapshot(clean.outputs["preflight"].parent)


def test_a_reading_belongs_to_the_bytes_it_read(clean: BuildResult, tmp_path: Path) -> None:
    # kept by the PDF's name, the reading of the whole file was given for the damaged one too
    pdf = tmp_path / "layout.pdf"
    pdf.write_bytes(clean.outputs[f"practice-{PRACTICE}"].read_bytes())

    def read() -> PdfReading:
        readings = PdfReadings(tmp_path / "readings", KeptFiles())
        try:
            return readings.of(pdf, "practice")
        finally:
            readings.close()

    assert read().checks["qpdf --check"] == "ok"
    pdf.write_bytes(truncated(pdf.read_bytes()))
    assert read().checks["qpdf --check"] != "ok"
