"""The Word draft of the default edition, read back: order, styles, lists, contents, fields, properties.

The last tests open it in LibreOffice, the client staff use besides Word.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from PIL import Image
from pypdf import PdfReader

from compendium.draft_fields import FIELD_PREFIX, draft_fields
from compendium.pipeline import load_collection

from .conftest import DEFAULT_EDITION, ROOT
from .test_build_pdf import letters, outline_titles

TEMPLATE = ROOT / "layouts" / "docx" / "reference.docx"


@pytest.fixture(scope="module")
def collection(project):
    return load_collection(DEFAULT_EDITION, project)


def plain(text: str) -> str:
    """Text with the typography's non-breaking spaces as plain ones."""
    return text.replace("\u00a0", " ")


def words(text: str) -> set[str]:
    """The words of a text, letters and digits only: line breaks, hyphenation and columns do not matter."""
    return {letters(word) for word in text.split()} - {""}


def paragraphs_with_style(document, style_id: str) -> list[str]:
    return [plain(p.text) for p in document.paragraphs if p.style.style_id == style_id]


def style_ids(document) -> set[str]:
    return {style.style_id for style in document.styles}


def test_the_template_is_what_its_tool_makes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_docx_reference", ROOT / "tools" / "make_docx_reference.py")
    tool = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = tool  # dataclasses look their module up while the class is made
    spec.loader.exec_module(tool)
    assert tool.write_reference(tmp_path / "reference.docx") == TEMPLATE.read_bytes(), (
        "layouts/docx/reference.docx is stale: run tools/make_docx_reference.py")


def test_every_style_the_draft_uses_is_in_the_template(default_build):
    template = docx.Document(str(TEMPLATE))
    available = style_ids(template)
    parts = [default_build.outputs["docx"]]
    used: set[str] = set()
    with zipfile.ZipFile(parts[0]) as archive:
        for name in archive.namelist():
            if name.startswith("word/") and name.endswith(".xml") and name != "word/styles.xml":
                used |= set(re.findall(r'<w:(?:pStyle|rStyle|tblStyle) w:val="([^"]+)"', archive.read(name).decode()))
    assert used, "the draft names no styles"
    assert used <= available, f"styles missing from the template: {sorted(used - available)}"
    assert {"Heading1", "Heading2", "AwardBadge", "Lead", "QuoteText", "QuoteAuthor", "ListBullet", "ListNumber",
            "FigureValue", "FigureCaption", "ParticipantsCount"} <= used


def test_custom_styles_have_ascii_ids_and_russian_names():
    template = docx.Document(str(TEMPLATE))
    custom = [style for style in template.styles if not style.builtin]
    assert len(custom) >= 20
    for style in custom:
        assert re.fullmatch(r"[A-Za-z0-9]+", style.style_id), style.style_id
        assert re.search(r"[А-Яа-я]", style.name), f"{style.style_id} has no Russian name: {style.name}"


def test_draft_follows_the_book(default_docx, collection):
    chapters = paragraphs_with_style(default_docx, "Heading1")
    assert chapters == [
        "Предисловие", "О конкурсе",
        *(f"Вступительное слово. {foreword.author}" for foreword in collection.forewords),
        "География конкурса", "Определение победителей Конкурса", "Практики победителей и лидеров Конкурса",
    ]
    assert paragraphs_with_style(default_docx, "TOCHeading") == ["Содержание"]
    municipalities = paragraphs_with_style(default_docx, "Heading2")
    assert [letters(m) for m in municipalities] == [letters(p.municipality) for p in collection.practices]
    texts = [plain(p.text) for p in default_docx.paragraphs]
    order = [texts.index(marker) for marker in ("Предисловие", "Содержание", "География конкурса",
                                                "Определение победителей Конкурса")]
    assert order == sorted(order), "contents must come after the forewords and before geography"


def test_every_practice_starts_on_a_new_page_with_its_badge(default_docx, collection):
    template = docx.Document(str(TEMPLATE))
    badge_style = next(s for s in template.styles if s.style_id == "AwardBadge")
    assert badge_style.paragraph_format.page_break_before
    paragraphs = default_docx.paragraphs
    headings = [i for i, p in enumerate(paragraphs) if p.style.style_id == "Heading2"]
    assert len(headings) == len(collection.practices)
    for index in headings:
        assert paragraphs[index - 1].style.style_id == "AwardBadge"
    assert plain(paragraphs[headings[0] - 1].text) == "1 место · 2023"


