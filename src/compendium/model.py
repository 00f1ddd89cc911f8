"""The frozen, typed model of an edition. Renderers read it and never change it.

The same classes validate the records (pydantic) and publish the JSON Schema that editors use to
autocomplete and check the YAML; each field's docstring is its description there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictInt,
    StringConstraints,
    Tag,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from .prose import Prose, ProseError, RichLine, parse_prose, parse_rich_line

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Year = Annotated[StrictInt, Field(ge=2000, le=2100)]


class _PictureFile:
    """Marks a field that names a picture, so that validation finds every picture without a list to keep."""


PICTURE_FILE = _PictureFile()
# Relative, inside the edition: no leading slash, no drive or scheme, no ".." segment.
AssetPath = Annotated[
    str, StringConstraints(pattern=r"^(?!.*(^|[/\\])\.\.([/\\]|$))[^/\\:][^:]*$", min_length=1), PICTURE_FILE
]
PracticeId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]


def _markup_type(parse: Any, description: str, numbers_as_text: bool = False) -> Any:
    """A field written as Markdown text in YAML and held parsed in the model."""

    def accept_number(value: Any) -> Any:
        # `figure: 240` is as natural to type as `figure: '240'`
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return str(value) if numbers_as_text and is_number else value

    def validate(value: str) -> Any:
        if not value.strip():
            raise PydanticCustomError("empty_text", "expected text, got nothing")
        try:
            # unstripped, so that line numbers inside the text match the file
            return parse(value)
        except ProseError as error:
            raise PydanticCustomError("prose", str(error), {"line_offset": error.line}) from None

    class Marker:
        @classmethod
        def __get_pydantic_core_schema__(cls, _source: Any, _handler: GetCoreSchemaHandler) -> Any:
            text = core_schema.str_schema()
            parsed = core_schema.no_info_after_validator_function(validate, text)
            return core_schema.no_info_before_validator_function(accept_number, parsed)

        @classmethod
        def __get_pydantic_json_schema__(cls, _schema: Any, _handler: GetJsonSchemaHandler) -> JsonSchemaValue:
            return {"type": "string", "minLength": 1, "description": description}

    return Marker


ProseText = Annotated[
    Prose, _markup_type(parse_prose, "Markdown: paragraphs, **bold**, bullet (-) and numbered (1.) lists.")
]
RichText = Annotated[RichLine, _markup_type(parse_rich_line, "One paragraph of text; **bold** allowed.")]
FigureText = Annotated[
    RichLine, _markup_type(parse_rich_line, "A number, or text with the number in **bold**.", numbers_as_text=True)
]


class Record(BaseModel):
    # python-re: the asset-path pattern needs a look-ahead, which the default Rust engine lacks
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True, regex_engine="python-re")


class Organisation(Record):
    name: Text
    """Full name as printed, e.g. «Администрация города Екатеринбурга»."""
    logo: AssetPath | None = None
    """Optional logo file, relative to the edition folder."""


class MapSettings(Record):
    worldview: Literal["ru", "international"] = "ru"
    """Whose list of subjects the map draws: `ru`, the 89 subjects of article 65 of the Constitution of the
    Russian Federation, or `international`, the 83 that international sources show."""


class Edition(Record):
    """edition.yaml: what the collection is, who made it, and its opening texts."""

    title: Text
    """Title of the collection, printed on the cover."""
    years: tuple[Year, ...] = Field(min_length=1)
    """Contest years the collection covers, e.g. [2022, 2023]."""
    contest: Text
    """Name of the contest, without quotes."""
    organisers: tuple[Organisation, ...] = Field(min_length=1)
    """Organisers of the contest, in printed order."""
    supporters: tuple[Organisation, ...] = ()
    """Those the contest is held with the support of («При содействии»)."""
    links: tuple[Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+\S*$")], ...] = ()
    """Web addresses printed on the back cover, e.g. https://csr.ru."""
    preface: ProseText
    """«Предисловие»."""
    about: ProseText
    """«О конкурсе»."""
    map: MapSettings = MapSettings()
    """How the geography map is drawn."""
    published: date | None = None
    """Publication date, YYYY-MM-DD, carried by the PDFs and the draft (default: 31 December of the last year)."""

    @property
    def publication_date(self) -> date:
        return self.published or date(max(self.years), 12, 31)


class Foreword(Record):
    author: Text
    """Full name, e.g. «Смелов Павел Александрович»."""
    position: Text
    """Position of the author, printed under the name."""
    text: ProseText
    """The foreword."""
    portrait: AssetPath | None = None
    """Optional portrait file, relative to the edition folder."""


class Forewords(Record):
    """forewords.yaml: the signed forewords, each on a page of its own."""

    forewords: tuple[Foreword, ...] = Field(min_length=1)
    """Forewords in printed order."""


class Municipality(Record):
    name: Text
    """Name as printed in the geography list."""
    years: Annotated[tuple[Year, ...] | Literal["unknown"], BeforeValidator(_years_or_unknown)] = "unknown"
    """Years the municipality took part, or `unknown`."""


def _years_or_unknown(value: Any) -> Any:
    # one clear message instead of one per branch of the union
    if isinstance(value, str) and value != "unknown":
        raise PydanticCustomError("years", "expected a list of years such as [2022, 2023], or `unknown`")
    return value


class Region(Record):
    name: Text
    """Name of the subject of the Russian Federation; practices refer to it by this name."""
    municipalities: tuple[Municipality, ...] = Field(min_length=1)
    """Participating municipalities of the region, in printed order."""


