"""Stage 5: check the finished files with real clients before they replace the last good build.

poppler's pdffonts and pdfimages read what the PDFs actually embed and at what resolution each
picture is placed; qpdf checks their structure. The report is for people (the summary printed at
the end of a build) and for programs (preflight.json).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from lxml import etree
from PIL import Image

from .book import Book, page_plan
from .cache_files import KeptFiles, keep, kept_name
from .errors import CompendiumError
from .model import Collection
from .page_facts import PagesReading, boxes, differences, facts_from_json, kept_facts
from .render_book import PdfRole, PlacedPart, RenderedPdf

Severity = Literal["warning", "notice"]
TOOLS = ("pdffonts", "pdfimages", "qpdf")
EMU_PER_INCH = 914_400
MM_PER_INCH = 25.4
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


@dataclass(frozen=True)
class Finding:
    """Something a person should know: a warning fails a --strict build, a notice never does."""

    severity: Severity
    output: str
    message: str


@dataclass(frozen=True)
class FontUse:
    name: str
    type: str
    embedded: bool
    subset: bool


@dataclass(frozen=True)
class ImageUse:
    page: int
    width_px: int
    height_px: int
    ppi: float
    """The lower of the horizontal and vertical resolution at the size the image is placed."""


@dataclass(frozen=True)
class OutputReport:
    file: str
    kind: str
    bytes: int
    pages: int | None = None
    expected_pages: int | None = None
    variant: str | None = None
    title: str | None = None
    fonts: list[FontUse] = field(default_factory=list)
    images: list[ImageUse] = field(default_factory=list)
    overflow: list[str] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)
    """Each reader's verdict on the file's structure: "ok", or what it complained of."""


@dataclass(frozen=True)
class Preflight:
    edition: str
    date: str
    outputs: list[OutputReport]
    findings: list[Finding]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "warning"]

    def json(self) -> bytes:
        return (json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    def summary(self) -> str:
        """A few lines for the end of the build: each output, then what needs attention."""
        practices = [output for output in self.outputs if output.kind == "practice"]
        lines = [_summary_line(output) for output in self.outputs if output.kind != "practice"]
        if practices:  # one line for the per-practice PDFs, not one each
            lines.append(f"practice: {len(practices)} spreads in {Path(practices[0].file).parent}/ "
                         f"({_kib(sum(p.bytes for p in practices))} in all)")
        for finding in self.findings:
            lines.append(f"{finding.severity}: {finding.output}: {finding.message}")
        notices = len(self.findings) - len(self.warnings)
        lines.append(f"preflight: {len(self.warnings)} warnings, {notices} notices")
        return "\n".join(lines)


def _summary_line(output: OutputReport) -> str:
    facts = [_kib(output.bytes)]
    if output.pages is not None:
        facts.insert(0, f"{output.pages} pages" + ("" if output.pages == output.expected_pages
                                                  else f" (expected {output.expected_pages})"))
    if output.variant:
        facts.append(output.variant)
    if output.fonts:
        facts.append(f"{sum(font.embedded for font in output.fonts)}/{len(output.fonts)} fonts embedded")
    if output.images:
        facts.append(f"{len(output.images)} images, lowest {min(i.ppi for i in output.images):.0f} ppi")
    return f"{output.kind}: {output.file} ({', '.join(facts)})"


def _kib(size: int) -> str:
    return f"{size / 1024:,.0f} KiB".replace(",", " ")  # grouped the Russian way, as the book prints numbers


def check_tools() -> None:
    """Fails early, before any layout, when a checking tool is missing."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise CompendiumError(f"preflight needs {', '.join(missing)} (Debian: poppler-utils, qpdf); "
                              "run scripts/bootstrap.sh")


@dataclass(frozen=True)
class PdfReading:
    """What the real readers say of one written PDF: its fonts, its pictures, and each reader's verdict on
    its structure ("ok", or what the reader complained of)."""

    fonts: list[FontUse] = field(default_factory=list)
    images: list[ImageUse] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)

    def __or__(self, other: PdfReading) -> PdfReading:
        return PdfReading(self.fonts + other.fonts, self.images + other.images, self.checks | other.checks)


