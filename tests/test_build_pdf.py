"""The default edition's PDF, read back: order, page numbers, outline, fonts, metadata, typography."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from compendium.characters import font_coverage
from compendium.load import load_edition
from compendium.model import Collection
from compendium.paths import ProjectPaths
from compendium.subjects import load_subjects
from compendium.validate import build_collection

from .conftest import DEFAULT_EDITION

FRONT_MATTER_PAGES = 9  # cover, preface, about, 2 forewords, contents, geography, rules, part opener
BACK_COVER_PAGES = 1
OUR_FONT_FAMILIES = ("PT-Sans", "PT-Serif")


@pytest.fixture(scope="module")
def collection() -> Collection:
    sources, problems = load_edition(DEFAULT_EDITION)
    assert sources and not problems
    collection, problems = build_collection(sources, load_subjects(ProjectPaths.locate().subjects),
                                            font_coverage(ProjectPaths.locate().fonts))
    assert collection and not problems
    return collection


def letters(text: str) -> str:
    """Only the letters and digits, so hyphenation, line breaks and quote styles do not matter."""
    return re.sub(r"[^0-9A-Za-zА-Яа-яЁё]", "", text).lower()


def page_text(pdf: PdfReader, number: int) -> str:
    return pdf.pages[number - 1].extract_text()


def contents_entries(pdf: PdfReader) -> dict[str, int]:
    """«Содержание» as {entry text: page number}, read from the printed page."""
    contents_page = next(n for n in range(1, len(pdf.pages) + 1) if page_text(pdf, n).startswith("Содержание"))
    entries = {}
    # laid out as on the page: the award, the title and, at the right margin, the page number
    for line in pdf.pages[contents_page - 1].extract_text(extraction_mode="layout").splitlines():
        match = re.match(r"^\s*(?:\d МЕСТО|ЛИДЕР)?\s*(.+?)\s{2,}(\d+)$", line.replace("\xa0", " "))
        if match:
            entries[match.group(1).strip()] = int(match.group(2))
    return entries


def test_page_count_is_front_matter_plus_two_pages_per_practice(default_pdf, collection):
    expected = FRONT_MATTER_PAGES + 2 * len(collection.practices) + BACK_COVER_PAGES
    assert len(default_pdf.pages) == expected


def test_every_practice_title_is_on_the_page_the_contents_gives(default_pdf, collection):
    entries = contents_entries(default_pdf)
    for practice in collection.practices:
        page = entries[f"{practice.municipality}, {practice.region}"]
        assert page % 2 == 0, f"{practice.id} starts on odd page {page}"
        assert letters(practice.title) in letters(page_text(default_pdf, page)), practice.id
        assert letters(practice.participants.noun) in letters(page_text(default_pdf, page + 1)), practice.id


def test_contents_lists_every_front_section_with_its_page(default_pdf):
    entries = contents_entries(default_pdf)
    assert entries["Предисловие"] == 2
    assert entries["О конкурсе"] == 2  # both short: they share the cover's verso
    assert page_text(default_pdf, entries["География конкурса"]).startswith("География конкурса")
    assert page_text(default_pdf, entries["Определение победителей Конкурса"]).startswith("Определение")


def test_practices_follow_award_year_then_place_then_leaders(collection):
    order = [(p.award.year, p.award.place) for p in collection.practices]
    assert order == [(2023, 1), (2023, 2), (2023, 3), (2023, "leader"), (2023, "leader"), (2023, "leader"),
                     (2023, "leader"), (2022, 1), (2022, 2), (2022, 3)]
    assert [p.id for p in collection.practices][3:7] == [
        "sysert-agglomeration", "novgorod-land-plots", "berezniki-salt-capitals", "reftinsky-entrepreneur-festival"]


def outline_titles(pdf: PdfReader) -> list[tuple[int, str, int]]:
    """(depth, title, page) for every outline entry."""
    found = []

    def walk(items: list, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, pdf.get_destination_page_number(item) + 1))

    walk(pdf.outline, 0)
    return found


def test_outline_has_every_section_and_every_practice_under_its_part(default_pdf, collection):
    outline = outline_titles(default_pdf)
    entries = contents_entries(default_pdf)
    practices = {title: page for depth, title, page in outline if depth == 1}
    for practice in collection.practices:
        name = f"{practice.municipality}, {practice.region}"
        assert practices[name] == entries[name]
    sections = [title for depth, title, _ in outline if depth == 0]
    assert sections[:2] == ["Предисловие", "О конкурсе"]
    assert {"Содержание", "География конкурса", "Определение победителей Конкурса"} <= set(sections)


def test_every_font_is_embedded_and_is_one_of_ours(default_pdf):
    seen = set()
    for page in default_pdf.pages:
        fonts = page["/Resources"].get("/Font", {})
        for font in fonts.values():
            font = font.get_object()
            name = str(font["/BaseFont"]).split("+", 1)[-1]
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), name
            assert name.startswith(OUR_FONT_FAMILIES), name
            seen.add(name)
    assert {"PT-Sans", "PT-Serif", "PT-Sans-Bold"} <= seen


def test_metadata_names_title_language_and_organisers(default_pdf, collection):
    metadata = default_pdf.metadata
    assert metadata.title.startswith(collection.edition.title)
    assert metadata.author == "; ".join(o.name for o in collection.edition.organisers)
    assert default_pdf.trailer["/Root"]["/Lang"] == "ru"


def test_page_size_is_a4_portrait(default_pdf):
    for page in default_pdf.pages:
        width_mm, height_mm = (float(v) * 25.4 / 72 for v in page.mediabox[2:])
        assert (round(width_mm), round(height_mm)) == (210, 297)


def test_russian_typography_reaches_the_page(default_pdf, collection):
    ekaterinburg = next(p for p in collection.practices if p.id == "ekaterinburg-territorial-concept")
    page = contents_entries(default_pdf)[f"{ekaterinburg.municipality}, {ekaterinburg.region}"]
    text = page_text(default_pdf, page)
    assert "„город Екатеринбург“" in text.replace("\n", " ").replace("\xa0", " ")
    whole = "".join(page_text(default_pdf, n) for n in range(1, len(default_pdf.pages) + 1))
    assert '"' not in whole
    assert "2022–2023" in whole and "2022-2023" not in whole


def test_footers_carry_page_number_and_section(default_pdf):
    entries = contents_entries(default_pdf)
    perm = entries["Город Пермь, Пермский край"]
    right_page = page_text(default_pdf, perm + 1)
    assert right_page.rstrip().endswith(str(perm + 1))
    assert "Город Пермь" in right_page.splitlines()[-1] or "Город Пермь" in right_page


def test_back_cover_links_work(default_pdf, collection):
    last = default_pdf.pages[-1]
    uris = {annotation.get_object()["/A"]["/URI"] for annotation in last.get("/Annots", [])}
    assert set(collection.edition.links) <= uris


def test_geography_is_a_spread_of_map_and_numbered_list(default_pdf, collection):
    page = contents_entries(default_pdf)["География конкурса"]
    assert page % 2 == 0, "the map page must face the list"
    map_page, list_page = page_text(default_pdf, page), page_text(default_pdf, page + 1)
    assert "год участия не указан" in map_page
    assert "регион, практика которого вошла в сборник" in map_page
    numbers = {int(n) for n in re.findall(r"\b\d{1,2}\b", map_page)}
    assert set(range(1, len(collection.geography.regions) + 1)) <= numbers
    for region in collection.geography.regions:
        assert letters(region.name) in letters(list_page), region.name
