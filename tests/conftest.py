"""Shared fixtures: the project's folders and one build of the default edition per test session."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from compendium.paths import ProjectPaths
from compendium.pipeline import BuildResult, build

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EDITION = ROOT / "sources" / "2022-2023"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (links too) by relative path, with a digest of its bytes: two snapshots
    are equal when nothing in the folder was added, removed or changed."""
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() or path.is_symlink()}


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


@pytest.fixture(scope="session")
def default_docx(default_build: BuildResult):
    """The default edition's Word draft, opened with python-docx."""
    import docx

    return docx.Document(str(default_build.outputs["docx"]))


class LibreOffice:
    """Headless LibreOffice Writer with the project's fonts: the real client the draft must open in."""

    def __init__(self, workdir: Path) -> None:
        soffice = shutil.which("soffice")
        if soffice is None:
            pytest.fail("LibreOffice is needed for the Word-draft tests; `make test` installs it "
                        "(apt-get install libreoffice-writer-nogui)")
        self.soffice = soffice
        self.workdir = workdir
        fonts_conf = workdir / "fonts.conf"
        fonts_conf.write_text(
            '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
            '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
            f"<dir>{ROOT / 'assets' / 'fonts'}</dir><cachedir>{workdir / 'fontcache'}</cachedir></fontconfig>"
        )
        self.environment = {**os.environ, "FONTCONFIG_FILE": str(fonts_conf), "HOME": str(workdir)}

    def convert(self, source: Path, target_format: str, outdir: Path) -> Path:
        """Opens ``source`` and saves it as ``target_format`` (docx or pdf) into ``outdir``."""
        outdir.mkdir(parents=True, exist_ok=True)
        filter_name = {"docx": "docx:MS Word 2007 XML", "pdf": "pdf"}[target_format]
        completed = subprocess.run(
            [self.soffice, "--headless", f"-env:UserInstallation=file://{self.workdir / 'profile'}",
             "--convert-to", filter_name, "--outdir", str(outdir), str(source)],
            env=self.environment, capture_output=True, text=True, timeout=180, check=False,
        )
        result = outdir / f"{source.stem}.{target_format}"
        assert result.exists(), f"LibreOffice did not convert {source}: {completed.stdout} {completed.stderr}"
        return result


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory: pytest.TempPathFactory) -> LibreOffice:
    return LibreOffice(tmp_path_factory.mktemp("libreoffice"))
