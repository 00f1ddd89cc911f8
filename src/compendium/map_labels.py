"""Where the map's numbered markers go: on their region when it has room, else beside it on a leader line.

No maintained Python library places point labels against polygons under these rules, so this is a
small greedy placer: markers that fit inside their region stay there; the others try positions on
rings around their anchor and take the cheapest one that breaks no rule. All lengths are millimetres.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]
Ring = tuple[Point, ...]

GAP_MM = 0.7
"""Clear space between two markers, and between a moved marker and any region it must not hide."""
ROOM_FACTOR = 1.3
"""A marker stays on its region only if the region's inscribed circle is this much wider, so its colour shows."""
DIRECTIONS = 24
RING_STEPS = (2.6, 3.4, 4.4, 5.6, 7.0, 8.6, 10.5)
"""Distances of the candidate positions from the anchor, in marker radii."""


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    def near_circle(self, centre: Point, radius: float) -> bool:
        x, y = centre
        return self.left - radius <= x <= self.right + radius and self.top - radius <= y <= self.bottom + radius

    def distance_to(self, point: Point) -> float:
        dx = max(self.left - point[0], 0, point[0] - self.right)
        dy = max(self.top - point[1], 0, point[1] - self.bottom)
        return math.hypot(dx, dy)


@dataclass(frozen=True)
class Area:
    """A region a moved marker must not cover: polygons as rings, with their bounding box."""

    rings: tuple[Ring, ...]
    box: Box

    @classmethod
    def of(cls, rings: Sequence[Ring]) -> Area:
        xs = [x for ring in rings for x, _ in ring]
        ys = [y for ring in rings for _, y in ring]
        return cls(tuple(rings), Box(min(xs), min(ys), max(xs), max(ys)))

    def crossed_by(self, start: Point, end: Point) -> bool:
        box = Box(min(start[0], end[0]), min(start[1], end[1]), max(start[0], end[0]), max(start[1], end[1]))
        if box.right < self.box.left or box.left > self.box.right or box.bottom < self.box.top \
                or box.top > self.box.bottom:
            return False
        return any(_crosses(start, end, ring[i - 1], ring[i]) for ring in self.rings for i in range(len(ring)))

    def touches_circle(self, centre: Point, radius: float) -> bool:
        if not self.box.near_circle(centre, radius):
            return False
        return _inside(centre, self.rings) or any(
            _segment_distance(centre, ring[i - 1], ring[i]) < radius for ring in self.rings for i in range(len(ring))
        )


@dataclass(frozen=True)
class Target:
    number: int
    anchor: Point
    room: float
    """Radius of the largest circle inside the region, around the anchor."""


@dataclass(frozen=True)
class Placement:
    number: int
    anchor: Point
    centre: Point
    radius: float

    @property
    def moved(self) -> bool:
        return self.centre != self.anchor

    @property
    def box(self) -> Box:
        x, y = self.centre
        return Box(x - self.radius, y - self.radius, x + self.radius, y + self.radius)


class PlacementError(RuntimeError):
    """No position satisfies the rules; the map needs a larger scale or an inset."""


def place_markers(
    targets: Sequence[Target], radius: float, frame: Box, keep_clear: Sequence[Area], obstacles: Sequence[Box],
) -> list[Placement]:
    """One marker per target, in the targets' order.

    keep_clear: regions no moved marker may cover (the participants and every small subject).
    obstacles: boxes no marker may touch, such as the legend.
    """
    placed: dict[int, Placement] = {}
    for target in sorted(targets, key=lambda t: -t.room):
        fits = target.room >= radius * ROOM_FACTOR and not any(
            math.dist(target.anchor, other.centre) < 2 * radius + GAP_MM for other in placed.values()
        ) and not any(box.distance_to(target.anchor) < radius + GAP_MM for box in obstacles)
        if fits:
            placed[target.number] = Placement(target.number, target.anchor, target.anchor, radius)
    # the hardest first: the smallest regions have the fewest good places left
    for target in sorted((t for t in targets if t.number not in placed), key=lambda t: t.room):
        best = _best_position(target, radius, frame, keep_clear, obstacles, list(placed.values()))
        if best is None:
            raise PlacementError(f"no room for the marker of region {target.number}")
        placed[target.number] = Placement(target.number, target.anchor, best, radius)
    return [placed[target.number] for target in targets]