def _reading_of(path: Path, reader: str) -> PdfReading:
    return _READ[reader](path)


def _read_fonts(path: Path) -> PdfReading:
    fonts, verdict = _fonts(path)
    return PdfReading(fonts=fonts, checks={"pdffonts": verdict})


def _read_images(path: Path) -> PdfReading:
    if not _may_place_pictures(path):
        return PdfReading()  # nothing for pdfimages to list, so it is not run: no verdict either
    images, verdict = _images(path)
    return PdfReading(images=images, checks={"pdfimages -list": verdict})


def _may_place_pictures(path: Path) -> bool:
    """False only when the PDF cannot place a picture, told from its bytes without a reader.

    WeasyPrint places every picture as an image XObject, never inline, and an XObject is a stream,
    whose dictionary (where /Subtype /Image is) the PDF format never compresses into an object
    stream. Most layouts have no picture, and running pdfimages on them was half the readers' time.
    """
    return b"/Image" in path.read_bytes()  # whole: without photographs a layout is a few hundred KiB at most


def _page_facts(path: Path, font_files: bool, kept: KeptFiles) -> PagesReading | str:
    """What each page draws, as the process that wrote the PDF kept it beside it (`page_facts`), else read
    by a process of its own, as poppler's readers are (a cache from before the facts were kept, or damaged);
    what went wrong if the PDF cannot be read."""
    facts = kept_facts(path, path.read_bytes(), kept)
    if facts is not None:
        return facts
    result = _run([sys.executable, "-m", "compendium.page_reading", *(["--font-files"] * font_files), str(path)])
    if result.returncode != 0:
        return result.stderr.strip() or f"exit status {result.returncode}"
    return facts_from_json(json.loads(result.stdout)["reading"])


def _glyph_verdict(facts: PagesReading | str) -> str:
    """«ok», or each character a page draws as an empty box, for want of a glyph (`page_facts.boxes`)."""
    if isinstance(facts, str):
        return facts
    return "; ".join(f"страница {page}: «{text}» (U+{ord(text[0]):04X})" for page, text in boxes(facts)) or "ok"


def _read_structure(path: Path) -> PdfReading:
    return PdfReading(checks={" ".join(command): _poppler_verdict(_run([*command, str(path)], keep_output=False))
                              for command in _STRUCTURE_READERS})


_STRUCTURE_READERS = (["pdfinfo", "-struct"], ["pdfinfo", "-dests"], ["pdfinfo", "-url"])
"""poppler reading what spans a merged book: the whole tag tree, every named destination, every link."""

READERS: dict[PdfRole, tuple[str, ...]] = {
    "practice": ("fonts", "images", "qpdf", "glyphs"),
    "part": ("images",),
    # qpdf --check reads all of a file's objects at once: 1.2 s and 120 MB for the 38 000 tags of a
    # 250-practice book, growing with it. The book's objects are its layouts', renumbered (the tests run
    # qpdf --check on merged books); poppler reads lazily what the merge made of them.
    "book": ("fonts", "structure", "glyphs"),
}
"""What each kind of PDF is read for. A book's pictures are its layouts', at the pages the book puts them."""
_READ: dict[str, Callable[[Path], PdfReading]] = {
    "fonts": _read_fonts, "images": _read_images, "structure": _read_structure,
    "qpdf": lambda path: PdfReading(checks={"qpdf --check": _qpdf_check(path)}),
}
AS_LAID_OUT = "pages as laid out"
"""The check that each page of a book draws what its layout drew (`page_facts`)."""
NO_BOXES = "a glyph for every character"
"""The check that no page draws a character as an empty box, for want of a glyph (`page_facts.boxes`)."""


