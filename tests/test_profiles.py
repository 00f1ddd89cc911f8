"""Issue 5: the print and screen profiles, per-practice PDFs, reproducible and atomic outputs, preflight."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageCms
from pypdf import PdfReader
from pypdf.generic import ContentStream

from compendium.cli import main
from compendium.errors import SourceProblems
from compendium.palette import load_palette
from compendium.pipeline import CACHE, build
from compendium.preflight import _reading_of

from .conftest import snapshot

A4_PT = (595.28, 841.89)


@pytest.fixture(scope="module")
def collection(project):
    from compendium.pipeline import load_collection

    return load_collection(project.root / "sources" / "2022-2023", project)
BLEED_PT = 3 * 72 / 25.4


def pdf_outputs(result) -> dict[str, Path]:
    return {key: path for key, path in result.outputs.items() if path.suffix == ".pdf"}


def test_print_pdf_has_a4_trim_3mm_bleed_and_room_for_crop_marks(default_build):
    reader = PdfReader(default_build.outputs["pdf-print"])
    for page in reader.pages:
        trim, bleed, media = page.trimbox, page.bleedbox, page.mediabox
        assert (float(trim.left), float(trim.bottom)) == pytest.approx((0, 0), abs=0.01)
        assert (float(trim.right), float(trim.top)) == pytest.approx(A4_PT, abs=0.01)
        assert float(trim.left) - float(bleed.left) == pytest.approx(BLEED_PT, abs=0.01)
        assert float(bleed.top) - float(trim.top) == pytest.approx(BLEED_PT, abs=0.01)
        assert float(bleed.left) - float(media.left) >= 12  # the crop marks sit outside the bleed


def test_print_pdf_is_pdf_x4_with_a_cmyk_output_intent(default_build):
    reader = PdfReader(default_build.outputs["pdf-print"])
    intent = reader.trailer["/Root"]["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFX"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 4
    assert intent["/OutputConditionIdentifier"] == "FOGRA39"
    assert b"<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in reader.trailer["/Root"]["/Metadata"] \
        .get_object().get_data()


def test_print_pdf_paints_the_page_in_cmyk_only(default_build):
    """Every colour on the pages is CMYK; WeasyPrint's crop marks, outside the bleed, are drawn in forms."""
    reader = PdfReader(default_build.outputs["pdf-print"])
    spaces, rgb = set(), []
    for number, page in enumerate(reader.pages, start=1):
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator in (b"cs", b"CS"):
                spaces.add(str(operands[0]))
            if operator in (b"rg", b"RG", b"g", b"G"):
                rgb.append(number)
    assert spaces == {"/DeviceCMYK"}
    assert rgb == []


def test_print_page_count_fills_whole_sheets_with_blank_pages_before_the_back_cover(default_build, default_pdf):
    reader = PdfReader(default_build.outputs["pdf-print"])
    assert len(reader.pages) % 4 == 0
    assert len(reader.pages) == len(default_pdf.pages) + 2
    assert [reader.pages[i].extract_text().strip() for i in (-3, -2)] == ["", ""]
    assert "ОРГАНИЗАТОРЫ" in reader.pages[-1].extract_text()


def test_screen_pdf_is_tagged_pdf_ua_in_russian_with_its_title_shown(default_build):
    info = subprocess.run(["pdfinfo", default_build.outputs["pdf"]], capture_output=True, text=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    root = PdfReader(default_build.outputs["pdf"]).trailer["/Root"]
    assert root["/Lang"] == "ru"
    assert root["/MarkInfo"]["/Marked"]
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]


def test_every_pdf_passes_qpdf_check_and_embeds_every_font(default_build):
    for path in pdf_outputs(default_build).values():
        assert subprocess.run(["qpdf", "--check", path], capture_output=True).returncode == 0, path
        fonts = subprocess.run(["pdffonts", path], capture_output=True, text=True).stdout.splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts), path


