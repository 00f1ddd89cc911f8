"""Incremental builds: the book is laid out as a frame plus one layout per spread, kept in a cache.

After an edit only the changed parts are laid out again, and the outputs are the same bytes a clean
build makes. The merged PDF keeps what one layout had: links, outline, tags and one font per face.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String
from PIL import Image
from pypdf import PdfReader

from compendium.assemble_pdf import PreparedPart, _Copier, _filled, prepared_spread
from compendium.book import Book
from compendium.book_html import BookTemplate
from compendium.errors import CompendiumError
from compendium.layout_cache import INPUTS_FILE, LaidOut
from compendium.page_facts import FACTS_SUFFIX
from compendium.paths import ProjectPaths
from compendium.pipeline import CACHE, build, load_collection
from compendium.render_book import PAGES_FILE, PlacedPart, _parts_of
from tests.conftest import DEFAULT_EDITION, snapshot

PRACTICE = Path("practices") / "anuchinsky-beekeeping.yaml"


def cached_parts(output_root: Path, edition: Path) -> dict[str, set[str]]:
    """The keys of the PDFs kept for each profile: laid-out parts and merged books."""
    folder = output_root / CACHE / edition.name
    return {name: {path.stem for path in (folder / name).glob("*.pdf")} for name in ("print", "screen")}


def kept_readings(output_root: Path, edition: Path) -> dict[str, int]:
    """How many PDFs the cache keeps each kind of preflight reading of."""
    readers = [path.name.split(".")[1] for path in (output_root / CACHE / edition.name / "readings").glob("*.json")]
    return {reader: readers.count(reader) for reader in sorted(set(readers))}


EDITS = {
    # text inside one spread: only that spread is laid out again, for each profile, and the book merged again
    "text": (lambda text: text.replace("content: |\n", "content: |\n  Пчеловоды района провели общий сбор.\n\n", 1),
             {"print": 2, "screen": 2}),
    # the municipality's name is also in the contents and the part opener: the frame and the contents are
    # laid out again too
    "name": (lambda text: text.replace("municipality: Анучинский муниципальный округ",
                                       "municipality: Анучинский округ", 1),
             {"print": 4, "screen": 4}),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_incremental_build_gives_the_bytes_of_a_clean_one(edit: str, edition_copy: Path, project: ProjectPaths,
                                                               tmp_path: Path) -> None:
    change, relaid = EDITS[edit]
    incremental, clean = tmp_path / "incremental", tmp_path / "clean"
    build(edition_copy, project, output_root=incremental)
    before = cached_parts(incremental, edition_copy)
    # the frame, the contents (one layout), 10 spreads, the book
    assert {name: len(keys) for name, keys in before.items()} == {"print": 13, "screen": 13}

    practice = edition_copy / PRACTICE
    edited = change(practice.read_text(encoding="utf-8"))
    assert edited != practice.read_text(encoding="utf-8")
    practice.write_text(edited, encoding="utf-8")
    again = build(edition_copy, project, output_root=incremental)
    after = cached_parts(incremental, edition_copy)
    assert {name: len(after[name] - before[name]) for name in after} == relaid
    assert {name: len(keys) for name, keys in after.items()} == {"print": 13, "screen": 13}  # the old ones dropped
    # the books' fonts, structure, glyphs and pages compared with their layouts'; the practice PDFs' fonts,
    # pictures, glyphs and qpdf's check; the pictures of every layout (the books' own are read from them).
    # What each page draws is kept beside each PDF.
    assert kept_readings(incremental, edition_copy) == {"as-laid-out": 2, "fonts": 12, "glyphs": 12, "images": 24,
                                                        "qpdf": 10, "structure": 2}
    cache = incremental / CACHE / edition_copy.name
    assert {pdf.with_suffix(FACTS_SUFFIX).is_file() for pdf in cache.glob("*/*.pdf")} == {True}

    build(edition_copy, project, output_root=clean)
    made_again, made_clean = snapshot(again.outputs["preflight"].parent), snapshot(clean / edition_copy.name)
    assert made_again.keys() == made_clean.keys()
    assert [name for name in made_again if made_again[name] != made_clean[name]] == []


def counting_templates(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The parts the next builds template, as ``part:practice`` (``frame:`` for a frame)."""
    rendered: list[str] = []
    render = BookTemplate.render

    def counted(self: BookTemplate, book: Book) -> str:
        rendered.append(f"{book.part}:{book.practices[0].id if book.part == 'spreads' else ''}")
        return render(self, book)

    monkeypatch.setattr(BookTemplate, "render", counted)
    return rendered


