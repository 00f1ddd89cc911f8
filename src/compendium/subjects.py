"""The subjects of the Russian Federation: codes, official names and the spellings the records may use.

The table is assets/geo/subjects.yaml; region names in the records are matched against it, never
against the names that come with the map's source data.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

Worldview = Literal["ru", "international"]
WORLDVIEWS: tuple[Worldview, ...] = ("ru", "international")


@dataclass(frozen=True)
class Subject:
    code: str
    """ISO 3166-2:RU code, or the project's code where ISO has none."""
    name: str
    """Official name as article 65 of the Constitution lists it."""
    aliases: tuple[str, ...]
    worldviews: tuple[Worldview, ...]


@dataclass(frozen=True)
class SubjectTable:
    subjects: tuple[Subject, ...]

    def find(self, name: str) -> Subject | None:
        """The subject a region name means, whatever its case, «ё» or dash."""
        return self._by_spelling().get(_spelling_key(name))

    def nearest_names(self, name: str, count: int = 3) -> list[str]:
        """Official names closest to a name that matched none."""
        spellings = self._by_spelling()
        keys = difflib.get_close_matches(_spelling_key(name), list(spellings), n=count * 3, cutoff=0.6)
        names = dict.fromkeys(spellings[key].name for key in keys)
        return list(names)[:count]

    def in_worldview(self, worldview: Worldview) -> tuple[Subject, ...]:
        return tuple(subject for subject in self.subjects if worldview in subject.worldviews)

    @cache  # noqa: B019 - the table is immutable and lives as long as the process
    def _by_spelling(self) -> dict[str, Subject]:
        return {_spelling_key(spelling): subject
                for subject in self.subjects for spelling in (subject.name, *subject.aliases)}


def _spelling_key(name: str) -> str:
    text = name.casefold().replace("ё", "е")
    text = re.sub(r"\s+[-‐‑–—]\s+", " — ", text)
    return re.sub(r"\s+", " ", text).strip()


@cache
def load_subjects(path: Path) -> SubjectTable:
    """Reads the committed table; it is project data, so a broken table is a bug, not a user error."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))["subjects"]
    return SubjectTable(tuple(
        Subject(row["code"], row["name"], tuple(row.get("aliases", ())), tuple(row["worldviews"])) for row in rows
    ))