class PdfReadings:
    """Reads PDFs back with poppler and qpdf, several at once (the readers are processes), each as soon
    as it is made, so that the books are read while the Word draft is still being written.

    Readings are kept in the folder ``folder`` by a digest of the bytes read and by the reader: a reading
    belongs to the bytes it read, not to a name, so a PDF that was damaged, or is made again, is read anew,
    and a layout that did not change between builds is hashed (some 8 MB a build for the default edition,
    in a few milliseconds), not read again. Kept readings are read through ``kept`` (`cache_files`).
    """

    def __init__(self, folder: Path, kept: KeptFiles) -> None:
        self.folder, self.kept = folder, kept
        self.pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
        self.reading: dict[tuple[Path, str], Future[PdfReading]] = {}
        self.used: set[str] = set()
        """The kept readings this build asked for, by file name."""

    def start(self, path: Path, role: PdfRole) -> list[tuple[Path, str]]:
        """Starts reading ``path`` for what a PDF of this role is read for; gives the readings' keys."""
        keys = [(path, reader) for reader in READERS[role]]
        for key in keys:
            if key not in self.reading:
                self.reading[key] = self.pool.submit(self._read, *key)
        return keys

    def of(self, path: Path, role: PdfRole, parts: Iterable[PlacedPart] = ()) -> PdfReading:
        """The reading of one PDF; a book's pictures are read from its ``parts`` and placed on its pages."""
        reading = PdfReading()
        for key in self.start(path, role):
            reading |= self.reading[key].result()
        for part in parts:
            for key in self.start(part.pdf, "part"):
                images = self.reading[key].result().images
                reading |= PdfReading(images=[replace(image, page=part.pages[image.page - 1])
                                              for image in images if part.pages[image.page - 1]])
        if parts:
            reading.checks[AS_LAID_OUT] = self._as_laid_out(path, tuple(parts))
        return reading

    def _as_laid_out(self, book: Path, parts: tuple[PlacedPart, ...]) -> str:
        """Whether each page of the book draws what its layout's page drew (`page_facts.differences`): «ok»,
        or the first differences. Kept by the book's bytes and its layouts, which the cache names by what
        they are made of: a book merged again, or from other layouts, is compared anew."""
        digest = hashlib.sha256(book.read_bytes())
        digest.update(repr([(part.pdf.name, part.pages) for part in parts]).encode())
        return self._kept_or_read(f"{digest.hexdigest()[:40]}.as-laid-out.json",
                                  f"сравнение страниц {book.name} с макетами",
                                  lambda: PdfReading(checks={AS_LAID_OUT: self._compared(book, parts)})
                                  ).checks[AS_LAID_OUT]

    def _compared(self, book: Path, parts: tuple[PlacedPart, ...]) -> str:
        facts = self._facts(book, font_files=True)
        if isinstance(facts, str):
            return f"книга не читается: {facts}"
        unlike = []
        for part, laid_out in zip(parts, self.pool.map(lambda part: self._facts(part.pdf), parts), strict=True):
            if isinstance(laid_out, str):
                unlike.append(f"макет {part.pdf.name} не читается: {laid_out}")
                continue
            compared: dict[tuple[str, str], str | None] = {}
            unlike += [f"страница {page}: {difference}" for own, page in enumerate(part.pages, start=1) if page
                       for difference in differences(facts, page, laid_out, own, compared)]
        return "; ".join(unlike[:3]) + (f" (и ещё {len(unlike) - 3})" if len(unlike) > 3 else "") or "ok"

    def _facts(self, path: Path, font_files: bool = False) -> PagesReading | str:
        return _page_facts(path, font_files, self.kept)

    def forget_the_rest(self) -> None:
        """Keeps only the readings of this build, so the folder does not grow."""
        wait(self.reading.values())  # each names the kept reading it used once it has hashed its PDF
        for stale in (entry for entry in self.folder.glob("*") if kept_name(entry) not in self.used):
            stale.unlink(missing_ok=True)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)

    def _read(self, path: Path, reader: str) -> PdfReading:
        def read() -> PdfReading:
            if reader == "glyphs":  # from the facts kept beside the PDF, read through this build's kept files
                return PdfReading(checks={NO_BOXES: _glyph_verdict(self._facts(path))})
            return _reading_of(path, reader)

        return self._kept_or_read(f"{hashlib.sha256(path.read_bytes()).hexdigest()[:40]}.{reader}.json",
                                  f"показания {reader} о {path.name}", read)

    def _kept_or_read(self, name: str, what: str, read: Callable[[], PdfReading]) -> PdfReading:
        """The reading kept under ``name`` (``what`` it is, should it be damaged), or read now and kept."""
        self.used.add(name)
        kept = _kept_reading(self.kept.read(self.folder / name, what))
        if kept is not None:
            return kept
        reading = read()
        self.folder.mkdir(parents=True, exist_ok=True)
        keep(self.folder / name, json.dumps(asdict(reading)).encode())
        return reading