def numbering_format(document, paragraph) -> tuple[str, int]:
    """(numFmt, level) of a list paragraph, through its own numbering or its style's."""
    numbering = document.part.numbering_part.element
    properties = paragraph._p.pPr.numPr if paragraph._p.pPr is not None else None
    style_properties = paragraph.style.element.pPr.numPr if paragraph.style.element.pPr is not None else None
    num_id = (properties.numId.val if properties is not None and properties.numId is not None
              else style_properties.numId.val)
    level_element = properties.ilvl if properties is not None and properties.ilvl is not None else style_properties.ilvl
    level = level_element.val if level_element is not None else 0
    num = next(n for n in numbering.findall(qn("w:num")) if int(n.get(qn("w:numId"))) == num_id)
    abstract_id = num.find(qn("w:abstractNumId")).get(qn("w:val"))
    abstract = next(a for a in numbering.findall(qn("w:abstractNum")) if a.get(qn("w:abstractNumId")) == abstract_id)
    lvl = next(lv for lv in abstract.findall(qn("w:lvl")) if int(lv.get(qn("w:ilvl"))) == level)
    return lvl.find(qn("w:numFmt")).get(qn("w:val")), level


def test_lists_are_word_lists_not_typed_bullets(default_docx):
    items = [p for p in default_docx.paragraphs if p.style.style_id.startswith(("ListBullet", "ListNumber"))]
    assert len(items) > 100
    for paragraph in items:
        assert not re.match(r"^\s*([•\-–—*■]|\d+[.)])\s", paragraph.text), paragraph.text
    bullets = [numbering_format(default_docx, p) for p in items if p.style.style_id == "ListBullet"]
    assert bullets and all(fmt == "bullet" and level == 0 for fmt, level in bullets)
    numbers = [numbering_format(default_docx, p) for p in items if p.style.style_id == "ListNumber"]
    assert numbers and all(fmt == "decimal" and level == 0 for fmt, level in numbers)


def test_geography_is_a_numbered_list_of_regions_with_municipalities_as_sub_items(default_docx, collection):
    paragraphs = default_docx.paragraphs
    first = next(i for i, p in enumerate(paragraphs) if plain(p.text) == collection.geography.regions[0].name)
    regions, municipalities = [], []
    for paragraph in paragraphs[first:]:
        if paragraph.style.style_id == "ListNumber":
            regions.append(paragraph)
        elif paragraph.style.style_id == "ListBullet2":
            municipalities.append(paragraph)
        else:
            break
    assert [plain(p.text) for p in regions] == [region.name for region in collection.geography.regions]
    assert len(municipalities) == sum(len(region.municipalities) for region in collection.geography.regions)
    assert {numbering_format(default_docx, p) for p in regions} == {("decimal", 0)}
    assert {numbering_format(default_docx, p) for p in municipalities} == {("bullet", 1)}
    region_lists = {p._p.pPr.numPr.numId.val for p in regions}
    assert len(region_lists) == 1, "the regions are one list, numbered 1 to 14"


def test_results_are_figures_with_captions_side_by_side(default_docx, collection):
    practice = collection.practices[0]
    table = default_docx.tables[0]
    cells = table.rows[0].cells
    figures = [result for result in practice.results if hasattr(result, "figure")]
    assert len(cells) == len(figures)
    for cell, figure in zip(cells, figures, strict=True):
        assert [p.style.style_id for p in cell.paragraphs] == ["FigureValue", "FigureCaption"]
        assert cell.paragraphs[0].text == figure.figure.source
        assert letters(cell.paragraphs[1].text) == letters(figure.caption.source)


def test_quote_has_its_author_and_position(default_docx, collection):
    quoted = [p for p in collection.practices if p.quote]
    assert len(paragraphs_with_style(default_docx, "QuoteAuthor")) == len(quoted)
    assert paragraphs_with_style(default_docx, "QuoteAuthor")[0] == quoted[0].quote.author
    assert letters(paragraphs_with_style(default_docx, "QuotePosition")[0]) == letters(quoted[0].quote.position)