def test_each_practice_has_its_own_tagged_two_page_pdf_with_its_title(default_build, collection):
    for practice in collection.practices:
        path = default_build.outputs[f"practice-{practice.id}"]
        assert path == path.parent.parent / "practices" / f"{practice.id}.pdf"
        reader = PdfReader(path)
        assert len(reader.pages) == 2
        assert reader.metadata.title.startswith(f"{practice.municipality}: «")
        assert "/StructTreeRoot" in reader.trailer["/Root"]
        text = " ".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")
        assert practice.municipality in text
        assert "УЧАСТНИКИ ПРАКТИКИ" in text  # the label is set in capitals by the stylesheet


def marked_text(reader: PdfReader) -> dict[tuple[int, int], str]:
    """The text of each marked-content sequence, by (page index, MCID)."""
    texts: dict[tuple[int, int], str] = {}
    for index, page in enumerate(reader.pages):
        stack: list[int | None] = []

        def before(operator, operands, _cm, _tm, stack=stack):
            if operator == b"BDC":
                properties = operands[1] if len(operands) > 1 else {}
                stack.append(properties.get("/MCID") if hasattr(properties, "get") else None)
            elif operator == b"EMC" and stack:
                stack.pop()

        def text(value, *_args, index=index, stack=stack):
            mcid = next((m for m in reversed(stack) if m is not None), None)
            if mcid is not None:
                texts[index, mcid] = texts.get((index, mcid), "") + value

        page.extract_text(visitor_operand_before=before, visitor_text=text)
    return texts


def headings(reader: PdfReader) -> list[tuple[str, str]]:
    """Every heading element of the structure tree, in tree order, with its text."""
    pages = {page.indirect_reference.idnum: index for index, page in enumerate(reader.pages)}
    texts = marked_text(reader)
    found = []

    def page_of(element, default: int) -> int:
        if "/Pg" not in element:
            return default
        reference = element.raw_get("/Pg")
        return pages.get(getattr(reference, "idnum", None), default)

    def text_of(element, page) -> str:
        kids = element.get("/K", [])
        kids = kids if isinstance(kids, list) else [kids]
        parts = []
        for kid in kids:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(kid, int):
                parts.append(texts.get((page, kid), ""))
            elif hasattr(kid, "get") and "/S" in kid:
                parts.append(text_of(kid, page_of(kid, page)))
            elif hasattr(kid, "get") and "/MCID" in kid:
                parts.append(texts.get((page_of(kid, page), kid["/MCID"]), ""))
        return "".join(parts)

    def walk(element):
        element = element.get_object()
        kind = str(element.get("/S", ""))
        if re.fullmatch(r"/H[1-6]", kind):
            page = page_of(element, 0)
            found.append((kind[1:], " ".join(text_of(element, page).split())))
            return
        kids = element.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            if hasattr(kid, "get_object") and hasattr(kid.get_object(), "get"):
                walk(kid)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


def test_spread_headings_appear_in_the_tag_tree_in_reading_order(default_build, collection):
    practice = collection.practices[0]
    reader = PdfReader(default_build.outputs[f"practice-{practice.id}"])
    found = [(level, text.replace("\xa0", " ")) for level, text in headings(reader)]
    assert [level for level, _ in found] == ["H2", "H3", "H4", "H4", "H4", "H4", "H4"]
    assert found[0][1] == practice.municipality
    assert practice.title.split()[0] in found[1][1]
    assert [text.capitalize() for _, text in found[2:]] == [
        "Содержание практики", "Предпосылки реализации практики", "Действия по реализации практики",
        "Результаты реализации практики", "Участники практики"]


