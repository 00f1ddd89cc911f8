"""What each kind of reader gets: the print and screen profiles the book is made in.

Apart from the pipeline, so that the layout workers, which are handed a profile with each job, do not load
the templating and the records' model to read one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .palette import ColourSpace

TEMPLATE = "book.html.j2"


@dataclass(frozen=True)
class Profile:
    """What one kind of reader gets: colour space, PDF variant, bleed and image resolution."""

    name: str
    colour_space: ColourSpace
    pdf_variant: str
    write_options: Mapping[str, object] = field(default_factory=dict)
    bleed_mm: float = 0
    """Artwork that touches the trim runs this far past it; the PDF's BleedBox says the same."""
    mark_room_mm: float = 0
    """Room outside the bleed for crop marks, which WeasyPrint draws in the outer half of its bleed area."""
    stylesheet: str | None = None
    """An extra stylesheet in layouts/pdf for this profile only."""
    min_ppi: float = 0
    """Placed images below this resolution are reported."""
    whole_sheets: bool = False
    """True when the page count must fill whole folded sheets, with blank pages before the back cover."""
    whole_fonts: bool = False
    """True to embed each font file whole, as printing houses prefer, rather than the glyphs used."""


PRINT = Profile("print", "cmyk", "pdf/x-4", bleed_mm=3, mark_room_mm=6, stylesheet="print.css", min_ppi=300,
                whole_sheets=True, whole_fonts=True)
SCREEN = Profile("screen", "rgb", "pdf/ua-1", {"dpi": 150, "optimize_images": True, "jpeg_quality": 85}, min_ppi=96)
PROFILES = {profile.name: profile for profile in (PRINT, SCREEN)}
