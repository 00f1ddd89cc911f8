"""Stage 2: check the sources against the model and against each other; build the Collection."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .errors import Problem
from .load import EditionSources, FieldPath, SourceFile, format_path
from .model import SOURCE_MODELS, Collection, Edition, Forewords, Geography, Practice, Record, Rules

_KIND_OF_VALUE = {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number",
                  bool: "yes/no", type(None): "nothing"}


def build_collection(sources: EditionSources) -> tuple[Collection | None, list[Problem]]:
    """Validates every file, then the links between them; all problems are returned together."""
    problems: list[Problem] = []

    def check(source: SourceFile, model: type[Record]) -> Any:
        record, found = validate_file(source, model)
        problems.extend(found)
        return record

    edition: Edition | None = check(sources.edition, SOURCE_MODELS["edition"])
    forewords: Forewords | None = check(sources.forewords, SOURCE_MODELS["forewords"])
    geography: Geography | None = check(sources.geography, SOURCE_MODELS["geography"])
    rules: Rules | None = check(sources.rules, SOURCE_MODELS["rules"])
    practices: list[tuple[SourceFile, Practice]] = []
    for source in sources.practices:
        practice = check(source, SOURCE_MODELS["practice"])
        if practice is not None:
            lines = {str(path[0]): line for path, line in source.lines.items() if len(path) == 1}
            practices.append((source, practice.model_copy(update={"source": source.path, "field_lines": lines})))

    if edition and geography:
        problems.extend(cross_check(edition, geography, sources.geography, practices))
    if problems or not (edition and forewords and geography and rules):
        return None, problems
    ordered = tuple(sorted((practice for _, practice in practices), key=lambda p: p.sort_key))
    collection = Collection(
        directory=sources.directory, edition=edition, forewords=forewords.forewords,
        geography=geography, rules=rules, practices=ordered,
    )
    return collection, []


def validate_file(source: SourceFile, model: type[Record]) -> tuple[Any, list[Problem]]:
    """Validates one file's data against its model, turning each error into a located problem."""
    try:
        return model.model_validate(source.data), []
    except ValidationError as error:
        return None, [_problem(source, model, detail) for detail in error.errors()]


def _problem(source: SourceFile, model: type[Record], error: ErrorDetails) -> Problem:
    path = _data_path(source.data, error["loc"])
    line = source.line_of(path)
    context = error.get("ctx") or {}
    if error["type"] == "prose":
        line = source.text_lines.get(path, line) + int(context.get("line_offset", 0))
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
        elif isinstance(current, dict) and isinstance(part, str) and part not in ("figure", "statement", "text"):
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
        return "is required but missing"
    if kind == "extra_forbidden":
        known = _known_fields(model, path[:-1], source)
        nearest = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.6)
        hint = f"; did you mean `{nearest[0]}`?" if nearest else f"; expected one of: {', '.join(known)}"
        return f"unknown field{hint}"
    if kind in ("string_type", "string_too_short"):
        return f"expected text, got {got}" if kind == "string_type" else "expected text, got nothing"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {got}"
    if kind == "literal_error":
        return f"expected one of {context.get('expected')}, got {error.get('input')!r}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of fields, got {got}"
    if kind == "too_short":
        return f"expected at least {context.get('min_length')} item(s)"
    if kind == "string_pattern_mismatch":
        expected = _PATTERN_MESSAGES.get(str(path[-1]) if path else "", "has an unexpected form")
        return f"{expected}, got {error.get('input')!r}"
    if kind in ("greater_than", "greater_than_equal", "less_than_equal"):
        return f"expected a number {error['msg'].removeprefix('Input should be ')}, got {error.get('input')!r}"
    return error["msg"][0].lower() + error["msg"][1:]


_PATTERN_MESSAGES = {
    "id": "expected a lowercase latin id with hyphens, like anuchinsky-beekeeping",
    "file": "expected a path relative to the edition folder",
    "logo": "expected a path relative to the edition folder",
    "portrait": "expected a path relative to the edition folder",
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
    edition: Edition, geography: Geography, geography_source: SourceFile,
    practices: list[tuple[SourceFile, Practice]],
) -> list[Problem]:
    """Problems no single file shows: unknown regions, duplicate ids, clashing awards, stray years."""
    problems: list[Problem] = []
    region_names = [region.name for region in geography.regions]
    years = set(edition.years)

    seen_regions: dict[str, int] = {}
    for index, region in enumerate(geography.regions):
        if region.name in seen_regions:
            problems.append(Problem(geography_source.path, geography_source.line_of(("regions", index, "name")),
                                    f"regions[{index}].name", f"region «{region.name}» is listed twice"))
        seen_regions[region.name] = index
        for m_index, municipality in enumerate(region.municipalities):
            stray = sorted(set() if municipality.years == "unknown" else set(municipality.years) - years)
            if stray:
                path = ("regions", index, "municipalities", m_index, "years")
                problems.append(Problem(geography_source.path, geography_source.line_of(path), format_path(path),
                                        f"year {stray[0]} is not one of the edition's years {sorted(years)}"))

    first_with_id: dict[str, Path] = {}
    holder_of_place: dict[tuple[int, int | str], Path] = {}
    for source, practice in practices:
        def problem(path: FieldPath, message: str, source: SourceFile = source) -> None:
            problems.append(Problem(source.path, source.line_of(path), format_path(path), message))

        if practice.id in first_with_id:
            problem(("id",), f"id «{practice.id}» is already used by {first_with_id[practice.id]}")
        first_with_id.setdefault(practice.id, source.path)
        if practice.region not in region_names:
            nearest = difflib.get_close_matches(practice.region, region_names, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(f'«{name}»' for name in nearest)}?" if nearest else ""
            problem(("region",), f"region «{practice.region}» is not in geography.yaml{hint}")
        if practice.award.year not in years:
            problem(("award", "year"),
                    f"expected one of the edition's years {sorted(years)}, got {practice.award.year}")
        if practice.award.place != "leader":
            key = (practice.award.year, practice.award.place)
            if key in holder_of_place:
                problem(("award", "place"), f"place {practice.award.place} of {practice.award.year} is already "
                                            f"awarded in {holder_of_place[key]}")
            holder_of_place.setdefault(key, source.path)
    return problems