def _best_position(
    target: Target, radius: float, frame: Box, keep_clear: Sequence[Area], obstacles: Sequence[Box],
    placed: list[Placement],
) -> Point | None:
    best: tuple[float, Point] | None = None
    for step in RING_STEPS:
        for index in range(DIRECTIONS):
            angle = 2 * math.pi * index / DIRECTIONS
            centre = (target.anchor[0] + step * radius * math.cos(angle),
                      target.anchor[1] + step * radius * math.sin(angle))
            if not _allowed(centre, target.anchor, radius, frame, keep_clear, obstacles, placed):
                continue
            crossed_leaders = sum(_crosses(target.anchor, centre, other.anchor, other.centre)
                                  for other in placed if other.moved)
            # a leader may cross its own region's border, but running over another participant misleads
            crossed_regions = sum(area.crossed_by(target.anchor, centre) for area in keep_clear
                                  if not _inside(target.anchor, area.rings))
            # crossing another leader costs more than the longest leader, so it happens only when nothing else fits
            cost = step + 2 * crossed_regions + 2 * RING_STEPS[-1] * crossed_leaders
            if best is None or cost < best[0]:
                best = (cost, centre)
        if best is not None and best[0] <= step:  # nothing further out can be cheaper
            return best[1]
    return best[1] if best else None


def _allowed(
    centre: Point, anchor: Point, radius: float, frame: Box, keep_clear: Sequence[Area], obstacles: Sequence[Box],
    placed: list[Placement],
) -> bool:
    x, y = centre
    if not (frame.left + radius <= x <= frame.right - radius and frame.top + radius <= y <= frame.bottom - radius):
        return False
    clearance = radius + GAP_MM
    if any(math.dist(centre, other.centre) < clearance + radius for other in placed):
        return False
    if any(box.distance_to(centre) < clearance for box in obstacles):
        return False
    if any(area.touches_circle(centre, clearance) for area in keep_clear):
        return False
    # the leader must not run under another marker
    return not any(_segment_distance(other.centre, anchor, centre) < radius + GAP_MM / 2 for other in placed)


def leader_end(placement: Placement) -> Point:
    """Where the leader line meets the marker's edge."""
    (ax, ay), (cx, cy) = placement.anchor, placement.centre
    length = math.dist(placement.anchor, placement.centre)
    return (cx - (cx - ax) * placement.radius / length, cy - (cy - ay) * placement.radius / length)


def overlapping_pairs(placements: Sequence[Placement], gap: float = 0.0) -> list[tuple[int, int]]:
    """Numbers of the markers that come closer than `gap` to each other."""
    return [
        (a.number, b.number)
        for i, a in enumerate(placements)
        for b in placements[i + 1:]
        if math.dist(a.centre, b.centre) < a.radius + b.radius + gap
    ]


def _inside(point: Point, rings: Sequence[Ring]) -> bool:
    """Even-odd rule over all rings, so holes count as outside."""
    x, y = point
    inside = False
    for ring in rings:
        for i in range(len(ring)):
            (x1, y1), (x2, y2) = ring[i - 1], ring[i]
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def _segment_distance(point: Point, start: Point, end: Point) -> float:
    (px, py), (ax, ay), (bx, by) = point, start, end
    dx, dy = bx - ax, by - ay
    length_squared = dx * dx + dy * dy
    t = 0.0 if length_squared == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length_squared))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _crosses(a1: Point, a2: Point, b1: Point, b2: Point) -> bool:
    def side(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    return side(a1, a2, b1) * side(a1, a2, b2) < 0 and side(b1, b2, a1) * side(b1, b2, a2) < 0
