"""The one context the templates receive: the collection plus what layout derives from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import groupby
from typing import Literal

from .model import Award, Collection, Edition, Foreword, Geography, Practice, Result, Rules


@dataclass(frozen=True)
class ContentsEntry:
    """A line of «Содержание» outside the practices."""

    title: str
    anchor: str


@dataclass(frozen=True)
class Stat:
    """A big number with its label on the geography page."""

    value: int
    label: str


@dataclass(frozen=True)
class ResultGroup:
    """Consecutive results of one kind, laid out together (figures side by side)."""

    kind: str
    items: tuple[Result, ...]


@dataclass(frozen=True)
class PracticeListing:
    """A practice as the frame lists it (the contents, the part's opener): so much and no more, so that the
    frame's layout depends on these fields alone, not on any practice's text."""

    id: str
    municipality: str
    region: str
    award: Award

    @classmethod
    def of(cls, practice: Practice) -> PracticeListing:
        return cls(practice.id, practice.municipality, practice.region, practice.award)


@dataclass(frozen=True)
class ContentsRow:
    """One row of «Содержание» as it flows down its pages: a section's entry, the part's heading or a year's."""

    kind: Literal["entry", "part", "year"]
    title: str
    anchor: str | None = None
    """The section an entry links to."""
    award: Award | None = None
    """A practice's award, for its entry."""


@dataclass(frozen=True)
class ContentsBlock:
    """Consecutive rows as the template lays them out: a list of entries, or one heading."""

    kind: Literal["entries", "part", "year"]
    rows: tuple[tuple[int, ContentsRow], ...]
    """Each row with its number in the whole contents."""


@dataclass(frozen=True)
class OpenerLine:
    """A line of the part's opener under its year: one practice, or every practice one award went to that
    year, where the edition has more practices than the opener's page holds."""

    award: str
    """The award without the year: «1 место», «Лидер», or for more than one practice «Лидеры»."""
    title: str
    """The municipality, or how many practices: «97 практик»."""
    detail: str
    """The region, or how many regions they come from: «из 12 регионов»."""
    anchor: str
    """The practice's, or the first of them."""


OPENER_LINES = 21
"""How many lines the part's opener holds under its title (layouts/pdf/book.css, .part-opener), a year's
heading counting as three: with more, each year gives one line per award instead of one per practice."""


@dataclass(frozen=True)
class Book:
    """Everything a template may use; built once per render with StrictUndefined behind it."""

    edition: Edition
    forewords: tuple[Foreword, ...]
    geography: Geography
    rules: Rules
    practices: tuple[Practice, ...]
    period_numbers: str
    """The years as a range, «2022–2023»."""
    period_label: str
    """The years for running text, «2022–2023 гг.»."""
    organisers_line: str
    keywords: str
    front_entries: tuple[ContentsEntry, ...]
    practices_by_year: tuple[tuple[int, tuple[Practice, ...]], ...]
    geography_stats: tuple[Stat, ...]
    winner_regions: frozenset[str]
    contents: tuple[ContentsRow, ...]
    """Every row of «Содержание», in order: made once per book and shared by the layouts of its parts, since
    each row's id is looked up in it, and a copy per part grew with the square of the practices."""
    part: Literal["whole", "frame", "spreads", "contents", "measure"] = "whole"
    """What one layout holds: the ``whole`` book; its ``frame``, all but the contents and the spreads, for
    which it leaves empty pages; a run of consecutive ``spreads`` alone; some of the ``contents``' pages
    alone; or the spreads to ``measure`` on endless pages."""
    first_page: int = 1
    """The book's page number of the first page of a ``spreads`` or ``contents`` layout."""
    contents_rows: tuple[int, int] | None = None
    """For a ``contents`` layout, the rows it holds, from the first to one past the last."""
    contents_pages: int = 1
    """For the ``frame``, the pages the contents takes, which it leaves empty."""
    pages: Mapping[str, int] = field(default_factory=dict)
    """The page of each section the contents lists, by anchor, as the previous layout of the frame found
    them; empty before the first."""

    @property
    def listed_anchors(self) -> tuple[str, ...]:
        """The sections the contents lists, by anchor."""
        return (*(entry.anchor for entry in self.front_entries),
                *(f"practice-{practice.id}" for practice in self.practices))

    def page_of(self, anchor: str) -> str:
        """The page the contents prints for a section: a placeholder of about the right width until known."""
        if anchor in self.pages:
            return str(self.pages[anchor])
        return "0" * len(str(2 * len(self.practices) + 20))

    @property
    def contents_blocks(self) -> tuple[ContentsBlock, ...]:
        """The rows this layout shows (all, or a ``contents`` layout's), as the template lays them out."""
        rows = self.contents
        first, end = self.contents_rows or (0, len(rows))
        blocks: list[ContentsBlock] = []
        for number in range(first, end):
            row = rows[number]
            if row.kind == "entry" and blocks and blocks[-1].kind == "entries":
                blocks[-1] = ContentsBlock("entries", (*blocks[-1].rows, (number, row)))
            else:
                blocks.append(ContentsBlock("entries" if row.kind == "entry" else row.kind, ((number, row),)))
        return tuple(blocks)

    def contents_row_id(self, number: int) -> str:
        """A row's element id in a ``contents`` layout: an entry's is its section's, so that its link resolves
        there (the merge keeps the section's own); a heading's is made of its number."""
        return self.contents[number].anchor or f"contents-row-{number}"

    def contents_part(self, rows: tuple[int, int], first_page: int) -> Book:
        """The frame's book as the layout of some of the contents' rows sees it, starting on ``first_page``."""
        return replace(self, part="contents", contents_rows=rows, first_page=first_page)

    @property
    def opener(self) -> tuple[tuple[int, tuple[OpenerLine, ...]], ...]:
        """The part's opener, by year: a line per practice, or per award when they would not fit its page."""
        if not self.opener_is_summary:
            return tuple((year, tuple(_award_line([practice]) for practice in practices))
                         for year, practices in self.practices_by_year)
        return tuple((year, tuple(_award_line(given) for given in _by_award(practices)))
                     for year, practices in self.practices_by_year)

    @property
    def opener_is_summary(self) -> bool:
        """True where the opener's page cannot list every practice, so that it gives a line per award."""
        return sum(len(practices) + 3 for _, practices in self.practices_by_year) > OPENER_LINES

    def frame(self) -> Book:
        """The book as the layout of its frame sees it: every record, but each practice only as listed."""
        listed = {practice.id: PracticeListing.of(practice) for practice in self.practices}
        return replace(self, part="frame", practices=tuple(listed.values()),  # type: ignore[arg-type]
                       practices_by_year=tuple((year, tuple(listed[practice.id] for practice in practices))
                                               for year, practices in self.practices_by_year))

    def spread(self, practice: Practice, first_page: int) -> Book:
        """The book as the layout of one practice's spread sees it: the edition and that practice, and
        nothing drawn from the other practices, so that the layout depends on its own record alone."""
        return replace(self, part="spreads", practices=(practice,), first_page=first_page, practices_by_year=(),
                       geography_stats=(), winner_regions=frozenset(), contents=())

    @classmethod
    def of(cls, collection: Collection) -> Book:
        edition = collection.edition
        first, last = min(edition.years), max(edition.years)
        numbers = f"{first}–{last}" if first != last else str(first)
        front = (
            ContentsEntry("Предисловие", "preface"),
            ContentsEntry("О конкурсе", "about"),
            *(ContentsEntry(f"Вступительное слово. {f.author}", f"foreword-{i}")
              for i, f in enumerate(collection.forewords, 1)),
            ContentsEntry(collection.geography.title, "geography"),
            ContentsEntry(collection.rules.title, "rules"),
        )
        by_year = tuple(
            (year, tuple(group))
            for year, group in groupby(collection.practices, key=lambda practice: practice.award.year)
        )
        municipalities = sum(len(region.municipalities) for region in collection.geography.regions)
        regions = len(collection.geography.regions)
        practices = len(collection.practices)
        stats = (
            Stat(regions, plural(regions, "регион", "региона", "регионов")),
            Stat(municipalities, plural(municipalities, "муниципальное образование",
                                        "муниципальных образования", "муниципальных образований")),
            Stat(practices, plural(practices, "практика в сборнике", "практики в сборнике", "практик в сборнике")),
        )
        return cls(
            edition=edition,
            forewords=collection.forewords,
            geography=collection.geography,
            rules=collection.rules,
            practices=collection.practices,
            period_numbers=numbers,
            period_label=period_label(edition.years),
            organisers_line="; ".join(organisation.name for organisation in edition.organisers),
            keywords=", ".join([edition.contest, "межмуниципальное взаимодействие", *map(str, edition.years)]),
            front_entries=front,
            practices_by_year=by_year,
            geography_stats=stats,
            winner_regions=frozenset(practice.region for practice in collection.practices),
            contents=_contents_rows(front, by_year),
        )


def period_label(years: tuple[int, ...]) -> str:
    """The years for running text: «2022–2023 гг.», «2023 г.»."""
    first, last = min(years), max(years)
    return f"{first}–{last} гг." if first != last else f"{first} г."


def plural(count: int, one: str, few: str, many: str) -> str:
    """The Russian noun form for a count: 1 регион, 2 региона, 5 регионов, 21 регион."""
    if count % 10 == 1 and count % 100 != 11:
        return one
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return few
    return many


def _by_award(practices: tuple[Practice, ...]) -> list[list[Practice]]:
    """The practices grouped by award, in the order each award first comes."""
    groups: dict[Award, list[Practice]] = {}
    for practice in practices:
        groups.setdefault(practice.award, []).append(practice)
    return list(groups.values())


def _contents_rows(front: tuple[ContentsEntry, ...],
                   by_year: tuple[tuple[int, tuple[Practice, ...]], ...]) -> tuple[ContentsRow, ...]:
    return (*(ContentsRow("entry", entry.title, entry.anchor) for entry in front),
            ContentsRow("part", "Практики победителей и лидеров"),
            *(row for year, practices in by_year for row in (
                ContentsRow("year", str(year)),
                *(ContentsRow("entry", f"{practice.municipality}, {practice.region}", f"practice-{practice.id}",
                              practice.award) for practice in practices))))


def _award_line(given: list[Practice]) -> OpenerLine:
    """The opener's line for the practices one award went to: the practice, if it went to one."""
    first = given[0]
    if len(given) == 1:
        return OpenerLine(award_short(first.award), first.municipality, first.region, f"practice-{first.id}")
    regions = len({practice.region for practice in given})
    award = "Лидеры" if first.award.place == "leader" else award_short(first.award)
    return OpenerLine(award, f"{len(given)} {plural(len(given), 'практика', 'практики', 'практик')}",
                      f"из {regions} {plural(regions, 'региона', 'регионов', 'регионов')}", f"practice-{first.id}")


def award_label(award: Award) -> str:
    """The badge text: «1 место · 2023» or «Лидер 2023 года»."""
    if award.place == "leader":
        return f"Лидер {award.year} года"
    return f"{award.place} место · {award.year}"


def award_short(award: Award) -> str:
    """The award without the year, for lists already grouped by year."""
    return "Лидер" if award.place == "leader" else f"{award.place} место"


def result_groups(results: tuple[Result, ...]) -> list[ResultGroup]:
    """Splits results into runs of one kind, in order."""
    def kind(result: Result) -> str:
        return type(result).__name__.lower().replace("resulttext", "text")

    return [ResultGroup(key, tuple(items)) for key, items in groupby(results, key=kind)]


@dataclass(frozen=True)
class PlannedSection:
    """A part of the book, from its anchor to the next one, and how many pages the layout gives it."""

    anchor: str
    title: str
    pages: int | None
    """None for a part that runs as long as its text: only the contents does."""
    opens_on: Literal["left", "right"] | None = None
    """The side of the spread it starts on (its break-before in layouts/pdf), if any: the page before may
    be left empty for it."""


def page_plan(book: Book) -> list[PlannedSection]:
    """The book's parts in order, each with the pages layouts/pdf gives it."""
    return [
        PlannedSection("cover", "Обложка", 1),
        PlannedSection("preface", "Предисловие и О конкурсе", 1),
        *(PlannedSection(f"foreword-{number}", f"Вступительное слово. {foreword.author}", 1)
          for number, foreword in enumerate(book.forewords, 1)),
        PlannedSection("contents", "Содержание", None),
        PlannedSection("geography", book.geography.title, 2, "left"),
        PlannedSection("rules", book.rules.title, 1),
        PlannedSection("winners", "Практики победителей и лидеров", 1, "right"),
        *(PlannedSection(f"practice-{practice.id}", f"{practice.municipality}: разворот", 2, "left")
          for practice in book.practices),
        PlannedSection("padding-pages", "Чистые страницы до полного листа", None),
        PlannedSection("back-cover", "Задняя обложка", 1),
    ]


CONTENTS_ENTRIES_PER_PAGE = 25
"""About how many lines of «Содержание» a page holds: enough to guess where the spreads fall."""


def planned_pages(book: Book) -> dict[str, int]:
    """Where the plan puts each section, the contents counted at CONTENTS_ENTRIES_PER_PAGE: a guess that the
    layout settles, good enough to start laying spreads out on before it has."""
    pages, page = {}, 1
    contents_pages = -(-len(book.listed_anchors) // CONTENTS_ENTRIES_PER_PAGE)
    for section in page_plan(book):
        if (section.opens_on == "left" and page % 2) or (section.opens_on == "right" and not page % 2):
            page += 1
        pages[section.anchor] = page
        page += section.pages if section.pages is not None else contents_pages
    return pages