class Geography(Record):
    """geography.yaml: the regions and municipalities that took part; numbered in this order."""

    title: Text
    """Heading of the geography page."""
    regions: tuple[Region, ...] = Field(min_length=1)
    """Regions in printed (and numbered) order."""


class Rules(Record):
    """rules.yaml: how the winners are determined."""

    title: Text
    """Heading of the page."""
    text: ProseText
    """Who may take part and how the final is held."""
    criteria_intro: Text
    """The sentence that introduces the criteria."""
    criteria: tuple[Text, ...] = Field(min_length=1)
    """What the jury took into account."""
    footnote: Text | None = None
    """Note printed at the foot of the page, after an asterisk."""


class Award(Record):
    place: Literal[1, 2, 3, "leader"]
    """1, 2 or 3 for a prize, `leader` for «Лидер»."""
    year: Year
    """Contest year of the award."""


class Quote(Record):
    text: ProseText
    """What was said."""
    author: Text
    """Who said it."""
    position: Text
    """The speaker's position."""
    portrait: AssetPath | None = None
    """Optional portrait file, relative to the edition folder."""


class Figure(Record):
    figure: FigureText
    """The figure as printed big: `240`, or `в **1,3** раза` where only the bold part is the number."""
    caption: RichText
    """What the figure counts."""


class Statement(Record):
    statement: RichText
    """A result stated in one sentence."""


class ResultText(Record):
    text: ProseText
    """Results as prose or a list."""


def _result_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((f"kind:{key}" for key in ("figure", "statement", "text") if key in value), None)
    return None


Result = Annotated[
    Annotated[Figure, Tag("kind:figure")]
    | Annotated[Statement, Tag("kind:statement")]
    | Annotated[ResultText, Tag("kind:text")],
    Discriminator(
        _result_kind,
        custom_error_type="result_kind",
        custom_error_message="expected a result with `figure` and `caption`, a `statement`, or a `text`",
    ),
]


class Participants(Record):
    count: StrictInt = Field(gt=0)
    """How many took part."""
    noun: Text
    """What they are, agreeing with the count: «муниципальных образования»."""


class Photo(Record):
    file: AssetPath
    """Picture file, relative to the edition folder."""
    alt: Text
    """What the picture shows, for readers who cannot see it."""
    caption: Text | None = None
    """Optional printed caption."""


class Practice(Record):
    """practices/<id>.yaml: one winning practice, printed as a two-page spread."""

    id: PracticeId
    """Stable id, lowercase latin with hyphens; the file should be named <id>.yaml."""
    municipality: Text
    """Municipality that submitted the practice."""
    region: Text
    """Region, exactly as named in geography.yaml."""
    award: Award
    """Place and year."""
    order: StrictInt = 0
    """Position among practices with the same award (lower first); ties go alphabetically."""
    title: Text
    """Name of the practice, without the outer quotes."""
    quote: Quote | None = None
    """Optional quote printed on the left page."""
    content: ProseText
    """«Содержание практики»."""
    prerequisites: ProseText
    """«Предпосылки реализации практики»."""
    actions: ProseText
    """«Действия по реализации практики»."""
    results: tuple[Result, ...] = Field(min_length=1)
    """«Результаты реализации практики»: figures, statements and texts, in printed order."""
    participants: Participants
    """«Участники практики»."""
    photos: tuple[Photo, ...] = ()
    """Optional photographs."""

    @property
    def sort_key(self) -> tuple[int, int, int, str]:
        place = 4 if self.award.place == "leader" else int(self.award.place)
        return (-self.award.year, place, self.order, self.municipality)


class SourceLocation(Record):
    """Where a practice came from, so that layout problems can point at its file and lines."""

    file: Path
    """The practice file, as shown in messages."""
    lines: dict[str, int]
    """Line of each top-level field in that file."""


class Collection(Record):
    """A whole edition, checked and in printed order: what every renderer reads."""

    directory: Path
    """Edition folder."""
    edition: Edition
    forewords: tuple[Foreword, ...]
    geography: Geography
    rules: Rules
    practices: tuple[Practice, ...]
    """Practices in printed order: award year descending, then place, then leaders."""
    locations: dict[str, SourceLocation]
    """Source file and field lines of each practice, by practice id."""
    region_codes: dict[str, str]
    """Subject code (ISO 3166-2:RU) of each geography region, by region name."""

    @property
    def slug(self) -> str:
        """Name of the edition's output folder: the edition folder's name."""
        return self.directory.resolve().name


def picture_fields(record: Record, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every picture a record names, with the field path where it is named: ``(("photos", 0, "file"), "a.jpg")``."""
    for name, info in type(record).model_fields.items():
        value = getattr(record, name)
        names_picture = PICTURE_FILE in info.metadata or any(
            PICTURE_FILE in getattr(argument, "__metadata__", ()) for argument in get_args(info.annotation))
        items = enumerate(value) if isinstance(value, tuple) else [(None, value)]
        for index, item in items:
            where = (*path, name) if index is None else (*path, name, index)
            if isinstance(item, Record):
                yield from picture_fields(item, where)
            elif names_picture and isinstance(item, str):
                yield where, item


SOURCE_MODELS: dict[str, type[Record]] = {
    "edition": Edition,
    "forewords": Forewords,
    "geography": Geography,
    "rules": Rules,
    "practice": Practice,
}
"""Each kind of source file and the model that validates it; also the published schemas."""
