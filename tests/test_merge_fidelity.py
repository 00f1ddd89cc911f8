"""Every page of a merged book looks as its layout drew it, in pixels, and the preflight tells when one does not.

The books are written by our own merger (`assemble_pdf`) from WeasyPrint's layouts: nothing but this
test stands between a correct layout and a wrong book. Each page of both books is rendered at low
resolution and compared with the same page of its layout; a page that differs is written, with its
layout's, side by side into the test's folder.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from benchmarks.generate import generate
from PIL import Image, ImageChops

from compendium import pipeline
from compendium.page_facts import boxes, differences
from compendium.page_reading import read_pages
from compendium.paths import ProjectPaths
from compendium.pipeline import BuildResult, build

from .conftest import DEFAULT_EDITION

DPI = 30
BOOKS = ("pdf", "pdf-print")
UNCOVERED = {"anuchinsky-beekeeping": "Знак ꧀ в тексте.", "perm-unified-opportunities": "Пчела 🐝 и руна ᚠ."}
"""Characters no bundled font draws, put into two practices: WeasyPrint encodes those layouts' faces
their own way (as it did when a practice's text pasted from the web first garbled other practices)."""


def page_images(pdf: Path, folder: Path) -> list[Image.Image]:
    folder.mkdir(parents=True)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(folder / "page")], check=True)
    return [Image.open(path).convert("RGB") for path in sorted(folder.glob("page-*.png"))]


def pages_unlike_their_layouts(result: BuildResult, book: str, scratch: Path) -> list[str]:
    """Each page of the book that differs in pixels from its layout's, with where the two are shown side by
    side; every page of the book must come from exactly one layout."""
    pages = page_images(result.outputs[book], scratch / book)
    unlike, placed = [], []
    for number, part in enumerate(result.layouts[book]):
        layout = page_images(part.pdf, scratch / f"{book}-layout-{number}")
        for own, page in enumerate(part.pages):
            if not page:
                continue
            placed.append(page)
            ours, theirs = pages[page - 1], layout[own]
            if ours.size != theirs.size or ImageChops.difference(ours, theirs).getbbox() is not None:
                both = Image.new("RGB", (ours.width + theirs.width, max(ours.height, theirs.height)), "white")
                both.paste(ours, (0, 0))
                both.paste(theirs, (ours.width, 0))
                shown = scratch / f"{book}-page-{page}-book-and-layout.png"
                both.save(shown)
                unlike.append(f"{book} page {page} (layout page {own + 1} of {part.pdf.name}): see {shown}")
    assert sorted(placed) == list(range(1, len(pages) + 1)), f"{book}: pages not placed once each: {placed}"
    return unlike


