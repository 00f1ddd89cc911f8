"""The geography map, drawn from the records: every subject outlined, participants filled by the years
they took part, a numbered marker per region matching the printed list, and a legend of what is in use.

The geometry comes ready-projected from assets/geo/russia.json (tools/update_geodata.py), so a map is
string work: a few milliseconds, no GIS library at run time. The SVG goes inline into the PDF; the
same SVG, rasterised by resvg with the book's fonts, is the PNG for the Word draft.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import resvg_py
from fontTools.ttLib import TTFont
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from PIL import Image

from .book import period_label, plural
from .map_labels import Area, Box, Placement, Point, Ring, Target, leader_end, place_markers
from .model import Collection, Edition, Geography, Region
from .palette import load_palette
from .paths import ProjectPaths
from .subjects import Worldview, load_subjects

MM_PER_INCH = 25.4
MARKER_RADIUS_MM = 2.3
NUMBER_SIZE_MM = 2.35  # 6.7 pt: the smallest size whose digits stay readable inside the marker
LEGEND_SIZE_MM = 2.65  # 7.5 pt
LEGEND_ROW_MM = 4.6
SWATCH_MM = (5.0, 3.4)
PADDING_MM = 3.0
SMALL_SUBJECT_ROOM_MM = 2.5
"""Subjects narrower than this (inscribed radius) are never covered by a moved marker."""

# A participant's category: the years it is known to have taken part, or None when the records do not say.
Category = tuple[int, ...] | None
Polygon = tuple[tuple[int, ...], ...]  # rings as flat (x0, y0, x1, y1, …) in km, y pointing south


@dataclass(frozen=True)
class SubjectShape:
    polygons: tuple[Polygon, ...]
    label: tuple[int, int]
    room: int
    """Radius in km of the largest circle inside the subject, centred on `label`."""


@dataclass(frozen=True)
class Geodata:
    subjects: dict[str, SubjectShape]
    islands: tuple[Polygon, ...]
    outline: dict[str, tuple[Polygon, ...]]
    bounds: dict[str, tuple[int, int, int, int]]


@cache
def load_geodata(path: Path) -> Geodata:
    raw = json.loads(path.read_text(encoding="utf-8"))

    def polygons(items: list) -> tuple[Polygon, ...]:
        return tuple(tuple(tuple(ring) for ring in polygon) for polygon in items)

    return Geodata(
        subjects={code: SubjectShape(polygons(s["polygons"]), tuple(s["label"]), s["room"])
                  for code, s in raw["subjects"].items()},
        islands=polygons(raw["islands"]),
        outline={view: polygons(items) for view, items in raw["outline"].items()},
        bounds={view: tuple(box) for view, box in raw["bounds"].items()},
    )


@dataclass(frozen=True)
class Projection:
    """From the asset's kilometres to the map's millimetres."""

    left_km: float
    top_km: float
    mm_per_km: float
    offset_mm: Point

    def point(self, x: float, y: float) -> Point:
        return ((x - self.left_km) * self.mm_per_km + self.offset_mm[0],
                (y - self.top_km) * self.mm_per_km + self.offset_mm[1])

    def rings(self, polygon: Polygon) -> tuple[Ring, ...]:
        return tuple(tuple(self.point(ring[i], ring[i + 1]) for i in range(0, len(ring), 2)) for ring in polygon)

    @property
    def svg_transform(self) -> str:
        dx = self.offset_mm[0] - self.left_km * self.mm_per_km
        dy = self.offset_mm[1] - self.top_km * self.mm_per_km
        return f"translate({dx:.3f} {dy:.3f}) scale({self.mm_per_km:.6f})"


@dataclass(frozen=True)
class Fill:
    css_class: str
    path: str


@dataclass(frozen=True)
class Marker:
    placement: Placement
    winner: bool

    @property
    def leader(self) -> tuple[Point, Point] | None:
        return (self.placement.anchor, leader_end(self.placement)) if self.placement.moved else None


@dataclass(frozen=True)
class LegendRow:
    kind: str  # "fill" or "marker"
    css_class: str
    label: str
    x: float
    y: float


@dataclass(frozen=True)
class GeographyMap:
    """A drawn map and the facts tests and the Word draft need about it."""

    svg: str
    width_mm: float
    height_mm: float
    worldview: Worldview
    markers: tuple[Marker, ...]
    legend_box: Box
    subject_count: int

    def png(self, fonts: Path, dpi: int = 300) -> bytes:
        """The same map as a PNG, for the Word draft; resvg draws it with the book's own fonts only."""
        width_px = round(self.width_mm / MM_PER_INCH * dpi)
        height_px = round(self.height_mm / MM_PER_INCH * dpi)
        # resvg takes no millimetre sizes on the root element; the viewBox keeps every length in proportion
        in_pixels = self.svg.replace(_size_attributes(self.width_mm, self.height_mm),
                                     f'width="{width_px}" height="{height_px}"', 1)
        raw = resvg_py.svg_to_bytes(svg_string=in_pixels, width=width_px, background="white",
                                    skip_system_fonts=True, font_dirs=[str(fonts)])
        image = Image.open(io.BytesIO(bytes(raw)))
        out = io.BytesIO()
        image.save(out, format="PNG", dpi=(dpi, dpi))  # records the dpi, so Word sizes it right
        return out.getvalue()


