"""Pictures named by the records: checked before layout, and SVGs made safe before WeasyPrint reads them.

Pictures come from the municipalities, so they are treated as untrusted: a path must stay inside
the edition folder, the file must be what its name says, small enough to lay out, and readable
to the end. SVG is XML and may carry scripts, entities and references to other files or to the
network; scripts and event handlers are dropped, and anything that would fetch is refused.
"""

from __future__ import annotations

import base64
import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import tinycss2
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
EMBEDDED_PICTURE = re.compile(r"^data:image/(png|jpeg);base64,", re.IGNORECASE)
_DATA_FORMATS = {"png": "PNG", "jpeg": "JPEG"}
# Phone cameras write JPEGs with a multi-picture segment, which Pillow names MPO; they are JPEGs.
_SAME_FORMAT = {"JPEG": {"JPEG", "MPO"}}
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
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
            check_raster(path.read_bytes() if size else b"", RASTER_FORMATS[suffix])
    except UnsafePicture as problem:
        return f"{relative} {problem}"
    return None


def check_raster(data: bytes, expected: str) -> None:
    """Refuses data that is not a whole picture of the expected format within the limits."""
    with warnings.catch_warnings(), _truncation_is_an_error():
        # Pillow only warns below twice its own limit; any bomb must stop here, before WeasyPrint sees it
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                found, (width, height) = image.format, image.size
                if found not in _SAME_FORMAT.get(expected, {expected}):
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
    """The SVG without scripts or event handlers; refuses entities and anything that would fetch or decode
    more than the picture itself: references outside it, CSS that loads, embedded pictures over the limits."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                             remove_pis=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise UnsafePicture(f"is not a well-formed SVG (line {error.lineno}: {error.msg})") from None
    if root is None or root.tag != f"{{{SVG_NAMESPACE}}}svg":
        raise UnsafePicture("is not an SVG picture: expected an <svg> element in the SVG namespace")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise UnsafePicture("declares XML entities; export it again as a plain SVG")
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # entity references left unresolved
            raise UnsafePicture("uses XML entities; export it again as a plain SVG")
        if element.tag in _DROPPED_ELEMENTS:
            element.getparent().remove(element)
            continue
        for name, value in element.attrib.items():
            _check_attribute(element, name, value)
        if element.tag == f"{{{SVG_NAMESPACE}}}style" and _css_loads(
                tinycss2.parse_stylesheet(element.text or "", skip_comments=True)):
            raise UnsafePicture(f"has a style that loads another file (line {element.sourceline}); "
                                "remove its url(), @import or @font-face")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _check_attribute(element: etree._Element, name: str, value: str) -> None:
    """Drops what runs or rebases addresses; refuses what fetches or embeds an unchecked picture."""
    local = etree.QName(name).localname
    if local.lower().startswith("on") or name == XML_BASE:
        del element.attrib[name]  # handlers never run in print; xml:base would turn #a into an address
    elif name in ("href", XLINK_HREF):
        address = value.strip()
        if embedded := EMBEDDED_PICTURE.match(address):
            try:
                check_raster(base64.b64decode(address[embedded.end():], validate=False), _DATA_FORMATS[
                    embedded[1].lower()])
            except (UnsafePicture, ValueError) as problem:
                raise UnsafePicture(f"embeds a picture that {problem} (line {element.sourceline})") from None
        elif not address.startswith("#"):
            raise UnsafePicture(f"refers to {value!r} outside the picture (line {element.sourceline}); "
                                "embed what it shows or remove the reference")
    elif _css_loads(tinycss2.parse_component_value_list(value, skip_comments=True)):
        raise UnsafePicture(f"has a {local} that loads another file (line {element.sourceline}); "
                            "remove the url()")


def _css_loads(nodes: list) -> bool:
    """True when CSS would fetch: an at-rule (@import, @font-face), or url()/src() not to a #fragment.

    The tokenizer has already undone CSS escapes, so «u\\72l(» is seen as url( too.
    """
    for node in nodes:
        if node.type == "at-rule":
            return True
        if node.type == "url" and not node.value.strip().startswith("#"):
            return True
        if node.type == "function":
            if node.lower_name in ("url", "src", "image-set", "image"):
                strings = [argument.value for argument in node.arguments if argument.type == "string"]
                if not (strings and strings[0].strip().startswith("#")):
                    return True
            if _css_loads(node.arguments):
                return True
        if node.type == "qualified-rule" and _css_loads([*node.prelude, *(node.content or [])]):
            return True
        if node.type in ("() block", "[] block", "{} block") and _css_loads(node.content):
            return True
    return False
