"""Writes the picture cases of tests/cases/invalid/: broken, mislabelled, oversized and hostile files.

The cases are committed; this script says how each file was made and remakes them:
    .venv/bin/python tests/cases/tools/make_picture_cases.py
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[3]
CASES = ROOT / "tests" / "cases" / "invalid"
PRACTICE = "practices/anuchinsky-beekeeping.yaml"
EDITION = "edition.yaml"
PHOTO_LINE = 44  # the first line after the practice file's last line


def practice_with(entries: str) -> str:
    original = (ROOT / "sources" / "2022-2023" / PRACTICE).read_text(encoding="utf-8")
    return original + entries


def photo(path: str) -> str:
    return practice_with(f"photos:\n  - file: {path}\n    alt: Пасека\n")


def edition_with_logo(path: str) -> str:
    original = (ROOT / "sources" / "2022-2023" / EDITION).read_text(encoding="utf-8")
    marker = "  - name: Центр стратегических разработок\n"
    return original.replace(marker, f"{marker}    logo: {path}\n")


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 170, 60)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def png(size: tuple[int, int], mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 0).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions and stops after its first kilobyte of pixels: a decompression bomb's start."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(header)) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    data = zlib.compress(b"\x00" * 1024)
    pixels = struct.pack(">I", len(data)) + b"IDAT" + data + struct.pack(">I", zlib.crc32(b"IDAT" + data))
    return b"\x89PNG\r\n\x1a\n" + chunk + pixels


SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">\n'

CASES_TO_MAKE: dict[str, tuple[dict[str, str | bytes], str]] = {
    "photo-missing-file": (
        {PRACTICE: photo("photos/visit.jpg")},
        f"{PRACTICE}:{PHOTO_LINE + 1}: photos[0].file: photos/visit.jpg does not exist in the edition folder",
    ),
    "photo-png-named-jpg": (
        {PRACTICE: photo("photos/visit.jpg"), "photos/visit.jpg": png((40, 30), "RGB")},
        f"{PRACTICE}:{PHOTO_LINE + 1}: photos[0].file: photos/visit.jpg holds a PNG image, not the JPEG its name says",
    ),
    "photo-text-named-jpg": (
        {PRACTICE: photo("photos/visit.jpg"), "photos/visit.jpg": b"<html>not a picture</html>\n"},
        f"{PRACTICE}:{PHOTO_LINE + 1}: photos[0].file: photos/visit.jpg is not a picture; expected a JPEG image",
    ),
    "photo-truncated-jpeg": (
        {PRACTICE: photo("photos/visit.jpg"), "photos/visit.jpg": jpeg((640, 480))[:700]},
        f"{PRACTICE}:{PHOTO_LINE + 1}: photos[0].file: photos/visit.jpg cannot be read to the end as JPEG",
    ),
    "photo-too-many-pixels": (
        {PRACTICE: photo("photos/panorama.png"), "photos/panorama.png": png((9000, 5000))},
        f"{PRACTICE}:{PHOTO_LINE + 1}: photos[0].file: photos/panorama.png is 9,000 × 5,000 px (45 megapixels); "
        "a picture may have at most 40 megapixels",
    ),
    "photo-decompression-bomb": (
        {PRACTICE: photo("photos/bomb.png"), "photos/bomb.png": png_header_only(100_000, 100_000)},
        f"{PRACTICE}:{PHOTO_LINE + 1}: photos[0].file: photos/bomb.png has more than 40 megapixels",
    ),
    "photo-unsupported-format": (
        {PRACTICE: photo("photos/visit.webp"), "photos/visit.webp": b"RIFF\x00\x00\x00\x00WEBP"},
        f"{PRACTICE}:{PHOTO_LINE + 1}: photos[0].file: photos/visit.webp: expected a .jpg, .png or .svg file",
    ),
    "photo-http-address": (
        {PRACTICE: photo("http://example.org/visit.jpg")},
        f"{PRACTICE}:{PHOTO_LINE + 1}: photos[0].file: expected a path inside the edition folder",
    ),
    "photo-file-address": (
        {PRACTICE: photo("file:///etc/passwd")},
        f"{PRACTICE}:{PHOTO_LINE + 1}: photos[0].file: expected a path inside the edition folder",
    ),
    "photo-parent-folder": (
        {PRACTICE: photo("photos/../../../assets/fonts/PTSans-Regular.ttf")},
        f"{PRACTICE}:{PHOTO_LINE + 1}: photos[0].file: expected a path inside the edition folder",
    ),
    "logo-svg-fetches-address": (
        {EDITION: edition_with_logo("logos/csr.svg"),
         "logos/csr.svg": SVG_HEAD + '<image xlink:href="http://example.org/track.png" width="10" height="10"/>\n'
                          "</svg>\n"},
        f"{EDITION}:9: organisers[1].logo: logos/csr.svg refers to 'http://example.org/track.png' outside the "
        "picture (line 2)",
    ),
    "logo-svg-reads-local-file": (
        {EDITION: edition_with_logo("logos/csr.svg"),
         "logos/csr.svg": SVG_HEAD + '<image href="file:///etc/passwd" width="10" height="10"/>\n</svg>\n'},
        f"{EDITION}:9: organisers[1].logo: logos/csr.svg refers to 'file:///etc/passwd' outside the picture",
    ),
    "logo-svg-style-import": (
        {EDITION: edition_with_logo("logos/csr.svg"),
         "logos/csr.svg": SVG_HEAD + "<style>@import url(https://example.org/x.css);</style>\n</svg>\n"},
        f"{EDITION}:9: organisers[1].logo: logos/csr.svg has a style that loads another file (line 2)",
    ),
    "logo-svg-entity-bomb": (
        {EDITION: edition_with_logo("logos/csr.svg"),
         "logos/csr.svg": '<?xml version="1.0"?>\n<!DOCTYPE svg [\n <!ENTITY a "ha">\n'
                          ' <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
                          ' <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n'
                          ']>\n' + SVG_HEAD + "<text>&c;</text>\n</svg>\n"},
        f"{EDITION}:9: organisers[1].logo: logos/csr.svg declares XML entities",
    ),
    "logo-svg-not-well-formed": (
        {EDITION: edition_with_logo("logos/csr.svg"), "logos/csr.svg": SVG_HEAD + "<rect width='10'>\n</svg>\n"},
        f"{EDITION}:9: organisers[1].logo: logos/csr.svg is not a well-formed SVG (line 3:",
    ),
    "logo-html-named-svg": (
        {EDITION: edition_with_logo("logos/csr.svg"), "logos/csr.svg": "<html><body>logo</body></html>\n"},
        f"{EDITION}:9: organisers[1].logo: logos/csr.svg is not an SVG picture",
    ),
}


def main() -> None:
    for name, (files, expected) in CASES_TO_MAKE.items():
        case = CASES / name
        case.mkdir(parents=True, exist_ok=True)
        for relative, content in files.items():
            target = case / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        (case / "expected.txt").write_text(expected + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