def _size_attributes(width_mm: float, height_mm: float) -> str:
    return f'width="{width_mm:.2f}mm" height="{height_mm:.2f}mm"'


@dataclass(frozen=True)
class MapRecords:
    """What the map is drawn from: the edition, its regions, and where the practices come from. Its repr
    names all of it, so a map drawn before can be found by it (the build keeps the map's PNGs so)."""

    edition: Edition
    geography: Geography
    region_codes: Mapping[str, str]
    winner_regions: tuple[str, ...]
    """The regions of the practices in the collection, each once, in order."""

    @classmethod
    def of(cls, collection: Collection) -> MapRecords:
        winners = tuple(sorted({practice.region for practice in collection.practices}))
        return cls(collection.edition, collection.geography, dict(collection.region_codes), winners)


def draw_geography_map(collection: Collection | MapRecords, paths: ProjectPaths, width_mm: float,
                       colours: Mapping[str, str] | None = None) -> GeographyMap:
    """The map at a printed width; its height follows from the country's proportions.

    ``colours`` are the palette's CSS values by name, sRGB unless the caller prints in CMYK.
    """
    if isinstance(collection, Collection):
        collection = MapRecords.of(collection)
    worldview = collection.edition.map.worldview
    geodata = load_geodata(paths.geodata)
    in_view = [s.code for s in load_subjects(paths.subjects).in_worldview(worldview)]
    left, top, right, bottom = geodata.bounds[worldview]
    mm_per_km = (width_mm - 2 * PADDING_MM) / (right - left)
    projection = Projection(left, top, mm_per_km, (PADDING_MM, PADDING_MM))
    height_mm = (bottom - top) * mm_per_km + 2 * PADDING_MM

    regions = collection.geography.regions
    codes = [collection.region_codes[region.name] for region in regions]
    categories = {code: _category(region) for code, region in zip(codes, regions, strict=True)}
    winners = {collection.region_codes[region] for region in collection.winner_regions}
    legend_rows, legend_box = _legend(collection, categories, winners, height_mm, paths.fonts)

    # a moved marker must not hide a participant, nor any subject too small to show around it
    small = tuple(code for code in in_view
                  if code not in categories and geodata.subjects[code].room * mm_per_km < SMALL_SUBJECT_ROOM_MM)
    placements = _placements(paths.geodata, projection, tuple(codes), small, Box(0, 0, width_mm, height_mm),
                             legend_box)
    markers = tuple(Marker(placement, code in winners) for placement, code in zip(placements, codes, strict=True))

    def polygons_of(selected: Iterable[str]) -> Iterable[Polygon]:
        return (polygon for code in selected for polygon in geodata.subjects[code].polygons)

    fills = [Fill("land", _path(polygons_of(code for code in in_view if code not in categories)))]
    fills += [Fill(f"participant {_category_class(category, collection.edition.years)}",
                   _path(polygons_of(code for code in codes if categories[code] == category)))
              for category in dict.fromkeys(categories.values())]
    environment = Environment(loader=FileSystemLoader(paths.layouts / "map"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    svg = environment.get_template("geography-map.svg.j2").render(
        width=width_mm, height=height_mm, size=_size_attributes(width_mm, height_mm),
        transform=projection.svg_transform, km_per_mm=1 / mm_per_km,
        fills=fills, islands=_path(geodata.islands), outline=_path(geodata.outline[worldview]),
        markers=markers, legend=legend_rows, number_size=NUMBER_SIZE_MM, legend_size=LEGEND_SIZE_MM,
        legend_row=LEGEND_ROW_MM, swatch=SWATCH_MM, description=_description(collection, worldview),
        colours=colours or load_palette(paths.palette).css("rgb"),
    )
    return GeographyMap(svg, width_mm, height_mm, worldview, markers, legend_box, len(in_view))


@lru_cache(maxsize=8)
def _placements(geodata_path: Path, projection: Projection, codes: tuple[str, ...], small: tuple[str, ...],
                frame: Box, legend: Box) -> tuple[Placement, ...]:
    """The markers' places: most of a map's drawing time, and the same for every colour space of a build
    (each profile's frame, its later layouts, the PNG), so worked out once."""
    geodata = load_geodata(geodata_path)
    keep_clear = [Area.of([ring for polygon in geodata.subjects[code].polygons for ring in projection.rings(polygon)])
                  for code in [*codes, *small]]
    targets = [Target(number, projection.point(*geodata.subjects[code].label), geodata.subjects[code].room
                      * projection.mm_per_km) for number, code in enumerate(codes, start=1)]
    return tuple(place_markers(targets, MARKER_RADIUS_MM, frame, keep_clear, [legend]))


def _category(region: Region) -> Category:
    known = {year for municipality in region.municipalities if municipality.years != "unknown"
             for year in municipality.years}
    return tuple(sorted(known)) or None


def _category_class(category: Category, years: Sequence[int]) -> str:
    """The fill tone: darker for more years of the edition, so the legend reads as a scale."""
    if category is None:
        tone = "unknown"
    elif set(category) >= set(years):
        tone = "all-years"
    else:
        tone = "first-year" if category == (years[0],) else "later-years"
    return f"participant--{tone}"


def _category_label(category: Category, collection: MapRecords) -> str:
    if category is None:
        return f"участник {period_label(collection.edition.years)}, год участия не указан"
    if len(category) == 1:
        return f"участник {category[0]} года"
    return f"участник {', '.join(map(str, category[:-1]))} и {category[-1]} годов"


def _legend(
    collection: MapRecords, categories: dict[str, Category], winners: set[str], height_mm: float, fonts: Path,
) -> tuple[list[LegendRow], Box]:
    """Legend rows, bottom left, where the map of Russia leaves the page empty (south of Siberia)."""
    entries: list[tuple[str, str, str]] = [
        ("fill", _category_class(category, collection.edition.years), _category_label(category, collection))
        for category in sorted(set(categories.values()), key=lambda c: (c is None, c or ()))
    ]
    entries.append(("marker", "marker", "номер региона в списке"))
    if winners:
        entries.append(("marker", "marker marker--winner", "регион, практика которого вошла в сборник"))
    label_x = PADDING_MM + SWATCH_MM[0] + 2.0
    widest = max(text_width(label, fonts / "PTSans-Regular.ttf", LEGEND_SIZE_MM) for _, _, label in entries)
    top = height_mm - PADDING_MM - LEGEND_ROW_MM * len(entries)
    rows = [LegendRow(kind, css, label, PADDING_MM, top + LEGEND_ROW_MM * index)
            for index, (kind, css, label) in enumerate(entries)]
    return rows, Box(PADDING_MM, top, label_x + widest, height_mm - PADDING_MM)


@cache
def _advances(font_file: Path) -> tuple[dict[int, str], dict[str, tuple[int, int]], int]:
    font = TTFont(font_file, lazy=True)
    return font.getBestCmap(), dict(font["hmtx"].metrics), font["head"].unitsPerEm


def text_width(text: str, font_file: Path, size: float) -> float:
    """Advance width of a line of text, in the units of `size`; kerning ignored (it only narrows)."""
    cmap, metrics, units_per_em = _advances(font_file)
    return sum(metrics[cmap.get(ord(char), ".notdef")][0] for char in text) * size / units_per_em


def _path(polygons: Iterable[Polygon]) -> str:
    """SVG path data in relative moves: the map's integers stay short."""
    parts: list[str] = []
    for polygon in polygons:
        for ring in polygon:
            x, y = ring[0], ring[1]
            steps = " ".join(f"{ring[i] - ring[i - 2]} {ring[i + 1] - ring[i - 1]}" for i in range(2, len(ring), 2))
            parts.append(f"M{x} {y}l{steps}z")
    return "".join(parts)


def _description(collection: MapRecords, worldview: Worldview) -> str:
    regions = collection.geography.regions
    names = ", ".join(f"{number} — {region.name}" for number, region in enumerate(regions, start=1))
    view = "по Конституции Российской Федерации" if worldview == "ru" else "по международным источникам"
    count = len(regions)
    return (f"Карта России ({view}): {count} {plural(count, 'регион', 'региона', 'регионов')} — "
            f"участники конкурса {period_label(collection.edition.years)}: {names}.")

