"""Stage 1: read the YAML sources into plain data that remembers the line of every field."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, display_path

FieldPath = tuple[str | int, ...]

# An alias may point at a large subtree many times over ("billion laughs"); past this many
# nodes a source is not a hand-written record any more.
MAX_NODES = 200_000
# What the safe loader builds from untagged YAML; an explicit tag asks for anything else (!!python/…, !include)
_PLAIN_DATA_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "str", "timestamp",
                                                             "seq", "map")}
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class SourceFile:
    """One YAML file read into plain Python data, with a line for every field path."""

    path: Path
    """The file, as shown in messages."""
    data: Any
    """The parsed content: dicts, lists, str, int, float, bool, None."""
    lines: dict[FieldPath, int] = field(repr=False)
    """1-based line where each field (key, or list item) starts."""
    text_lines: dict[FieldPath, int] = field(repr=False)
    """1-based line where a literal block's text starts (the line after ``|``), so that line n of the text is
    line n of the file from there; other scalars fold or escape their line breaks and have no entry."""

    def line_of(self, path: FieldPath) -> int:
        """The line of a field, or of its nearest ancestor that is in the file (a missing key).

        A missing top-level field points at the file's first field, past any leading comments.
        """
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return min(self.lines.values(), default=1)


@dataclass(frozen=True)
class EditionSources:
    """The source files of one edition that could be read; an unreadable file is None."""

    directory: Path
    edition: SourceFile | None
    forewords: SourceFile | None
    geography: SourceFile | None
    rules: SourceFile | None
    practices: tuple[SourceFile, ...]


class _Reader:
    """Converts a composed YAML node tree to plain data, recording where each field stood."""

    def __init__(self, path: Path, loader: yaml.SafeLoader) -> None:
        self.path = path
        self.loader = loader
        self.lines: dict[FieldPath, int] = {}
        self.text_lines: dict[FieldPath, int] = {}
        self.problems: list[Problem] = []
        self.nodes_seen = 0

    def convert(self, node: yaml.Node, path: FieldPath, active: frozenset[int]) -> Any:
        self.nodes_seen += 1
        if self.nodes_seen > MAX_NODES:
            raise _TooLarge(node.start_mark.line + 1)
        if id(node) in active:
            self._problem(node, path, "an alias refers to itself; expected plain data")
            return None
        if node.tag not in _PLAIN_DATA_TAGS:
            shown_tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._problem(node, path, f"the tag {shown_tag} is not allowed; records hold plain text, numbers, "
                                      "lists and fields only")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, active | {id(node)})
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.convert(item, (*path, index), active | {id(node)}))
            return items
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: FieldPath, active: frozenset[int]) -> dict:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, path, "expected a plain name as the key")
                continue
            # the key as typed: `yes:` is the name «yes», not True
            key = unicodedata.normalize("NFC", key_node.value)
            line = key_node.start_mark.line + 1
            if key in result:
                first = self.lines[(*path, key)]
                self._problem(key_node, (*path, key), f"duplicate key; it is already set on line {first}")
                continue
            self.lines[(*path, key)] = line
            result[key] = self.convert(value_node, (*path, key), active)
        return result

    def _scalar(self, node: yaml.Node, path: FieldPath) -> Any:
        if getattr(node, "style", None) == "|":  # only a literal block keeps the file's line breaks as they are
            self.text_lines[path] = node.start_mark.line + 2
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as error:
            self._problem(node, path, f"unsupported value ({error.problem}); expected plain text or a number")
            return None
        except Exception:  # PyYAML's constructors raise whatever Python raises on bad input
            # A scalar that only looks like a date or a number (2023-02-30, 0x_, !!int abc): keep it as
            # typed, so the model judges it against its field instead of the reader crashing. PyYAML
            # leaves the failed node marked as in progress; an alias to it would then read as recursive.
            self.loader.recursive_objects.pop(node, None)
            value = node.value
        if isinstance(value, str):
            if _SURROGATE.search(value):
                try:
                    # "\ud83d\ude00" is how JSON tools escape one character beyond U+FFFF: join the halves
                    value = value.encode("utf-16", "surrogatepass").decode("utf-16")
                except UnicodeDecodeError:
                    self._problem(node, path, "holds half of an escaped character (a lone \\uD800-\\uDFFF); "
                                  "write the character itself")
                    return None
            return unicodedata.normalize("NFC", value)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        return str(value)  # dates and the like stay as the organiser typed them

    def _problem(self, node: yaml.Node, path: FieldPath, message: str) -> None:
        self.problems.append(Problem(self.path, node.start_mark.line + 1, format_path(path), message))


class _TooLarge(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def format_path(path: FieldPath) -> str:
    """``("results", 2, "caption")`` → ``results[2].caption``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def read_yaml(path: Path) -> tuple[SourceFile | None, list[Problem]]:
    """Reads one YAML file; returns the data or the problems that stop it being read."""
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        return None, [Problem(shown, 0, "", f"cannot be read ({error.strerror}); expected a YAML file")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return None, [
            Problem(shown, line, "", f"is not UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start}); "
                    "save the file as UTF-8")
        ]
    text = text.replace("\r\n", "\n")
    try:
        yaml.reader.Reader(text)
    except yaml.reader.ReaderError as error:
        # checked before any parsing: a vertical tab pasted from Word, say, or a stray NUL
        line = text.count("\n", 0, error.position) + 1
        return None, [Problem(shown, line, "", f"holds an invisible character U+{error.character:04X} that YAML "
                              "does not allow; delete it")]
    loader, root, error = _compose(text, _FAST_LOADER)
    if error is not None:  # PyYAML's own parser says what is wrong in the words the explanations know
        loader, root, error = _compose(text, yaml.SafeLoader)
    if isinstance(error, yaml.MarkedYAMLError):
        return None, [Problem(shown, *_explain_yaml_error(error))]
    if error is not None:
        raise error
    if root is None:
        return None, [Problem(shown, 0, "", "is empty; expected a mapping of fields")]
    if not isinstance(root, yaml.MappingNode):
        return None, [Problem(shown, root.start_mark.line + 1, "", "expected a mapping of fields at the top level")]
    reader = _Reader(shown, loader)
    try:
        data = reader.convert(root, (), frozenset())
    except _TooLarge as error:
        return None, [Problem(shown, error.line, "", f"expands to more than {MAX_NODES} values through aliases")]
    if reader.problems:
        return None, reader.problems
    return SourceFile(shown, data, reader.lines, reader.text_lines), []


# libyaml's parser, when PyYAML was built with it, composes a record ten times faster than PyYAML's own;
# both resolve and construct values with the same Python code
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str, loader_class: type[yaml.SafeLoader]
             ) -> tuple[yaml.SafeLoader, yaml.Node | None, yaml.YAMLError | None]:
    loader = loader_class(text)
    try:
        return loader, loader.get_single_node(), None
    except yaml.YAMLError as error:
        return loader, None, error
    finally:
        loader.dispose()


