"""The machine's faults while a build writes: a full disk, a read-only output folder, a missing permission.

Each ends in one message naming the folder and what to do, with no traceback from any process, and leaves
the previous outputs as they were. The tests run as root, whom no permission stops, and may not mount a
small disk: the real command line runs under a wrapper that makes the system calls which create files and
folders fail as the system would, in the command's process or in its layout workers only.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compendium import pipeline, write
from compendium.paths import ProjectPaths
from compendium.pipeline import CACHE, build

from .conftest import snapshot

ROOT = Path(__file__).resolve().parents[1]
PRACTICE = Path("practices") / "anuchinsky-beekeeping.yaml"
PROGRESS = re.compile(r"\[\s*\d+\.\d s\] ")
KEPT = "Прежние результаты сборки остались как были."
MULTICORE = len(os.sched_getaffinity(0)) > 1

# `compendium` with the creation of files and folders whose path matches a pattern failing with an errno: in the
# command's own process, in its workers (forked from it, so they inherit the wrapper), or in any
FAULTY_COMMAND = r'''
import builtins, fnmatch, io, os, sys

code, pattern, only_in = int(sys.argv[1]), sys.argv[2], sys.argv[3]
sys.argv[0:4] = ["compendium"]
command = os.getpid()


def refuse(path, writing):
    if not writing or not isinstance(path, (str, bytes, os.PathLike)):
        return
    name = os.path.abspath(os.fsdecode(path))
    where = "worker" if os.getpid() != command else "command"
    if fnmatch.fnmatch(name, pattern) and only_in in ("any", where):
        raise OSError(code, os.strerror(code), name)


real_open, real_os_open, real_mkdir = io.open, os.open, os.mkdir


def faulty_open(file, mode="r", *rest, **named):
    refuse(file, any(flag in mode for flag in "wax+"))
    return real_open(file, mode, *rest, **named)


def faulty_os_open(path, flags, *rest, **named):
    refuse(path, flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
    return real_os_open(path, flags, *rest, **named)


def faulty_mkdir(path, *rest, **named):
    refuse(path, not os.path.exists(path) and os.path.isdir(os.path.dirname(os.path.abspath(path))))
    return real_mkdir(path, *rest, **named)


builtins.open = io.open = faulty_open
os.open, os.mkdir = faulty_os_open, faulty_mkdir

from compendium.command import main

main()
'''


@pytest.fixture
def built(edition_copy: Path, project: ProjectPaths, tmp_path: Path) -> Path:
    """The output root, holding a build of the edition's copy (the screen PDF only) and its cache."""
    build(edition_copy, project, output_root=tmp_path / "out", profiles=("screen",))
    return tmp_path / "out"


