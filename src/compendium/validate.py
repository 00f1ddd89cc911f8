"""Stage 2: check the sources against the model and against each other; build the Collection."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .characters import unprintable_characters
from .errors import Problem
from .load import EditionSources, FieldPath, SourceFile, format_path
from .model import (
    SOURCE_MODELS,
    Collection,
    Edition,
    Forewords,
    Geography,
    Practice,
    Record,
    Rules,
    SourceLocation,
    picture_fields,
)
from .pictures import check_picture
from .subjects import SubjectTable

MISSING = "is required but missing"
_KIND_OF_VALUE = {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number",
                  bool: "yes/no", type(None): "nothing"}


def build_collection(sources: EditionSources, subjects: SubjectTable, coverage: frozenset[int]
                     ) -> tuple[Collection | None, list[Problem]]:
    """Validates every readable file, then the links between them; all problems are returned together.
    ``coverage`` is the characters the book's fonts print (`characters.font_coverage`)."""
    problems: list[Problem] = []

    def check(source: SourceFile | None, kind: str) -> Any:
        if source is None:  # unreadable: already reported by the loader
            return None
        record, found = validate_file(source, SOURCE_MODELS[kind])
        problems.extend(found)
        file_names = {path for path, _ in picture_fields(record)} if record is not None else set()
        problems.extend(unprintable_characters(source, coverage, file_names))
        return record

    edition: Edition | None = check(sources.edition, "edition")
    forewords: Forewords | None = check(sources.forewords, "forewords")
    geography: Geography | None = check(sources.geography, "geography")
    rules: Rules | None = check(sources.rules, "rules")
    practices = [(source, practice) for source in sources.practices if (practice := check(source, "practice"))]

    problems.extend(cross_check(edition, geography, sources.geography, practices))
    problems.extend(check_pictures(sources.directory, [(sources.edition, edition), (sources.forewords, forewords),
                                                       *practices]))
    region_codes, unknown_regions = resolve_regions(geography, sources.geography, subjects, edition)
    problems.extend(unknown_regions)
    if problems or not (edition and forewords and geography and rules):
        return None, problems
    collection = Collection(
        directory=sources.directory,
        edition=edition,
        forewords=forewords.forewords,
        geography=geography,
        rules=rules,
        practices=tuple(sorted((practice for _, practice in practices), key=lambda p: p.sort_key)),
        locations={practice.id: _location(source) for source, practice in practices},
        region_codes=region_codes,
    )
    return collection, []


def _location(source: SourceFile) -> SourceLocation:
    lines = {str(path[0]): line for path, line in source.lines.items() if len(path) == 1}
    return SourceLocation(file=source.path, lines=lines)


def validate_file(source: SourceFile, model: type[Record]) -> tuple[Any, list[Problem]]:
    """Validates one file's data against its model, turning each error into a located problem."""
    try:
        return model.model_validate(source.data), []
    except ValidationError as error:
        problems = [_problem(source, model, detail) for detail in error.errors()]
    # A misspelt key is one mistake: keep «unknown field; did you mean `x`?», drop «x is missing».
    suggested = {(p.field.rsplit(".", 1)[0] if "." in p.field else "", m.group(1))
                 for p in problems if (m := re.search(r"did you mean `([^`]+)`", p.message))}
    return None, [
        p for p in problems
        if not (p.message == MISSING and (p.field.rpartition(".")[0], p.field.rpartition(".")[2]) in suggested)
    ]


def _problem(source: SourceFile, model: type[Record], error: ErrorDetails) -> Problem:
    path = _data_path(source.data, error["loc"])
    line = source.line_of(path)
    context = error.get("ctx") or {}
    if error["type"] == "prose" and path in source.text_lines:
        line = source.text_lines[path] + int(context.get("line_offset", 0))
    return Problem(source.path, line, format_path(path), _message(error, path, source, model))