def _explain_yaml_error(error: yaml.MarkedYAMLError) -> tuple[int, str, str]:
    """(line, field, message) for a YAML syntax error, in words an organiser can act on."""
    problem, context = error.problem or "", error.context or ""
    problem_line = error.problem_mark.line + 1 if error.problem_mark else 0
    context_line = error.context_mark.line + 1 if error.context_mark else problem_line
    if "'\\t'" in problem:
        return problem_line, "", "a tab is used for indentation; indent with spaces"
    if context == "while scanning an alias":
        return problem_line, "", ("a value starting with * is read as a YAML alias; put the value in quotes, "
                                  "e.g. '**bold** text'")
    if "end of stream" in problem and context:
        return context_line, "", f"is not valid YAML: {context} that starts here is never closed"
    if "mapping values are not allowed" in problem:
        return problem_line, "", ("is not valid YAML: a value holds «: »; put the whole value in quotes "
                                  "or write it as a block with |")
    if "another document" in problem:
        return problem_line, "", "holds a second YAML document (a line ---); expected a single document"
    where = f" ({context} on line {context_line})" if context and context_line != problem_line else ""
    return problem_line, "", f"is not valid YAML: {problem}{where}"


def load_edition(directory: Path) -> tuple[EditionSources | None, list[Problem]]:
    """Reads every file of an edition; unreadable files are reported, the readable ones still returned."""
    problems: list[Problem] = []
    if not directory.is_dir():
        return None, [Problem(display_path(directory), 0, "", "is not a directory; expected an edition folder")]

    def read(path: Path) -> SourceFile | None:
        source, found = read_yaml(path)
        problems.extend(found)
        return source

    edition, forewords, geography, rules = (
        read(directory / name) for name in ("edition.yaml", "forewords.yaml", "geography.yaml", "rules.yaml")
    )
    practice_paths = sorted((directory / "practices").glob("*.yaml"))
    if not practice_paths:
        folder = display_path(directory / "practices")
        problems.append(Problem(folder, 0, "", "holds no practice files; expected one <id>.yaml per practice"))
    practices = tuple(practice for practice in map(read, practice_paths) if practice)
    return EditionSources(directory, edition, forewords, geography, rules, practices), problems