def toc_entries(document) -> tuple[str, list[tuple[int, str, int]]]:
    """The contents field's instruction, and its written entries as (level, text, page)."""
    body = document.element.body
    instruction = "".join(node.text for node in body.iter(qn("w:instrText")) if "TOC" in node.text)
    entries = []
    for paragraph in document.paragraphs:
        if paragraph.style.style_id in ("TOC1", "TOC2"):
            text = "".join(node.text or "" if node.tag == qn("w:t") else "\t"
                           for node in paragraph._p.iter(qn("w:t"), qn("w:tab")))
            title, _, page = text.rpartition("\t")
            entries.append((int(paragraph.style.style_id[-1]), title, int(page)))
    return instruction, entries


def test_contents_is_a_toc_field_already_filled_with_the_pdf_page_numbers(default_docx, default_pdf):
    instruction, entries = toc_entries(default_docx)
    assert re.search(r'TOC \\o "1-2"', instruction)
    settings = default_docx.settings.element
    assert settings.find(qn("w:updateFields")).get(qn("w:val")) == "true"
    outline = [(depth, page) for depth, title, page in outline_titles(default_pdf) if title != "Содержание"]
    assert [(level - 1, page) for level, _, page in entries] == outline
    assert entries[0] == (1, "Предисловие", 2)
    field_chars = [node.get(qn("w:fldCharType")) for node in default_docx.element.body.iter(qn("w:fldChar"))]
    assert field_chars[:2] == ["begin", "separate"] and "end" in field_chars


def test_entries_link_to_their_headings(default_docx):
    body = default_docx.element.body
    anchors = [link.get(qn("w:anchor")) for link in body.iter(qn("w:hyperlink")) if link.get(qn("w:anchor"))]
    bookmarks = {mark.get(qn("w:name")) for mark in body.iter(qn("w:bookmarkStart"))}
    assert len(anchors) == len(toc_entries(default_docx)[1])
    assert set(anchors) <= bookmarks


def test_headers_and_footers_carry_page_fields(default_docx):
    section = default_docx.sections[0]
    assert section.different_first_page_header_footer
    assert default_docx.settings.odd_and_even_pages_header_footer
    for footer in (section.footer, section.even_page_footer):
        instructions = [node.text.strip() for node in footer._element.iter(qn("w:instrText"))]
        assert instructions == ["PAGE"]
    assert "Лучшие практики" in section.even_page_header.paragraphs[0].text
    assert "Конкурс «Лучшая практика" in section.header.paragraphs[0].text


def test_language_properties_and_provenance(default_docx, default_build):
    defaults = docx.Document(str(TEMPLATE)).styles.element.find(qn("w:docDefaults"))
    assert defaults.find(f".//{qn('w:lang')}").get(qn("w:val")) == "ru-RU"
    assert default_docx.settings.element.find(qn("w:autoHyphenation")) is not None
    properties = default_docx.core_properties
    assert properties.language == "ru-RU"
    assert properties.title.startswith("Лучшие практики межмуниципального взаимодействия 2022–2023 гг.")
    assert "Центр стратегических разработок" in properties.author
    custom = zipfile.ZipFile(default_build.outputs["docx"]).read("docProps/custom.xml").decode()
    assert "<vt:lpwstr>sources/2022-2023</vt:lpwstr>" in custom
    assert re.search(r'name="compendium.sources"><vt:lpwstr>[0-9a-f]{16}<', custom)


def test_every_editable_field_is_in_the_draft_once(default_docx, collection):
    names = [mark.get(qn("w:name")) for mark in default_docx.element.body.iter(qn("w:bookmarkStart"))]
    keys = [name[len(FIELD_PREFIX):].split("_")[0] for name in names if name.startswith(FIELD_PREFIX)
            and name.count("_") == 2]  # the field's own bookmark, on its first paragraph
    assert sorted(keys) == sorted(draft_fields(collection))
    assert all(len(name) <= 40 for name in names), "Word drops bookmark names longer than 40 characters"


