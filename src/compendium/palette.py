"""The book's colours, defined once in layouts/palette.yaml: sRGB for screens, CMYK for the press.

Each colour carries both values, chosen together, so the printed book and the screen PDF differ only
where the media differ. Templates and the map receive the values for one colour space and never
spell a colour themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from .errors import CompendiumError

ColourSpace = Literal["rgb", "cmyk"]
_HEX = re.compile(r"#[0-9a-f]{6}")


@dataclass(frozen=True)
class Colour:
    """One named colour: its sRGB value, its CMYK ink percentages, and an opacity shared by both."""

    rgb: str
    cmyk: tuple[float, float, float, float]
    alpha: float = 1.0

    def css(self, space: ColourSpace) -> str:
        """The colour as CSS Color 5 text, understood by WeasyPrint's CSS and SVG alike."""
        if space == "cmyk":
            inks = " ".join(f"{percent / 100:g}" for percent in self.cmyk)
            return f"device-cmyk({inks}{self._alpha_suffix()})"
        if self.alpha == 1:
            return self.rgb
        red, green, blue = (int(self.rgb[i:i + 2], 16) for i in (1, 3, 5))
        return f"rgb({red} {green} {blue}{self._alpha_suffix()})"

    def _alpha_suffix(self) -> str:
        return "" if self.alpha == 1 else f" / {self.alpha:g}"


@dataclass(frozen=True)
class Palette:
    colours: dict[str, Colour]

    def css(self, space: ColourSpace) -> dict[str, str]:
        """Every colour by name, as CSS values for one colour space."""
        return {name: colour.css(space) for name, colour in self.colours.items()}


def load_palette(path: Path) -> Palette:
    """Reads the palette; a malformed entry is a layout error naming the file and the colour."""
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CompendiumError(f"{path}: cannot read the palette: {error}") from None
    if not isinstance(entries, dict):
        raise CompendiumError(f"{path}: expected a mapping of colour names")
    colours = {}
    for name, entry in entries.items():
        try:
            colours[str(name)] = _colour(entry)
        except (TypeError, ValueError, KeyError) as error:
            raise CompendiumError(f"{path}: colour {name!r}: expected rgb: '#rrggbb', cmyk: [c, m, y, k] "
                                  f"in percent and an optional alpha from 0 to 1 ({error})") from None
    return Palette(colours)


def _colour(entry: dict) -> Colour:
    rgb = str(entry["rgb"]).lower()
    cmyk = tuple(float(percent) for percent in entry["cmyk"])
    alpha = float(entry.get("alpha", 1))
    if not _HEX.fullmatch(rgb) or len(cmyk) != 4 or not all(0 <= p <= 100 for p in cmyk) or not 0 < alpha <= 1:
        raise ValueError("a value is out of range")
    return Colour(rgb, cmyk, alpha)  # type: ignore[arg-type]