@pytest.fixture(scope="module")
def pictures_build(project: ProjectPaths, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    scratch = tmp_path_factory.mktemp("pictures")
    return build(generate(4, scratch / "pictures-4", pictures=True), project, output_root=scratch / "build")


@pytest.fixture(scope="module")
def uncovered_build(project: ProjectPaths, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The default edition with characters no font has, built past the validation that refuses them."""
    scratch = tmp_path_factory.mktemp("uncovered")
    edition = shutil.copytree(DEFAULT_EDITION, scratch / "uncovered")
    for practice, sentence in UNCOVERED.items():
        record = edition / "practices" / f"{practice}.yaml"
        text = record.read_text(encoding="utf-8")
        record.write_text(text.replace("\ncontent: |\n", f"\ncontent: |\n  {sentence}\n\n", 1), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "font_coverage", lambda fonts: frozenset(range(0x110000)))
        return build(edition, project, output_root=scratch / "build")


@pytest.mark.parametrize("book", BOOKS)
def test_every_page_of_the_default_edition_is_as_laid_out(default_build: BuildResult, book: str,
                                                          tmp_path: Path) -> None:
    assert pages_unlike_their_layouts(default_build, book, tmp_path) == []


@pytest.mark.parametrize("book", BOOKS)
def test_every_page_of_an_edition_with_pictures_is_as_laid_out(pictures_build: BuildResult, book: str,
                                                               tmp_path: Path) -> None:
    assert pages_unlike_their_layouts(pictures_build, book, tmp_path) == []


@pytest.mark.parametrize("book", BOOKS)
def test_layouts_that_encode_a_face_their_own_way_merge_right(uncovered_build: BuildResult, book: str,
                                                              tmp_path: Path) -> None:
    # Before the merge kept such a face apart, 9 of the screen book's 20 practice pages drew other
    # practices' letters as boxes («город ⊠катеринбург»)
    with pikepdf.open(uncovered_build.outputs[book]) as pdf:
        encodings = {str(font.get("/Encoding"))[:12] for page in pdf.pages for font in page.Resources.Font.values()}
    assert "/Identity-H" in encodings and len(encodings) > 1, "the layouts should have encoded a face their own way"
    assert pages_unlike_their_layouts(uncovered_build, book, tmp_path) == []


def test_the_preflight_passes_every_book_page_it_compared(default_build: BuildResult,
                                                          uncovered_build: BuildResult) -> None:
    for result in (default_build, uncovered_build):
        reports = {report.file: report for report in result.preflight.outputs}
        for book in BOOKS:
            assert reports[result.outputs[book].name].checks["pages as laid out"] == "ok"


def test_the_preflight_names_each_character_drawn_as_a_box(uncovered_build: BuildResult) -> None:
    warnings = [finding.message for finding in uncovered_build.preflight.warnings]
    assert any("«꧀» (U+A9C0)" in message for message in warnings), warnings
    assert any("«🐝» (U+1F41D)" in message and "«ᚠ» (U+16A0)" in message for message in warnings), warnings


def _book_and_layout(result: BuildResult, page: int = 12) -> tuple[Path, int, Path, int]:
    part = next(part for part in result.layouts["pdf"] if page in part.pages)
    return result.outputs["pdf"], page, part.pdf, part.pages.index(page) + 1


def _planted(book: Path, target: Path, plant: object) -> Path:
    with pikepdf.open(book) as pdf:
        plant(pdf)  # type: ignore[operator]
        pdf.save(target)
    return target


def _serif(pdf: pikepdf.Pdf, page: int) -> pikepdf.Object:
    return next(font for font in pdf.pages[page - 1].Resources.Font.values() if str(font.BaseFont)[8:] == "PT-Serif")


def _custom_encoding(pdf: pikepdf.Pdf) -> None:
    """The fault that was shipped: a face's encoding from another layout, whose CMap lists other codes."""
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /WP-Encod-0 def "
            b"1 begincodespacerange <0000> <ffff> endcodespacerange 1 begincidchar <0003> 3 endcidchar "
            b"endcmap CMapName currentdict /CMap defineresource pop end end")
    _serif(pdf, 12).Encoding = pdf.make_stream(cmap)


def _notdef_code(pdf: pikepdf.Pdf) -> None:
    """WeasyPrint's own CMap for a character a font lacks: its code sent to glyph 0, .notdef."""
    font = _serif(pdf, 12)
    font.ToUnicode = pdf.make_stream(font.ToUnicode.read_bytes().replace(
        b"endcmap", b"1 beginbfchar <ffff> <a9c0> endbfchar endcmap"))
    font.Encoding = pdf.make_stream(b"begincmap 1 begincidchar <ffff> 0 endcidchar endcmap")


def _other_text(pdf: pikepdf.Pdf) -> None:
    font = _serif(pdf, 12)
    data = font.ToUnicode.read_bytes()
    font.ToUnicode = pdf.make_stream(data.replace(b"<0430>", b"<0431>", 1))  # every «а» read as «б»


def _other_widths(pdf: pikepdf.Pdf) -> None:
    widths = _serif(pdf, 12).DescendantFonts[0].W
    widths[1][0] = int(widths[1][0]) + 100


def _broken_font_file(pdf: pikepdf.Pdf) -> None:
    descriptor = _serif(pdf, 12).DescendantFonts[0].FontDescriptor
    descriptor.FontFile2 = pdf.make_stream(descriptor.FontFile2.read_bytes()[:5000])


def _other_content(pdf: pikepdf.Pdf) -> None:
    page = pdf.pages[11]
    page.contents_add(pdf.make_stream(b"0 0 m 100 100 l S"))


@pytest.mark.parametrize(("plant", "expected"), [
    (_custom_encoding, "выводит другие глифы"),
    (_other_text, "даёт другой текст"),
    (_other_widths, "задаёт другую ширину"),
    (_broken_font_file, "не читается как шрифт"),
    (_other_content, "рисует не то содержимое"),
], ids=["encoding", "text", "widths", "font-file", "content"])
def test_the_page_check_finds_each_planted_difference(default_build: BuildResult, tmp_path: Path,
                                                      plant: object, expected: str) -> None:
    book, page, layout, own = _book_and_layout(default_build)
    planted = read_pages(_planted(book, tmp_path / "planted.pdf", plant), font_files=True)
    assert differences(read_pages(book, font_files=True), page, read_pages(layout), own) == []
    found = differences(planted, page, read_pages(layout), own)
    assert any(expected in difference for difference in found), found


def test_the_page_check_finds_a_character_drawn_as_a_box(default_build: BuildResult, tmp_path: Path) -> None:
    book, page, _, _ = _book_and_layout(default_build)
    assert boxes(read_pages(book)) == []
    planted = read_pages(_planted(book, tmp_path / "planted.pdf", _notdef_code))
    # the font is the book's one PT Serif: the first page it serves is named, not the one that drew the box
    assert [(first <= page, text) for first, text in boxes(planted)] == [(True, "꧀")]


def test_facts_not_kept_beside_a_pdf_are_read_by_a_process_of_their_own(default_build: BuildResult,
                                                                        tmp_path: Path) -> None:
    from compendium.cache_files import KeptFiles
    from compendium.page_facts import FACTS_SUFFIX, kept_facts
    from compendium.preflight import _page_facts

    layout = _book_and_layout(default_build)[2]
    pdf = tmp_path / "layout.pdf"
    pdf.write_bytes(layout.read_bytes())
    assert kept_facts(pdf, pdf.read_bytes(), KeptFiles()) is None
    assert _page_facts(pdf, font_files=False, kept=KeptFiles()) == read_pages(layout)
    assert pdf.with_suffix(FACTS_SUFFIX).is_file()
    # facts kept for other bytes are not taken for these
    pdf.write_bytes(layout.read_bytes() + b"\n% another PDF\n")
    assert kept_facts(pdf, pdf.read_bytes(), KeptFiles()) is None
    pdf.write_bytes(b"not a PDF")
    assert "pikepdf" in _page_facts(pdf, font_files=False, kept=KeptFiles())