def test_every_paragraph_of_a_field_carries_its_own_bookmark(default_docx, collection):
    # a bookmark spanning paragraphs keeps only the last one after two saves in LibreOffice
    # (docs/word-round-trip.md): each paragraph is marked, start and end inside it
    fields = draft_fields(collection)
    marked = {}
    for paragraph in default_docx.element.body.iter(qn("w:p")):
        starts = [mark for mark in paragraph.iter(qn("w:bookmarkStart")) if mark.get(qn("w:name")).startswith("cf_")]
        ends = {mark.get(qn("w:id")) for mark in paragraph.iter(qn("w:bookmarkEnd"))}
        assert all(start.get(qn("w:id")) in ends for start in starts), "a field's bookmark spans paragraphs"
        for start in starts:
            marked[start.get(qn("w:name"))] = paragraph
    for field in fields.values():
        count = len(field.shown)
        assert {f"{field.bookmark}_{number}" if number > 1 else field.bookmark
                for number in range(1, count + 1)} <= marked.keys(), field.name


def test_the_map_is_embedded_at_300_dpi_or_more_with_alt_text(default_docx):
    shapes = default_docx.inline_shapes
    assert len(shapes) == 1
    shape = shapes[0]
    width_inches = shape.width.inches
    image_part = default_docx.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed]
    pixels = Image.open(BytesIO(image_part.blob)).size[0]
    assert pixels / width_inches >= 300
    assert abs(shape.width.mm - 165) < 0.5, "the map fills the text width"
    description = shape._inline.docPr.get("descr")
    assert description and "Карта" in description


def test_russian_typography_is_the_same_as_in_the_pdf(default_docx):
    text = "\n".join(p.text for p in default_docx.paragraphs)
    assert "в\u00a0рамках" in text  # a short preposition is bound to its word
    assert "\u00a0— " in text  # a dash is bound to the word before it
    assert "«" in text and '"' not in text
    assert "2022–2023" in text


def test_libreoffice_opens_the_draft_and_prints_every_field(default_build, libreoffice, collection, tmp_path):
    pdf_path = libreoffice.convert(default_build.outputs["docx"], "pdf", tmp_path)
    pdf = PdfReader(pdf_path)
    assert len(pdf.pages) >= 2 * len(collection.practices) + 8
    printed_text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True,
                                  check=True).stdout
    without_bullets = re.sub(r"^[•–·]\s*$", "", printed_text, flags=re.MULTILINE)  # list glyphs on lines of their own
    printed = words(re.sub(r"-\n+", "", without_bullets))
    missing = [field.name for field in draft_fields(collection).values()
               if not words(" ".join(shown.text for shown in field.shown)) <= printed]
    assert not missing, f"fields LibreOffice does not print: {missing}"
    fonts_with_text = set()
    for page in pdf.pages:
        def visit(text, _cm, _tm, font, _size):
            if font is not None and text.strip():
                fonts_with_text.add(str(font.get("/BaseFont")).split("+")[-1])
        page.extract_text(visitor_text=visit)
    assert fonts_with_text and all(name.startswith(("PTSans", "PTSerif")) for name in fonts_with_text), fonts_with_text


def test_the_draft_is_a_valid_package_for_libreoffice(default_build, libreoffice, tmp_path):
    resaved = libreoffice.convert(default_build.outputs["docx"], "docx", tmp_path)
    document = docx.Document(str(resaved))
    assert len(document.paragraphs) > 300
    assert Path(resaved).stat().st_size > 100_000


def test_practices_set_aside_while_writing_come_back_as_written(project, tmp_path, monkeypatch):
    # the draft takes each practice out of the tree once written (render_docx._SetAside): the package must be
    # the one a draft kept whole gives, byte for byte, pictures and links included
    from datetime import UTC, datetime

    from compendium import render_docx

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    collection = load_collection(generate(12, tmp_path / "bench-12", pictures=True), project)
    made = datetime(2026, 1, 1, tzinfo=UTC)
    map_png = BytesIO()
    Image.new("RGB", (40, 20), "white").save(map_png, "PNG")

    def draft() -> bytes:
        return render_docx.render_docx(collection, project, {}, lambda _: map_png.getvalue(), "digest", made)

    set_aside = draft()
    monkeypatch.setattr(render_docx._SetAside, "take", lambda self: None)
    kept_whole = draft()

    assert set_aside == kept_whole
    with zipfile.ZipFile(BytesIO(set_aside)) as package:
        document = package.read("word/document.xml")
    assert b"compendium: the practices go here" not in document
    assert document.count(b'w:name="' + FIELD_PREFIX.encode()) >= 12 * 5
