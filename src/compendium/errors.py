"""Located problems, in the sources or in the folders a build writes to, and the exceptions that carry them."""

from __future__ import annotations

import errno
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


class DiskProblem(CompendiumError):
    """A folder the build writes to could not take what it wrote: the disk is full, or the folder is read-only
    or not the user's to write to. The machine's fault, not the sources': said once, with the folder."""

    FAULTS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
    """What `of` has words for; any other error of the system is a bug, and stays a traceback."""

    @classmethod
    def of(cls, error: OSError, folder: Path, beside_outputs: bool = True) -> DiskProblem:
        """The message for ``error`` (one of `FAULTS`), raised writing into ``folder``: the output folder, the
        cache or the folder holding them, unless not ``beside_outputs`` (a full disk elsewhere)."""
        shown = f"{display_path(folder)}/"
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            what = (f"{shown}: на диске не осталось места (или кончилась квота); освободите место на диске"
                    + (" или укажите другую папку через --output" if beside_outputs else ""))
        elif error.errno == errno.EROFS:
            what = f"папка {shown} только для чтения: укажите другую через --output"
        else:
            what = (f"нет прав на запись в {shown}: дайте их пользователю, от имени которого идёт сборка, "
                    "или укажите другую папку через --output")
        return cls(f"{what}. Прежние результаты сборки остались как были.")

    @classmethod
    def of_records(cls, error: OSError, folder: Path) -> DiskProblem:
        """The message for ``error`` (one of `FAULTS`), raised writing a draft's edits into the records."""
        shown = f"{display_path(folder)}/"
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            what = f"на диске с {shown} не осталось места (или кончилась квота): освободите место"
        elif error.errno == errno.EROFS:
            what = f"папка {shown} только для чтения: скопируйте издание туда, где его можно менять"
        else:
            what = f"нет прав на запись в {shown}: дайте их пользователю, от имени которого идёт импорт"
        return cls(f"правки из черновика не записаны, {what}. Записи остались как были.")


def display_path(path: Path) -> Path:
    """Shortens a path to be relative to the working directory when it lies inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path
