"""The benchmark's synthetic editions are valid editions of the asked size, with or without photographs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from compendium.paths import ProjectPaths
from compendium.pictures import check_picture
from compendium.pipeline import load_collection

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import generate  # the benchmark's own script


@pytest.mark.parametrize("pictures", [False, True], ids=["without-pictures", "with-pictures"])
def test_a_synthetic_edition_validates_with_every_practice_distinct(tmp_path: Path, pictures: bool) -> None:
    edition = generate(23, tmp_path / "bench-23", pictures)

    collection = load_collection(edition, ProjectPaths(Path(__file__).resolve().parents[1]))

    assert len(collection.practices) == 23
    assert len({practice.id for practice in collection.practices}) == 23
    assert len({practice.title for practice in collection.practices}) == 23
    photos = [photo.file for practice in collection.practices for photo in practice.photos]
    assert len(set(photos)) == (23 if pictures else 0)
    assert all(check_picture(edition, photo) is None for photo in photos)