def _kept_reading(data: bytes | None) -> PdfReading | None:
    try:
        facts = json.loads(data or b"null")
        return PdfReading([FontUse(**font) for font in facts["fonts"]],
                          [ImageUse(**image) for image in facts["images"]], dict(facts["checks"]))
    except (ValueError, KeyError, TypeError):
        return None  # not kept, or not by this version: the PDF is read again


def inspect_pdf(path: Path, reading: PdfReading, shown_as: str, kind: str, rendered: RenderedPdf,
                expected_pages: int, findings: list[Finding]) -> OutputReport:
    """Notes where one written PDF, as its readers see it, falls short of its profile."""
    fonts, images = reading.fonts, sorted(reading.images, key=lambda image: image.page)
    report = OutputReport(shown_as, kind, path.stat().st_size, rendered.page_count, expected_pages,
                          rendered.profile.pdf_variant, rendered.title, fonts, images, list(rendered.overflow),
                          reading.checks)

    def warn(message: str) -> None:
        findings.append(Finding("warning", shown_as, message))

    if rendered.page_count != expected_pages:
        warn(f"{rendered.page_count} pages, expected {expected_pages}")
    for font in fonts:
        if not font.embedded:
            warn(f"font {font.name} is not embedded")
    for image in images:
        if image.ppi < rendered.profile.min_ppi:
            warn(f"image on page {image.page} ({image.width_px}×{image.height_px} px) is placed at "
                 f"{image.ppi:.0f} ppi; the {rendered.profile.name} profile needs {rendered.profile.min_ppi:.0f}")
    for text in rendered.overflow:
        warn(f"text runs outside its page's text area: {text}")
    for reader, verdict in reading.checks.items():
        if verdict != "ok":
            warn(f"{reader}: {verdict}")
    return report


def expected_book_pages(book: Book, rendered: RenderedPdf, findings: list[Finding], shown_as: str) -> int:
    """The page count the plan gives, checking each section of the book against its planned length.

    Only the contents may run to more pages than planned; every other section has a fixed length.
    """
    starts = rendered.anchor_pages
    plan = [section for section in page_plan(book) if section.anchor in starts or section.pages is not None]
    total = 0
    for section, following in zip(plan, [*plan[1:], None], strict=True):
        end = starts[following.anchor] if following else rendered.page_count + 1
        laid_out = end - starts[section.anchor]
        if section.anchor == "padding-pages" or section.pages is None:
            total += laid_out
        else:
            total += section.pages
            if laid_out != section.pages:
                findings.append(Finding("warning", shown_as, f"«{section.title}» takes {laid_out} pages, "
                                                             f"planned {section.pages}"))
    return total


def missing_optional(collection: Collection) -> list[Finding]:
    """Pictures the records could have and do not: the layout closes up without them."""
    found = []
    for foreword in collection.forewords:
        if foreword.portrait is None:
            found.append(Finding("notice", "forewords.yaml", f"no portrait for {foreword.author}"))
    for organisation in (*collection.edition.organisers, *collection.edition.supporters):
        if organisation.logo is None:
            found.append(Finding("notice", "edition.yaml", f"no logo for {organisation.name}"))
    for practice in collection.practices:
        where = f"practices/{practice.id}.yaml"
        if not practice.photos:
            found.append(Finding("notice", where, "no photos"))
        if practice.quote and practice.quote.portrait is None:
            found.append(Finding("notice", where, f"no portrait for {practice.quote.author}"))
    return found


