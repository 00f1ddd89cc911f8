"""The benchmark's synthetic editions are valid editions of the asked size, with or without photographs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compendium.paths import ProjectPaths
from compendium.pictures import check_picture
from compendium.pipeline import BuildResult, load_collection

from .conftest import DEFAULT_EDITION

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import generate  # the benchmark's own scripts
from run import FINAL_HTML


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


def test_the_floor_is_given_the_pipelines_final_html_for_each_profile(default_build: BuildResult,
                                                                       project: ProjectPaths, tmp_path: Path) -> None:
    # the floor's script runs in its own interpreter, so only running it shows that its imports still resolve
    printed = subprocess.run([sys.executable, "-c", FINAL_HTML, str(project.root), str(DEFAULT_EDITION), str(tmp_path),
                              str(default_build.outputs["pdf"])], capture_output=True, text=True, check=True).stdout
    jobs = json.loads(printed)
    assert [Path(html).name for html, *_ in jobs] == ["print.html", "screen.html"]
    assert all("Содержание" in Path(html).read_text(encoding="utf-8") for html, *_ in jobs)