def _data_path(data: Any, loc: tuple[Any, ...]) -> FieldPath:
    """Pydantic's error location, less the union tags that are not in the YAML."""
    path: list[str | int] = []
    current = data
    for part in loc:
        in_mapping = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
        if in_mapping or in_list:
            current = current[part]
        elif isinstance(part, str) and part.startswith("kind:"):
            continue  # which kind of result pydantic tried: not a key of the YAML
        elif isinstance(current, dict) and isinstance(part, str):
            path.append(part)  # a missing key still names the field
            break
        else:
            continue
        path.append(part)
    return tuple(path)


def _message(error: ErrorDetails, path: FieldPath, source: SourceFile, model: type[Record]) -> str:
    kind = error["type"]
    got = _KIND_OF_VALUE.get(type(error.get("input")), "something else")
    context = error.get("ctx") or {}
    if kind == "missing":
        return MISSING
    if kind == "extra_forbidden":
        known = _known_fields(model, path[:-1], source)
        nearest = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.6)
        hint = f"; did you mean `{nearest[0]}`?" if nearest else f"; expected one of: {', '.join(known)}"
        return f"unknown field{hint}"
    if kind in ("string_type", "string_too_short"):
        return f"expected text, got {got}" if kind == "string_type" else "expected text, got nothing"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        value = error.get("input")
        shown = repr(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else got
        return f"expected a whole number, got {shown}"
    if kind == "literal_error":
        return f"expected one of {context.get('expected')}, got {error.get('input')!r}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of fields, got {got}"
    if kind == "too_short":
        return f"expected at least {context.get('min_length')} item(s)"
    if kind == "string_pattern_mismatch":
        field = next((str(part) for part in reversed(path) if isinstance(part, str)), "")
        expected = _PATTERN_MESSAGES.get(field, "has an unexpected form")
        return f"{expected}, got {error.get('input')!r}"
    if kind in ("greater_than", "greater_than_equal", "less_than_equal"):
        return f"expected a number {error['msg'].removeprefix('Input should be ')}, got {error.get('input')!r}"
    return error["msg"][0].lower() + error["msg"][1:]


_PATTERN_MESSAGES = {
    "id": "expected a lowercase latin id with hyphens, like anuchinsky-beekeeping",
    "file": "expected a path inside the edition folder, such as photos/visit.jpg",
    "logo": "expected a path inside the edition folder, such as logos/csr.svg",
    "portrait": "expected a path inside the edition folder, such as portraits/smelov.jpg",
    "links": "expected a web address starting with https:// or http://",
}


def _known_fields(model: type[Record], parent: FieldPath, source: SourceFile) -> list[str]:
    """Field names allowed where an unknown key was found, walking the model along the path."""
    current: Any = model
    data: Any = source.data
    for part in parent:
        data = data[part]
        if isinstance(part, int):
            continue
        annotation = current.model_fields[part].annotation
        current = _record_in(annotation, data)
        if current is None:
            return []
    return list(current.model_fields) if current else []


def _record_in(annotation: Any, data: Any) -> type[Record] | None:
    """The record class inside an annotation such as ``tuple[Region, ...]`` or ``Quote | None``."""
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, Record):
        return annotation
    for argument in get_args(annotation):
        found = _record_in(argument, data)
        if found and (not isinstance(data, dict) or set(data) & set(found.model_fields)):
            return found
    return None