def test_preflight_report_describes_every_output(default_build, collection):
    report = json.loads(default_build.outputs["preflight"].read_text(encoding="utf-8"))
    outputs = {output["file"]: output for output in report["outputs"]}
    book, printed = outputs["compendium-2022-2023.pdf"], outputs["compendium-2022-2023-print.pdf"]
    assert (book["variant"], printed["variant"]) == ("pdf/ua-1", "pdf/x-4")
    assert book["pages"] == book["expected_pages"] == 30
    assert printed["pages"] == printed["expected_pages"] == 32
    assert all(font["embedded"] for font in book["fonts"] + printed["fonts"])
    readers = {"pdffonts", "pdfinfo -struct", "pdfinfo -dests", "pdfinfo -url", "pages as laid out",
               "a glyph for every character"}
    assert set(book["checks"]) == set(printed["checks"]) == readers
    assert set(book["checks"].values()) == set(printed["checks"].values()) == {"ok"}
    assert book["overflow"] == printed["overflow"] == []
    assert book["bytes"] == default_build.outputs["pdf"].stat().st_size
    practices = [output for name, output in outputs.items() if name.startswith("practices/")]
    assert len(practices) == len(collection.practices)
    # no layout places a picture, so pdfimages has nothing to list and is not run
    assert [practice["checks"] for practice in practices] == [
        {"pdffonts": "ok", "qpdf --check": "ok", "a glyph for every character": "ok"}] * len(practices)
    assert outputs["draft-2022-2023.docx"]["images"][0]["ppi"] == pytest.approx(300, abs=1)
    assert report["date"] == "2023-12-31"
    messages = [(f["severity"], f["output"], f["message"]) for f in report["findings"]]
    assert ("notice", "practices/anuchinsky-beekeeping.yaml", "no photos") in messages
    assert ("notice", "forewords.yaml", "no portrait for Орлов Алексей Валерьевич") in messages
    assert not [m for m in messages if m[0] == "warning"]