def test_a_part_whose_records_did_not_change_is_not_templated_again(edition_copy: Path, project: ProjectPaths,
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    build(edition_copy, project, output_root=tmp_path)
    rendered = counting_templates(monkeypatch)
    build(edition_copy, project, output_root=tmp_path)
    assert rendered == []  # nothing changed: every layout's key is known from its inputs
    practice = edition_copy / PRACTICE
    practice.write_text(EDITS["text"][0](practice.read_text(encoding="utf-8")), encoding="utf-8")
    build(edition_copy, project, output_root=tmp_path)
    # the frame lists a practice by its municipality, region and award, which the edit left alone
    assert sorted(rendered) == ["spreads:anuchinsky-beekeeping"] * 2


def test_a_picture_changed_under_the_same_record_is_laid_out_again(edition_copy: Path, project: ProjectPaths,
                                                                   tmp_path: Path) -> None:
    photo = edition_copy / "photo.jpg"
    Image.new("RGB", (1200, 900), (120, 160, 90)).save(photo)
    practice = edition_copy / PRACTICE
    practice.write_text(practice.read_text(encoding="utf-8") + "photos:\n  - file: photo.jpg\n    alt: Пасека\n",
                        encoding="utf-8")
    incremental, clean = tmp_path / "incremental", tmp_path / "clean"
    build(edition_copy, project, output_root=incremental)
    Image.new("RGB", (1200, 900), (200, 90, 60)).save(photo)  # the record still names photo.jpg
    again = build(edition_copy, project, output_root=incremental)
    build(edition_copy, project, output_root=clean)
    assert snapshot(again.outputs["preflight"].parent) == snapshot(clean / edition_copy.name)


def test_damaged_known_inputs_only_cost_templating(edition_copy: Path, project: ProjectPaths, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    first = build(edition_copy, project, output_root=tmp_path)
    made = snapshot(first.outputs["preflight"].parent)
    (tmp_path / CACHE / edition_copy.name / INPUTS_FILE).write_text('{"a": ["b", 3], "c": ', encoding="utf-8")
    rendered = counting_templates(monkeypatch)
    again = build(edition_copy, project, output_root=tmp_path)
    assert len(rendered) == 1 + 2 * 12  # the frame to find its pages, then each profile's frame, contents, spreads
    made_again = snapshot(again.outputs["preflight"].parent)
    assert made_again.pop("preflight.json") != made.pop("preflight.json")  # which notes the damage
    assert made_again == made
    assert [finding.output for finding in again.preflight.findings if finding.message.startswith("кэш: ")] == [
        f"{CACHE}/{edition_copy.name}/{INPUTS_FILE}"]


def test_the_merged_book_keeps_links_outline_and_pages(default_build) -> None:
    reader = PdfReader(default_build.outputs["pdf"])
    names = reader.named_destinations
    targets = {}
    for annotation in (a.get_object() for page in reader.pages for a in page.get("/Annots") or ()):
        name = annotation.get("/Dest") or (annotation.get("/A") or {}).get("/D")
        if annotation.get("/Subtype") == "/Link" and name is not None:
            targets[str(name)] = reader.get_destination_page_number(names[str(name)]) + 1
    assert targets["practice-anuchinsky-beekeeping"] == 10
    assert targets["practice-novokuznetsk-agglomeration"] == 28
    practices = [item for item in reader.outline if isinstance(item, list)][-1]
    assert [(item.title.split(",")[0], reader.get_destination_page_number(item) + 1) for item in practices[:2]] == [
        ("Анучинский муниципальный округ", 10), ("Город Екатеринбург", 12)]
    assert "Анучинский муниципальный округ" in reader.pages[9].extract_text()
    assert "Действия по реализации практики" in reader.pages[10].extract_text()


def test_the_merged_tag_tree_covers_every_page(default_build) -> None:
    """Each page's marked content is reachable from the tag tree, and every tag sits on a page of the book."""
    with pikepdf.open(default_build.outputs["pdf"]) as pdf:
        pages = {page.obj.objgen for page in pdf.pages}
        tree = pdf.Root.StructTreeRoot
        nums = tree.ParentTree.Nums
        keys = {int(nums[i]) for i in range(0, len(nums), 2)}
        page_keys = [int(page.obj.StructParents) for page in pdf.pages if "/StructParents" in page.obj]
        assert len(page_keys) == len(set(page_keys)) == len(pdf.pages)
        assert set(page_keys) <= keys
        assert int(tree.ParentTreeNextKey) > max(keys)

        on_pages, stack = set(), [tree.K]
        while stack:
            element = stack.pop()
            if isinstance(element, pikepdf.Array):
                stack.extend(element)
            elif isinstance(element, pikepdf.Dictionary):
                if "/Pg" in element:
                    assert element.Pg.objgen in pages
                    on_pages.add(element.Pg.objgen)
                if "/K" in element:
                    stack.append(element.K)
        assert on_pages == pages


def test_the_merged_book_embeds_one_font_per_face(default_build) -> None:
    for key in ("pdf", "pdf-print"):
        with pikepdf.open(default_build.outputs[key]) as pdf:
            faces: dict[str, set[tuple[int, int]]] = {}
            for page in pdf.pages:
                for font in page.obj.Resources.get("/Font", {}).values():
                    faces.setdefault(str(font.BaseFont).split("+")[-1], set()).add(font.objgen)
            assert faces and all(len(objects) == 1 for objects in faces.values()), faces


def test_the_merged_book_keeps_one_copy_of_each_identical_stream(default_build) -> None:
    # every print layout embeds the CMYK profile and its drawings; the book keeps one of each
    for key in ("pdf", "pdf-print"):
        with pikepdf.open(default_build.outputs[key]) as pdf:
            streams = [item for item in pdf.objects if isinstance(item, pikepdf.Stream)]
            contents = [hashlib.sha256(repr(sorted((name, repr(value)) for name, value in stream.items()
                                                   if name != "/Length")).encode() + stream.read_raw_bytes()).digest()
                        for stream in streams]
            assert len(contents) == len(set(contents))
            profiles = [stream for stream in streams if "/N" in stream and "/Type" not in stream]
            assert len(profiles) == (1 if key == "pdf-print" else 0)


def test_references_become_slots_and_text_that_looks_like_one_is_left_alone() -> None:
    source = pikepdf.new()
    target = source.make_indirect(Dictionary(Type=Name("/Example")))
    copier = _Copier(source)
    written = copier.value(Array([String("see 12 0 R (and 3 0 R) 100%"), target, String(b"\x00\xff 1 0 R")]))
    assert copier.sources == [target.objgen]
    assert written == (b"[ (see 12 0 R \\(and 3 0 R\\) 100%%) %d 0 R <00ff203120302052> ]", (0,))
    assert _filled(written, [41]) == b"[ (see 12 0 R \\(and 3 0 R\\) 100%) 41 0 R <00ff203120302052> ]"


def test_a_prepared_spread_is_kept_whole_or_prepared_again(default_build) -> None:
    # the layout keeps its spread prepared for the merge; a damaged or missing copy is made again from the PDF
    layouts = sorted((default_build.outputs["pdf"].parents[1] / CACHE).glob("*/screen/*.objects"))
    assert len(layouts) == 11  # one per spread and the contents'; the frame is prepared as it is merged
    kept = next(layout for layout in layouts if len(PreparedPart.from_bytes(layout.read_bytes()).pages) == 2)
    part = PreparedPart.from_bytes(kept.read_bytes())
    assert len(part.pages) == 2 and part.objects
    kept.write_bytes(kept.read_bytes()[:100])
    with pytest.raises(ValueError, match="not a prepared part"):
        PreparedPart.from_bytes(kept.read_bytes())
    assert prepared_spread(kept.with_suffix(".pdf")) == part
    assert PreparedPart.from_bytes(kept.read_bytes()) == part


def test_each_layout_of_a_book_is_placed_on_the_pages_the_merge_gives_it() -> None:
    # a frame of 9 pages whose 3 and 4 stand for the contents' (two layouts of a page each) and 6 and 7 for
    # three spreads: the book has 13, and the frame's last two pages move on by the four pages the spreads add
    book = SimpleNamespace(practices=[SimpleNamespace(id=name) for name in "abc"])
    frame = LaidOut(Path("frame.pdf"), 13, {"contents": 3, "practice-a": 6, "practice-b": 8, "practice-c": 10,
                                            "back": 13}, ())
    contents = [LaidOut(Path(f"contents-{number}.pdf"), 1, {}, ()) for number in (1, 2)]
    spreads = {name: LaidOut(Path(f"{name}.pdf"), 2, {}, ()) for name in "abc"}
    assert _parts_of(frame, contents, spreads, book) == (  # type: ignore[arg-type]
        PlacedPart(Path("frame.pdf"), (1, 2, 0, 0, 5, 0, 0, 12, 13)),
        PlacedPart(Path("contents-1.pdf"), (3,)), PlacedPart(Path("contents-2.pdf"), (4,)),
        PlacedPart(Path("a.pdf"), (6, 7)), PlacedPart(Path("b.pdf"), (8, 9)), PlacedPart(Path("c.pdf"), (10, 11)))


def test_spreads_laid_out_on_a_wrong_guess_of_their_pages_are_not_used(edition_copy: Path, project: ProjectPaths,
                                                                      tmp_path: Path) -> None:
    # while the frame finds the pages, idle workers lay spreads out where the last build had them
    guessed, clean = tmp_path / "guessed", tmp_path / "clean"
    last_pages = guessed / CACHE / edition_copy.name / PAGES_FILE
    last_pages.parent.mkdir(parents=True)
    anchors = Book.of(load_collection(edition_copy, project)).listed_anchors
    last_pages.write_text(json.dumps({anchor: 100 + 2 * number for number, anchor in enumerate(anchors)}))
    made = build(edition_copy, project, output_root=guessed)
    assert json.loads(last_pages.read_text())["contents"] == 5  # the pages found, for the next build's guess
    build(edition_copy, project, output_root=clean)
    assert snapshot(made.outputs["preflight"].parent) == snapshot(clean / edition_copy.name)


def test_a_frame_that_leaves_pages_for_each_spread_is_refused_by_name(edition_copy: Path, project: ProjectPaths,
                                                                     tmp_path: Path) -> None:
    # the merge puts every spread in place of one stand-in; a layout with one per spread would give a wrong book
    copy = ProjectPaths(tmp_path / "project")
    shutil.copytree(project.layouts, copy.layouts)
    copy.assets.symlink_to(project.assets)
    template = copy.layouts / "pdf" / "book.html.j2"
    stand_in = '{%- for practice in book.practices %}<span id="practice-{{ practice.id }}"></span>{% endfor -%}'
    assert stand_in in template.read_text(encoding="utf-8")
    template.write_text(template.read_text(encoding="utf-8").replace(stand_in, (
        '{%- for practice in book.practices %}<div class="spread-stub spread-stub--left" '
        'id="practice-{{ practice.id }}"></div><div class="spread-stub"></div>{% endfor -%}')), encoding="utf-8")
    with pytest.raises(CompendiumError, match=r"layouts/pdf/book\.html\.j2"):
        build(edition_copy, copy, output_root=tmp_path / "out")
    assert not (tmp_path / "out" / edition_copy.name).exists()


# A build in a fresh interpreter that reports which of the heavy libraries it loaded itself
LOADED_HERE = """
import sys
from pathlib import Path
from compendium.paths import ProjectPaths
from compendium.pipeline import build
build(Path(sys.argv[1]), ProjectPaths(Path(sys.argv[2])), output_root=Path(sys.argv[3]))
print(" ".join(sorted(name for name in ("weasyprint", "pikepdf") if name in sys.modules)) or "neither")
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="with one core the layouts run in the main process")
def test_the_main_process_leaves_layout_and_merging_to_the_workers(project: ProjectPaths, tmp_path: Path) -> None:
    # WeasyPrint and pikepdf are some 40 MB of the main process that the workers already hold
    loaded = subprocess.run([sys.executable, "-c", LOADED_HERE, str(DEFAULT_EDITION), str(project.root), str(tmp_path)],
                            capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["neither"]


def test_frames_laid_out_together_give_each_its_own_result_or_the_failure() -> None:
    from concurrent.futures import Future

    from compendium.render_book import _one_each

    together: Future[list[str]] = Future()
    first, second = _one_each(together, 2)
    assert not first.done()
    together.set_result(["screen frame", "print frame"])
    assert (first.result(), second.result()) == ("screen frame", "print frame")

    failed: Future[list[str]] = Future()
    each = _one_each(failed, 2)
    failed.set_exception(CompendiumError("the frame overflows"))
    assert [str(future.exception()) for future in each] == ["the frame overflows"] * 2
