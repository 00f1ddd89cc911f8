"""An edition too long for the default's front matter: the contents runs on, the geography spread still faces,
and the part's opener gives a line per award on its one page, in the PDF and in the Word draft alike."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader

from compendium.book import OPENER_LINES, Book
from compendium.book_html import BookTemplate
from compendium.paths import ProjectPaths
from compendium.pipeline import BuildResult, build, load_collection
from compendium.profiles import SCREEN
from compendium.render_book import CONTENTS_PAGES_PER_LAYOUT, CONTENTS_ROWS_PER_LAYOUT
from compendium.render_pdf import lay_out_html

from .conftest import DEFAULT_EDITION

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import generate  # the benchmark's own synthetic editions

PRACTICES = 150
"""Enough for a contents of six pages (5 to 10), laid out in two layouts and found in two
(render_book.CONTENTS_PAGES_PER_LAYOUT, CONTENTS_ROWS_PER_LAYOUT), and for the geography spread to open on a
right-hand page but for its rule."""


@pytest.fixture(scope="module")
def long_edition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(PRACTICES, tmp_path_factory.mktemp("long") / f"bench-{PRACTICES}")


@pytest.fixture(scope="module")
def long_build(long_edition: Path, project: ProjectPaths, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(long_edition, project, output_root=tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def long_pdf(long_build: BuildResult) -> PdfReader:
    return PdfReader(long_build.outputs["pdf"])


def pages_starting(pdf: PdfReader, text: str) -> list[int]:
    return [number for number, page in enumerate(pdf.pages, 1) if page.extract_text().startswith(text)]


def test_every_section_takes_the_pages_the_plan_gives_it(long_build: BuildResult) -> None:
    assert [finding.message for finding in long_build.preflight.warnings] == []


def test_the_geography_spread_faces_after_a_blank_page_with_no_folio(long_pdf: PdfReader) -> None:
    [geography] = pages_starting(long_pdf, "География конкурса")
    [regions] = pages_starting(long_pdf, "Регионы и муниципальные образования".upper())

    assert geography % 2 == 0 and regions == geography + 1
    contents_end = pages_starting(long_pdf, "Содержание")[0] + 1
    assert long_pdf.pages[geography - 2].extract_text().strip() == "", "the page the spread leaves empty"
    assert geography - 1 > contents_end


def test_the_contents_laid_out_some_pages_at_a_time_reads_as_one_layout_of_it(
        long_edition: Path, long_pdf: PdfReader, project: ProjectPaths) -> None:
    collection = load_collection(long_edition, project)
    book = Book.of(collection)
    first = pages_starting(long_pdf, "Содержание")[0]
    [geography] = pages_starting(long_pdf, "География конкурса")
    merged = [long_pdf.pages[number].extract_text() for number in range(first - 1, geography - 1)]
    merged = [text for text in merged if text.strip()]  # the empty page before the geography spread
    numbered = replace(book.frame(), pages=_printed_pages(long_pdf))
    whole = lay_out_html(BookTemplate(collection, project, SCREEN).render(
        numbered.contents_part((0, len(numbered.contents)), first)), project, long_edition, SCREEN)

    assert len(book.contents) > CONTENTS_ROWS_PER_LAYOUT and len(merged) > CONTENTS_PAGES_PER_LAYOUT
    assert [_words(text) for text in merged] == [
        _words(PdfReader(BytesIO(whole.write_pdf())).pages[number].extract_text())
        for number in range(len(whole.pages))]


def _printed_pages(pdf: PdfReader) -> dict[str, int]:
    return {name: pdf.get_destination_page_number(destination) + 1
            for name, destination in pdf.named_destinations.items()}


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_opener_gives_a_line_per_award_on_its_one_page(long_pdf: PdfReader) -> None:
    [opener] = pages_starting(long_pdf, "Практики победителей")
    text = " ".join(long_pdf.pages[opener - 1].extract_text().split())

    assert "ЛИДЕРЫ" in text.upper() and re.search(r"\d+ практик\w* из \d+ регион", text)
    assert text.count("Все практики — в содержании") == 1
    assert "1 МЕСТО · 2023" in long_pdf.pages[opener].extract_text().replace("\xa0", " "), "the first spread follows"


def test_the_drafts_opener_has_the_same_lines(long_build: BuildResult, long_pdf: PdfReader) -> None:
    [opener] = pages_starting(long_pdf, "Практики победителей")
    pdf_lines = long_pdf.pages[opener - 1].extract_text().replace("\xa0", " ")
    paragraphs = docx.Document(str(long_build.outputs["docx"])).paragraphs
    draft = [paragraph.text.replace("\xa0", " ") for paragraph in paragraphs]
    start = draft.index("Практики победителей и лидеров Конкурса")
    listed = draft[start + 1:draft.index("Все практики — в содержании", start)]

    lines = [line for line in listed if " — " in line]
    assert 4 <= len(lines) < PRACTICES
    for line in lines:
        award, rest = line.split(" — ", 1)
        title, detail = rest.split(", ", 1)
        assert award.upper() in pdf_lines.upper() and title in pdf_lines and detail in pdf_lines


def test_the_opener_lists_every_practice_while_they_fit(project: ProjectPaths) -> None:
    book = Book.of(load_collection(DEFAULT_EDITION, project))
    listed = [line for _, lines in book.opener for line in lines]

    assert not book.opener_is_summary
    assert [line.anchor for line in listed] == [f"practice-{practice.id}" for practice in book.practices]
    assert sum(len(practices) + 3 for _, practices in book.practices_by_year) <= OPENER_LINES


def test_a_summary_line_counts_the_practices_and_their_regions(project: ProjectPaths, tmp_path: Path) -> None:
    book = Book.of(load_collection(generate(PRACTICES, tmp_path / "long"), project))
    lines = {(year, line.award): line for year, lines in book.opener for line in lines}
    leaders = [practice for practice in book.practices if practice.award.place == "leader"
               and practice.award.year == 2023]

    line = lines[2023, "Лидеры"]
    regions = len({practice.region for practice in leaders})
    assert line.title.split()[0] == str(len(leaders)) and line.detail.split()[1] == str(regions)
    assert line.anchor == f"practice-{leaders[0].id}"


def test_every_part_reads_the_one_list_of_contents_rows(long_edition: Path, project: ProjectPaths) -> None:
    """A copy of the rows per contents layout grew with the square of the practices."""
    book = Book.of(load_collection(long_edition, project))
    frame = book.frame()

    assert frame.contents is book.contents and frame.contents_part((0, 10), 5).contents is book.contents
    assert book.spread(book.practices[0], 31).contents == ()
    assert [row.anchor for row in book.contents if row.kind == "entry"] == list(book.listed_anchors)