def test_the_same_sources_give_the_same_bytes(default_build, project, tmp_path):
    again = build(project.root / "sources" / "2022-2023", project, output_root=tmp_path)
    first = snapshot(default_build.outputs["preflight"].parent)
    second = snapshot(again.outputs["preflight"].parent)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_source_date_epoch_dates_the_outputs(edition_copy, project, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    result = build(edition_copy, project, output_root=tmp_path / "out", profiles=("print",))
    info = subprocess.run(["pdfinfo", "-isodates", result.outputs["pdf-print"]], capture_output=True, text=True)
    assert re.search(r"^CreationDate:\s+2023-11-14T22:13:20Z$", info.stdout, re.M)
    assert json.loads(result.outputs["preflight"].read_bytes())["date"] == "2023-11-14"


def low_resolution_photo(edition: Path, practice_id: str = "anuchinsky-beekeeping") -> None:
    Image.new("RGB", (400, 300), (120, 160, 90)).save(edition / "photo.jpg")
    practice = edition / "practices" / f"{practice_id}.yaml"
    practice.write_text(practice.read_text(encoding="utf-8")
                        + "photos:\n  - file: photo.jpg\n    alt: Пасека\n", encoding="utf-8")


def test_a_low_resolution_photo_is_a_warning_and_strict_writes_nothing(edition_copy, project, tmp_path):
    edition = shutil.copytree(edition_copy, tmp_path / "preflight-test")  # its own folder under build/
    low_resolution_photo(edition)
    runner = CliRunner()
    folder = project.build / edition.name
    result = runner.invoke(main, ["build", str(edition), "--profile", "print"])
    assert result.exit_code == 0, result.output
    assert re.search(r"warning: compendium-preflight-test-print\.pdf: image on page 10 \(400×300 px\) is placed at "
                     r"\d+ ppi; the print profile needs 300", result.output)
    before = snapshot(folder)
    strict = runner.invoke(main, ["build", str(edition), "--profile", "print", "--strict"])
    assert strict.exit_code == 3
    assert "nothing was written" in strict.output
    assert snapshot(folder) == before
    shutil.rmtree(folder)


def test_a_damaged_book_is_a_warning_from_the_readers(default_build, tmp_path):
    whole = default_build.outputs["pdf"].read_bytes()
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(whole[: len(whole) * 2 // 3])  # its cross-reference and last objects lost
    reading = _reading_of(damaged, "fonts") | _reading_of(damaged, "structure")
    assert set(reading.checks) == {"pdffonts", "pdfinfo -struct", "pdfinfo -dests", "pdfinfo -url"}
    assert all(verdict != "ok" for verdict in reading.checks.values()), reading.checks
    assert "Syntax Error" in reading.checks["pdffonts"]


def test_a_books_pictures_are_read_from_its_layouts_on_the_pages_the_book_gives_them(edition_copy, project, tmp_path):
    for practice in ("anuchinsky-beekeeping", "sysert-agglomeration"):
        low_resolution_photo(edition_copy, practice)
    result = build(edition_copy, project, output_root=tmp_path)
    report = {output.file: output for output in result.preflight.outputs}
    for key in ("pdf", "pdf-print"):
        book = result.outputs[key]
        listed = subprocess.run(["pdfimages", "-list", book], capture_output=True, text=True, check=True).stdout
        read = [(int(c[0]), int(c[3]), int(c[4]), min(float(c[12]), float(c[13])))
                for c in (line.split() for line in listed.splitlines()[2:]) if c[2] == "image"]
        from_layouts = [(i.page, i.width_px, i.height_px, i.ppi) for i in report[book.name].images]
        assert from_layouts == read and len(read) == 2, key
    pictured = report["practices/anuchinsky-beekeeping.pdf"]
    assert pictured.checks == {"pdffonts": "ok", "pdfimages -list": "ok", "qpdf --check": "ok",
                               "a glyph for every character": "ok"}
    assert [(image.page, image.width_px, image.height_px) for image in pictured.images] == [(1, 400, 300)]


def test_a_failing_build_leaves_the_previous_outputs_as_they_were(edition_copy, project, tmp_path):
    result = build(edition_copy, project, output_root=tmp_path / "out", profiles=("screen",))
    folder = result.outputs["preflight"].parent
    before = snapshot(folder)
    practice = edition_copy / "practices" / "anuchinsky-beekeeping.yaml"
    text = practice.read_text(encoding="utf-8")
    practice.write_text(text.replace("content: |\n", "content: |\n" + "  Очень длинный текст. " * 400 + "\n\n", 1),
                        encoding="utf-8")
    with pytest.raises(SourceProblems):
        build(edition_copy, project, output_root=tmp_path / "out", profiles=("screen",))
    assert snapshot(folder) == before
    beside = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert beside == sorted([CACHE, f".{folder.name}.lock", folder.name])


def delta_e(first, second) -> float:
    return sum((a - b) ** 2 for a, b in zip(first, second, strict=True)) ** 0.5


def test_each_palette_colour_prints_close_to_how_it_shows(project):
    """The CMYK values, through the print profile, land near the sRGB values (CIE76 ΔE, in Lab)."""
    lab = ImageCms.createProfile("LAB")
    from_rgb = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), lab, "RGB", "LAB")
    from_cmyk = ImageCms.buildTransform(ImageCms.getOpenProfile(str(project.assets / "color" / "FOGRA39L_coated.icc")),
                                        lab, "CMYK", "LAB")

    def as_lab(image, transform):
        l_, a, b = ImageCms.applyTransform(image, transform).getpixel((0, 0))
        return (l_ * 100 / 255, a - 128, b - 128)

    far = {}
    for name, colour in load_palette(project.palette).colours.items():
        rgb = Image.new("RGB", (1, 1), tuple(int(colour.rgb[i:i + 2], 16) for i in (1, 3, 5)))
        cmyk = Image.new("CMYK", (1, 1), tuple(round(p * 2.55) for p in colour.cmyk))
        difference = delta_e(as_lab(rgb, from_rgb), as_lab(cmyk, from_cmyk))
        if difference > 12:
            far[name] = round(difference, 1)
    assert far == {}