def cross_check(
    edition: Edition | None, geography: Geography | None, geography_source: SourceFile | None,
    practices: list[tuple[SourceFile, Practice]],
) -> list[Problem]:
    """Problems no single file shows: unknown regions, duplicate ids, clashing awards, stray years.

    Each check runs with whatever files are valid, so one broken file does not hide the rest.
    """
    problems: list[Problem] = []
    years = set(edition.years) if edition else None
    region_names = [region.name for region in geography.regions] if geography else None

    if geography and geography_source:
        seen_regions: set[str] = set()
        for index, region in enumerate(geography.regions):
            if region.name in seen_regions:
                path: FieldPath = ("regions", index, "name")
                problems.append(Problem(geography_source.path, geography_source.line_of(path), format_path(path),
                                        f"region «{region.name}» is listed twice"))
            seen_regions.add(region.name)
            for m_index, municipality in enumerate(region.municipalities):
                if years is None or municipality.years == "unknown":
                    continue
                stray = sorted(set(municipality.years) - years)
                if stray:
                    path = ("regions", index, "municipalities", m_index, "years")
                    problems.append(Problem(geography_source.path, geography_source.line_of(path),
                                            format_path(path),
                                            f"year {stray[0]} is not one of the edition's years {sorted(years)}"))

    first_with_id: dict[str, Path] = {}
    holder_of_place: dict[tuple[int, int | str], Path] = {}
    for source, practice in practices:
        def problem(path: FieldPath, message: str, source: SourceFile = source) -> None:
            problems.append(Problem(source.path, source.line_of(path), format_path(path), message))

        if source.path.stem != practice.id:
            problem(("id",), f"expected «{source.path.stem}», the file's name; the PDF of this practice and "
                             f"links to it are named by its id (or rename the file to {practice.id}.yaml)")
        if practice.id in first_with_id:
            problem(("id",), f"id «{practice.id}» is already used by {_in_edition(first_with_id[practice.id])}")
        first_with_id.setdefault(practice.id, source.path)
        if region_names is not None and practice.region not in region_names:
            nearest = difflib.get_close_matches(practice.region, region_names, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(f'«{name}»' for name in nearest)}?" if nearest else ""
            problem(("region",), f"region «{practice.region}» is not in geography.yaml{hint}")
        if years is not None and practice.award.year not in years:
            problem(("award", "year"),
                    f"expected one of the edition's years {sorted(years)}, got {practice.award.year}")
        if practice.award.place != "leader":
            key = (practice.award.year, practice.award.place)
            if key in holder_of_place:
                problem(("award", "place"), f"place {practice.award.place} of {practice.award.year} is already "
                                            f"awarded in {_in_edition(holder_of_place[key])}")
            holder_of_place.setdefault(key, source.path)
    return problems


def check_pictures(directory: Path, records: list[tuple[SourceFile | None, Record | None]]) -> list[Problem]:
    """Every picture the valid records name must be a safe, readable file inside the edition folder."""
    problems = []
    for source, record in records:
        if source is None or record is None:
            continue
        for path, relative in picture_fields(record):
            if message := check_picture(directory, relative):
                problems.append(Problem(source.path, source.line_of(path), format_path(path), message))
    return problems


def resolve_regions(
    geography: Geography | None, source: SourceFile | None, subjects: SubjectTable, edition: Edition | None,
) -> tuple[dict[str, str], list[Problem]]:
    """The subject code of each region, matched against the official table; the map needs every one."""
    if geography is None or source is None:
        return {}, []
    worldview = edition.map.worldview if edition else None
    codes: dict[str, str] = {}
    problems: list[Problem] = []
    region_of_code: dict[str, str] = {}
    for index, region in enumerate(geography.regions):
        path: FieldPath = ("regions", index, "name")

        def problem(message: str, path: FieldPath = path) -> None:
            problems.append(Problem(source.path, source.line_of(path), format_path(path), message))

        subject = subjects.find(region.name)
        if subject is None:
            nearest = subjects.nearest_names(region.name)
            hint = f"; did you mean {', '.join(f'«{name}»' for name in nearest)}?" if nearest else ""
            problem(f"expected the name of a subject of the Russian Federation, got «{region.name}»{hint}")
            continue
        if worldview and worldview not in subject.worldviews:
            problem(f"«{region.name}» is not drawn on the `{worldview}` map; "
                    f"set map.worldview in edition.yaml to {' or '.join(f'`{w}`' for w in subject.worldviews)}")
        if subject.code in region_of_code and region_of_code[subject.code] != region.name:
            problem(f"«{region.name}» is the same subject as «{region_of_code[subject.code]}» listed above")
        region_of_code.setdefault(subject.code, region.name)
        codes[region.name] = subject.code
    return codes, problems


def _in_edition(path: Path) -> str:
    """A practice file named as organisers see it inside the edition: practices/<id>.yaml."""
    return f"{path.parent.name}/{path.name}"
