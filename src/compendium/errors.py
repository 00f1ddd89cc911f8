"""Located problems in the sources, and the one exception that carries them to the command line."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in the sources, located so an organiser can go straight to it."""

    file: Path
    """Source file, as given to the loader (relative to the working directory when possible)."""
    line: int
    """1-based line in that file; 0 when the problem concerns the file as a whole."""
    field: str
    """Dotted path of the field, e.g. ``results[2].caption``; empty for the whole file."""
    message: str
    """What was expected, in plain words."""

    def __str__(self) -> str:
        location = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        text = f"{location}: {self.field}: {self.message}" if self.field else f"{location}: {self.message}"
        # one problem, one line, and nothing a terminal would obey (ESC, BEL): such characters are shown escaped
        return "".join(repr(character)[1:-1] if _is_control(character) else character for character in text)


def _is_control(character: str) -> bool:
    return character != "\t" and (unicodedata.category(character)[0] == "C" or character in "\u2028\u2029")


class CompendiumError(Exception):
    """Anything the user can fix; the CLI prints it without a traceback."""


class SourceProblems(CompendiumError):
    """The sources cannot be published; every problem found is listed, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[type[SourceProblems], tuple[list[Problem]]]:
        return SourceProblems, (self.problems,)  # so that a worker process can raise it to the build


def display_path(path: Path) -> Path:
    """Shortens a path to be relative to the working directory when it lies inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path
