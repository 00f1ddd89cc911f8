"""Where the project's layouts and assets live, found once and passed to every stage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProjectPaths:
    """The folders a build reads from and writes to."""

    root: Path
    """Project folder: holds layouts/, assets/ and build/."""

    @property
    def layouts(self) -> Path:
        return self.root / "layouts"

    @property
    def assets(self) -> Path:
        return self.root / "assets"

    @property
    def palette(self) -> Path:
        """The book's colours, with sRGB and CMYK values for each."""
        return self.layouts / "palette.yaml"

    @property
    def subjects(self) -> Path:
        """The official table of the federation's subjects."""
        return self.assets / "geo" / "subjects.yaml"

    @property
    def geodata(self) -> Path:
        """Projected outlines of the subjects, made by tools/update_geodata.py."""
        return self.assets / "geo" / "russia.json"

    @property
    def fonts(self) -> Path:
        return self.assets / "fonts"

    @property
    def build(self) -> Path:
        return self.root / "build"

    @classmethod
    def locate(cls, start: Path | None = None) -> ProjectPaths:
        """The nearest folder holding layouts/ and assets/, from ``start`` (or the package) upwards."""
        candidates = [start or Path.cwd(), Path(__file__).resolve()]
        for candidate in candidates:
            for folder in [candidate.resolve(), *candidate.resolve().parents]:
                if (folder / "layouts").is_dir() and (folder / "assets").is_dir():
                    return cls(folder)
        raise FileNotFoundError("no project folder with layouts/ and assets/ was found")