def build_failing(edition: Path, output: Path, code: int, pattern: str, only_in: str = "any") -> str:
    """Builds with the fault; asserts it ends in exit status 2 with no traceback; gives what it printed on stderr
    besides its progress."""
    done = subprocess.run([sys.executable, "-c", FAULTY_COMMAND, str(code), pattern, only_in,
                           "build", str(edition), "--profile", "screen", "--output", str(output)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert done.returncode == 2, done.stdout + done.stderr
    return "\n".join(line for line in done.stderr.splitlines() if not PROGRESS.match(line))


def hidden_folders(output: Path) -> list[str]:
    return sorted(path.name for path in output.iterdir() if path.name.startswith(".") and path.is_dir())


def test_a_full_disk_met_by_a_layout_worker_is_one_message_naming_the_cache(edition_copy: Path, built: Path) -> None:
    previous = snapshot(built / edition_copy.name)
    practice = edition_copy / PRACTICE  # an edit, so that a worker lays its spread out again
    practice.write_text(practice.read_text(encoding="utf-8").replace("Андрей Янчук", "Андрей Пасечников"),
                        encoding="utf-8")

    printed = build_failing(edition_copy, built, errno.ENOSPC, f"{built}/{CACHE}/*/screen/*",
                            "worker" if MULTICORE else "any")

    assert printed == (f"error: {built / CACHE / edition_copy.name}/: на диске не осталось места (или кончилась "
                       f"квота); освободите место на диске или укажите другую папку через --output. {KEPT}")
    assert snapshot(built / edition_copy.name) == previous
    assert hidden_folders(built) == [CACHE]


def test_an_unchanged_rebuild_into_a_read_only_folder_is_refused_before_it_starts(edition_copy: Path,
                                                                                   built: Path) -> None:
    """A build writes its cache and its outputs, the same bytes or not: it can do nothing in a read-only folder,
    and says so as it takes the edition's lock, the first file it writes, before the records are read."""
    previous = snapshot(built)

    printed = build_failing(edition_copy, built, errno.EROFS, f"{built}*")

    assert printed == f"error: папка {built}/ только для чтения: укажите другую через --output. {KEPT}"
    assert snapshot(built) == previous


def test_an_output_folder_that_cannot_be_made_names_the_folder_that_refused_it(edition_copy: Path,
                                                                              tmp_path: Path) -> None:
    (tmp_path / "read-only").mkdir()

    refused = f"error: папка {tmp_path / 'read-only'}/ только для чтения: укажите другую через --output. {KEPT}"
    for output in (tmp_path / "read-only" / "out", tmp_path / "read-only" / "new" / "out"):
        assert build_failing(edition_copy, output, errno.EROFS, f"{tmp_path}/read-only/*") == refused


@pytest.mark.parametrize(("code", "message"), [
    (errno.ENOSPC, "{}/: на диске не осталось места (или кончилась квота); освободите место на диске или укажите "
                   "другую папку через --output"),
    (errno.EACCES, "нет прав на запись в {}/: дайте их пользователю, от имени которого идёт сборка, или укажите "
                   "другую папку через --output"),
])
def test_a_fault_staging_the_outputs_is_one_message_naming_the_output_folder(edition_copy: Path, built: Path,
                                                                           code: int, message: str) -> None:
    previous = snapshot(built / edition_copy.name)

    printed = build_failing(edition_copy, built, code, f"{built}/.{edition_copy.name}.staging-*/*", "command")

    assert printed == f"error: {message.format(built)}. {KEPT}"
    assert snapshot(built / edition_copy.name) == previous
    assert hidden_folders(built) == [CACHE]


def test_a_full_disk_met_writing_an_open_file_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The system names no file when a write to an open one fails; the build's message needs its folder."""
    real_fdopen = os.fdopen

    def onto_a_full_disk(handle: int, *arguments: object, **named: object) -> object:
        os.close(handle)
        return real_fdopen(os.open("/dev/full", os.O_WRONLY), *arguments, **named)  # every write: ENOSPC

    monkeypatch.setattr(write.os, "fdopen", onto_a_full_disk)
    target = tmp_path / "kept.json"
    with pytest.raises(OSError) as raised:
        write.replace_file(target, b"{}")

    assert (raised.value.errno, raised.value.filename) == (errno.ENOSPC, str(target))
    assert list(tmp_path.iterdir()) == []


def test_a_permission_refused_outside_the_output_folder_is_not_taken_for_the_outputs(
        edition_copy: Path, project: ProjectPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = project.layouts / "pdf" / "book.css"

    def unreadable_layout(*_: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(layout))

    monkeypatch.setattr(pipeline, "load_collection", unreadable_layout)
    with pytest.raises(PermissionError):
        build(edition_copy, project, output_root=tmp_path / "out")


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_drafts_edits_that_the_records_folder_cannot_take_are_one_message(edition_copy: Path, code: int,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from compendium.errors import DiskProblem
    from compendium.import_docx import FileEdit

    record = edition_copy / PRACTICE
    before = record.read_bytes()

    def refused(*_: object, **__: object) -> None:
        raise OSError(code, os.strerror(code), str(record.parent / ".anuchinsky-beekeeping.yaml.part"))

    monkeypatch.setattr(write.tempfile, "mkstemp", refused)
    text = before.decode()
    with pytest.raises(DiskProblem) as problem:
        pipeline.write_sources([FileEdit(record, text, text.replace("Анучинский", "Анучинский-2", 1))])
    assert str(problem.value).startswith("правки из черновика не записаны")
    assert "practices/" in str(problem.value) and str(problem.value).endswith("Записи остались как были.")
    assert record.read_bytes() == before
