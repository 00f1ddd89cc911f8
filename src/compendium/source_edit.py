"""Changes values inside a record file and keeps every other byte: comments, key order, quoting.

ruamel.yaml's round-trip mode does the work. Before touching a file we check that it survives a
load and dump unchanged with our settings; a file written in another style is refused rather
than silently reformatted.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString, ScalarString

from .errors import CompendiumError
from .load import FieldPath

# The records' layout: two-space mappings, list dashes indented by two; the settings tried in turn.
_LAYOUTS = ((2, 4, 2), (2, 2, 0))

Value = str | int | tuple[str, ...]


def edit_yaml(text: str, changes: Sequence[tuple[FieldPath, Value]], shown_name: str) -> str:
    """Returns ``text`` with each field at its path set to the new value; nothing else changes."""
    yaml, data = _round_trip(text, shown_name)
    for path, value in changes:
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        old = parent[key]
        if isinstance(value, tuple):
            _replace_items(parent[key], value)
        else:
            parent[key] = _like(old, value)
    output = io.StringIO()
    yaml.dump(data, output)
    return output.getvalue()


def _round_trip(text: str, shown_name: str) -> tuple[YAML, Any]:
    for mapping, sequence, offset in _LAYOUTS:
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.width = 4096  # never fold a long line
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        data = yaml.load(text)
        output = io.StringIO()
        yaml.dump(data, output)
        if output.getvalue() == text:
            return yaml, data
    raise CompendiumError(
        f"{shown_name}: cannot be edited without reformatting it (its indentation or quoting differs from the "
        "other records); indent mappings by 2 spaces and list dashes by 2, then import again"
    )


def _like(old: Any, new: str | int) -> Any:
    """The new value in the old value's YAML form: a block stays a block, quotes stay quotes."""
    if isinstance(old, int) and not isinstance(old, bool):
        return int(new)
    text = str(new)
    if isinstance(old, (LiteralScalarString, FoldedScalarString)):
        # a block ends with a newline unless it was written with |- (strip)
        keep_end = str(old).endswith("\n")
        return LiteralScalarString(text.rstrip("\n") + ("\n" if keep_end else ""))
    if "\n" in text.strip("\n"):
        return LiteralScalarString(text.rstrip("\n") + "\n")
    if isinstance(old, ScalarString):
        return type(old)(text)
    return text


def _replace_items(items: CommentedSeq | CommentedMap, new: tuple[str, ...]) -> None:
    """Changes a list item by item, so untouched items keep their comments and quoting."""
    old = [str(item) for item in items]
    matcher = difflib.SequenceMatcher(a=old, b=list(new), autojunk=False)
    for tag, first, last, new_first, new_last in reversed(matcher.get_opcodes()):
        if tag == "equal":
            continue
        replaced = [items[index] for index in range(first, last)]
        del items[first:last]
        for offset, value in enumerate(new[new_first:new_last]):
            template = replaced[offset] if offset < len(replaced) else (items[0] if len(items) else "")
            items.insert(first + offset, _like(template, value))