def inspect_docx(path: Path, shown_as: str) -> OutputReport:
    """The draft's fonts (Word substitutes any it lacks: none are embedded) and each picture's resolution."""
    with zipfile.ZipFile(path) as package:
        fonts = etree.fromstring(package.read("word/fontTable.xml"))
        document = etree.fromstring(package.read("word/document.xml"))
        relations = etree.fromstring(package.read("word/_rels/document.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in relations}
        font_uses = [FontUse(font.get(_W + "name"), "TrueType", any(child.tag.startswith(_W + "embed")
                                                                    for child in font), False)
                     for font in fonts.iter(_W + "font")]
        images = []
        for drawing in document.iter(_WP + "inline", _WP + "anchor"):
            width_inches = int(drawing.find(_WP + "extent").get("cx")) / EMU_PER_INCH
            blip = next(drawing.iter(_A + "blip"))
            with Image.open(io.BytesIO(package.read("word/" + targets[blip.get(_R + "embed")]))) as picture:
                width_px, height_px = picture.size
            images.append(ImageUse(0, width_px, height_px, round(width_px / width_inches, 1)))
    return OutputReport(shown_as, "docx", path.stat().st_size, fonts=font_uses, images=images)


def inspect_png(path: Path, shown_as: str, printed_width_mm: float) -> OutputReport:
    """The map as a picture file: its resolution at the width the book prints it."""
    with Image.open(path) as picture:
        width_px, height_px = picture.size
    ppi = round(width_px / (printed_width_mm / MM_PER_INCH), 1)
    return OutputReport(shown_as, "png", path.stat().st_size, images=[ImageUse(0, width_px, height_px, ppi)])


def _run(command: list[str], keep_output: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, stdout=subprocess.PIPE if keep_output else subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)


def _fonts(path: Path) -> tuple[list[FontUse], str]:
    """pdffonts prints a table whose columns the dashed rule under the header measures out."""
    result = _run(["pdffonts", str(path)])
    lines = result.stdout.splitlines()
    if len(lines) < 2:
        return [], _poppler_verdict(result)
    spans, start = [], 0
    for dashes in lines[1].split(" "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 1
    fonts = []
    for line in lines[2:]:
        name, kind, _encoding, embedded, subset, *_ = (line[a:b].strip() for a, b in spans)
        fonts.append(FontUse(name, kind, embedded == "yes", subset == "yes"))
    return fonts, _poppler_verdict(result)


def _images(path: Path) -> tuple[list[ImageUse], str]:
    """pdfimages -list gives each placed image's resolution; masks belong to an image already listed."""
    images, result = [], _run(["pdfimages", "-list", str(path)])
    for line in result.stdout.splitlines()[2:]:
        columns = line.split()
        if len(columns) < 14 or columns[2] != "image":
            continue
        images.append(ImageUse(int(columns[0]), int(columns[3]), int(columns[4]),
                               min(float(columns[12]), float(columns[13]))))
    return images, _poppler_verdict(result)


def _poppler_verdict(result: subprocess.CompletedProcess[str]) -> str:
    """poppler's tools read on past what they cannot parse, saying so on stderr: any such line is a fault."""
    complaints = list(dict.fromkeys(line.strip() for line in result.stderr.splitlines() if line.strip()))
    if complaints:
        return "; ".join(complaints[:3]) + (f" (and {len(complaints) - 3} more)" if len(complaints) > 3 else "")
    return "ok" if result.returncode == 0 else f"exit status {result.returncode}"


def _qpdf_check(path: Path) -> str:
    result = _run(["qpdf", "--check", str(path)])
    if result.returncode == 0:
        return "ok"
    problems: Iterable[str] = (line for line in (result.stdout + result.stderr).splitlines()
                               if "WARNING" in line or "error" in line.lower())
    return "; ".join(problems) or f"exit status {result.returncode}"
