"""Shared fixtures: the project's folders and one build of the default edition per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from compendium.paths import ProjectPaths
from compendium.pipeline import BuildResult, build

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EDITION = ROOT / "sources" / "2022-2023"


@pytest.fixture(scope="session")
def project() -> ProjectPaths:
    return ProjectPaths(ROOT)


@pytest.fixture(scope="session")
def default_build(project: ProjectPaths, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(DEFAULT_EDITION, project, output_root=tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="session")
def default_pdf(default_build: BuildResult) -> PdfReader:
    return PdfReader(default_build.outputs["pdf"])


@pytest.fixture
def edition_copy(tmp_path: Path) -> Path:
    """A scratch copy of the default edition that a test may change."""
    target = tmp_path / "2022-2023"
    shutil.copytree(DEFAULT_EDITION, target)
    return target
