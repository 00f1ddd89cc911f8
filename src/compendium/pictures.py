"""Pictures named by the records: checked before layout, and SVGs made safe before WeasyPrint reads them.

Pictures come from the municipalities, so they are treated as untrusted: a path must stay inside
the edition folder, the file must be what its name says, small enough to lay out, and readable
to the end. SVG is XML and may carry scripts, entities and references to other files or to the
network; scripts and event handlers are dropped, and anything that would fetch is refused.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lxml import etree
from PIL import Image, ImageFile

MAX_BYTES = 25 * 1024 * 1024
"""A print-quality A4 photograph is under 15 MB as JPEG; more is an uncompressed export or a poster."""
MAX_PIXELS = 40_000_000
"""40 megapixels: 7 700 × 5 200, twice what a full-bleed A4 page needs at 300 ppi."""

RASTER_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}
"""What both renderers place as they are: WeasyPrint, and python-docx (which reads no WebP or HEIC)."""
SUFFIXES = (*RASTER_FORMATS, ".svg")
_EXPECTED = "expected a .jpg, .png or .svg file"

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# Pictures embedded in an SVG as data are self-contained; everything else in an href is a fetch.
_EMBEDDED_PICTURE = re.compile(r"^data:image/(png|jpeg);base64,", re.IGNORECASE)
_CSS_FETCH = re.compile(r"@import|url\(\s*['\"]?(?!#|data:image/(png|jpeg);base64,)", re.IGNORECASE)
_DROPPED_ELEMENTS = {f"{{{SVG_NAMESPACE}}}script", f"{{{SVG_NAMESPACE}}}foreignObject"}


class UnsafePicture(Exception):
    """A picture that cannot be used as it is; the message says why and what to do."""


def check_picture(edition: Path, relative: str) -> str | None:
    """What is wrong with the picture ``relative`` to the edition folder, in an organiser's words; None if usable."""
    path = edition / relative
    inside = path.resolve().is_relative_to(edition.resolve())
    if not inside:
        return f"{relative} leads outside the edition folder (to {path.resolve()}); copy the picture into it"
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        return f"{relative}: {_EXPECTED}"
    if not path.exists():
        return f"{relative} does not exist in the edition folder; {_EXPECTED} there"
    if not path.is_file():
        return f"{relative} is a folder; {_EXPECTED}"
    size = path.stat().st_size
    if size > MAX_BYTES:
        return (f"{relative} is {size / 2**20:.1f} MB; a picture may be at most {MAX_BYTES // 2**20} MB, "
                "export it smaller")
    try:
        if suffix == ".svg":
            sanitised_svg(path.read_bytes())
        else:
            _check_raster(path.read_bytes() if size else b"", RASTER_FORMATS[suffix])
    except UnsafePicture as problem:
        return f"{relative} {problem}"
    return None


def _check_raster(data: bytes, expected: str) -> None:
    with warnings.catch_warnings(), _truncation_is_an_error():
        # Pillow only warns below twice its own limit; any bomb must stop here, before WeasyPrint sees it
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                found, (width, height) = image.format, image.size
                if found != expected:
                    raise UnsafePicture(f"holds {_format_name(found)}, not the {expected} its name says; "
                                        f"save it as {expected} or give it the right extension")
                if width * height > MAX_PIXELS:
                    raise UnsafePicture(f"is {width:,} × {height:,} px ({width * height / 1e6:.0f} megapixels); "
                                        f"a picture may have at most {MAX_PIXELS // 1_000_000} megapixels")
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))  # JPEG: decode at 1/8, quickly
                image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UnsafePicture(f"has more than {MAX_PIXELS // 1_000_000} megapixels") from None
        except Image.UnidentifiedImageError:
            raise UnsafePicture(f"is not a picture; expected a {expected} image") from None
        except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data
            raise UnsafePicture(f"cannot be read to the end as {expected} ({error}); save it again") from None


@contextmanager
def _truncation_is_an_error() -> Iterator[None]:
    """WeasyPrint tells Pillow, for the whole process, to draw truncated images as far as they go; not here."""
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before


def _format_name(pillow_format: str | None) -> str:
    return f"a {pillow_format} image" if pillow_format else "an image of unknown kind"


def sanitised_svg(data: bytes) -> bytes:
    """The SVG without scripts or event handlers; refuses entities and references to anything outside it."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                             remove_pis=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise UnsafePicture(f"is not a well-formed SVG (line {error.lineno}: {error.msg})") from None
    if root is None or root.tag != f"{{{SVG_NAMESPACE}}}svg":
        raise UnsafePicture("is not an SVG picture: expected an <svg> element in the SVG namespace")
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None and tree.docinfo.internalDTD.iterentities():
        raise UnsafePicture("declares XML entities; export it again as a plain SVG")
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # entity references left unresolved
            raise UnsafePicture("uses XML entities; export it again as a plain SVG")
        if element.tag in _DROPPED_ELEMENTS:
            element.getparent().remove(element)
            continue
        for name, value in element.attrib.items():
            local = etree.QName(name).localname
            if local.lower().startswith("on"):
                del element.attrib[name]
            elif name in ("href", XLINK_HREF) and not (value.startswith("#") or _EMBEDDED_PICTURE.match(value)):
                raise UnsafePicture(f"refers to {value!r} outside the picture (line {element.sourceline}); "
                                    "embed what it shows or remove the reference")
            elif _CSS_FETCH.search(value):  # style="…url(…)", fill="url(other.svg#paint)"
                raise UnsafePicture(f"has a {local} that loads another file (line {element.sourceline}); "
                                    "remove the url() or @import")
        if element.tag == f"{{{SVG_NAMESPACE}}}style" and _CSS_FETCH.search(element.text or ""):
            raise UnsafePicture(f"has a style that loads another file (line {element.sourceline}); "
                                "remove the url() or @import")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
