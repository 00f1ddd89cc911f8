"""What the PDF renderer may read: files of the project, never the network.

WeasyPrint fetches every stylesheet, font and picture through one ``url_fetcher``. This one
serves files under the layouts, the assets and the edition folder, embedded ``data:`` pictures,
and the edition's SVGs only once sanitised. Everything else is refused and named, with the layout
line that asked for it when a layout did.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import tinycss2
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .errors import Problem, SourceProblems, display_path
from .paths import ProjectPaths
from .pictures import EMBEDDED_PICTURE, UnsafePicture, check_raster, sanitised_svg

_FONT_SIGNATURES = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"wOFF", b"wOF2")
_CSS_AT_RULES_WITH_FILES = {"font-face", "color-profile"}


class RestrictedFetcher(URLFetcher):
    """Lets WeasyPrint read files under the given folders only; sockets are never opened."""

    def __init__(self, paths: ProjectPaths, edition: Path) -> None:
        super().__init__(allowed_protocols={"file", "data"})
        self.paths = paths
        self.edition = edition.resolve()
        self.allowed = [folder.resolve() for folder in (paths.layouts, paths.assets, edition)]
        self.refused: list[str] = []
        self.reasons: dict[str, str] = {}

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:  # type: ignore[override]
        parts = urlsplit(url)
        try:
            if parts.scheme == "data":
                return self._embedded(url)
            # a host, even in file://host/path, is a name to resolve: never
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise ValueError("only files inside the project may be used")
            path = Path(unquote(parts.path)).resolve()
            if not any(path.is_relative_to(folder) for folder in self.allowed):
                raise ValueError("only files inside the project may be used")
            data = path.read_bytes()  # read here, the file checked, rather than opened again by name
            if path.suffix.lower() == ".svg" and path.is_relative_to(self.edition):
                # the edition's pictures come from outside; validation has refused the unsafe ones
                return URLFetcherResponse(url, sanitised_svg(data), {"Content-Type": "image/svg+xml"})
            return URLFetcherResponse(url, data, {"Content-Type": mimetypes.guess_type(path.name)[0] or ""})
        except (OSError, ValueError, UnsafePicture) as error:
            self.refused.append(url)
            self.reasons[url] = str(error)
            raise ValueError(f"refused to load {url}: {error}") from None

    @staticmethod
    def _embedded(url: str) -> URLFetcherResponse:
        """A PNG or JPEG embedded as data, within the limits of any picture; nothing else comes as data."""
        embedded = EMBEDDED_PICTURE.match(url)
        if not embedded:
            raise ValueError("only PNG and JPEG pictures may be embedded as data")
        data = base64.b64decode(url[embedded.end():])
        check_raster(data, embedded[1].upper())
        return URLFetcherResponse(url, data, {"Content-Type": f"image/{embedded[1].lower()}"})

    def refusals(self) -> str:
        """The refused addresses, each with the layout file and line that asks for it, when one does."""
        return "; ".join(f"{where_in_layouts(self.paths, url)}refused {url[:200]}: {self.reasons[url]}"
                         for url in self.refused)


def where_in_layouts(paths: ProjectPaths, url: str) -> str:
    """``layouts/pdf/book.css:12: `` for the first layout line that names the address, else nothing.

    A file is named relative to its layout, so only its name is looked for; other addresses are whole.
    """
    parts = urlsplit(url)
    needle = Path(unquote(parts.path)).name if parts.scheme == "file" else url.split("#")[0]
    layouts = [path for path in sorted(paths.layouts.rglob("*")) if path.suffix in (".css", ".j2") and path.is_file()]
    for layout in layouts:
        for number, line in enumerate(layout.read_text(encoding="utf-8").splitlines(), start=1):
            if needle and needle in line:
                return f"{display_path(layout)}:{number}: "
    return ""


def check_layout_files(paths: ProjectPaths) -> None:
    """Every font and colour profile the stylesheets name must exist in the project, and fonts must be fonts.

    WeasyPrint would only warn and fall back to a system font, which changes the whole layout.
    """
    problems = []
    for stylesheet in sorted((paths.layouts / "pdf").glob("*.css")):
        for line, kind, address in _files_named_in(stylesheet):
            if message := _unusable_file(stylesheet.parent / address, paths, kind):
                problems.append(Problem(display_path(stylesheet), line, f"@{kind}", f"{address} {message}"))
    if problems:
        raise SourceProblems(problems)


def _files_named_in(stylesheet: Path) -> Iterator[tuple[int, str, str]]:
    """(line, at-rule, address) of each url() in the stylesheet's @font-face and @color-profile rules."""
    for rule in tinycss2.parse_stylesheet(stylesheet.read_text(encoding="utf-8"), skip_comments=True):
        if rule.type != "at-rule" or rule.lower_at_keyword not in _CSS_AT_RULES_WITH_FILES:
            continue
        declarations = tinycss2.parse_blocks_contents(rule.content or [])
        for declaration in (item for item in declarations if item.type == "declaration"):
            for value in declaration.value:
                if address := _url_of(value):
                    yield rule.source_line, rule.lower_at_keyword, address


def _url_of(token: tinycss2.ast.Node) -> str | None:
    """The address of ``url(a.ttf)`` (one token) or ``url("a.ttf")`` (a function of a string)."""
    if token.type == "url":
        return token.value
    if token.type == "function" and token.lower_name == "url":
        strings = [argument.value for argument in token.arguments if argument.type == "string"]
        return strings[0] if strings else None
    return None


def _unusable_file(path: Path, paths: ProjectPaths, kind: str) -> str | None:
    if not any(path.resolve().is_relative_to(folder.resolve()) for folder in (paths.layouts, paths.assets)):
        return "is outside the project; fonts and colour profiles live in assets/"
    if not path.is_file():
        return f"does not exist; restore {display_path(path.parent.resolve())} (see its SOURCE file for the script)"
    if kind == "font-face":
        with path.open("rb") as stream:
            if stream.read(4) not in _FONT_SIGNATURES:
                return "is not a TrueType, OpenType or WOFF font"
    return None
