"""The layout workers: what they load, whom they belong to, and that they end with the command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from compendium import workers
from compendium.paths import ProjectPaths

from .conftest import DEFAULT_EDITION

pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 or sys.platform != "linux",
                                reason="with one core the layouts run in the building process")

# A build in a fresh interpreter whose workers are started as the command starts them, before the pipeline
# is imported; it prints whose children the workers are and which heavy libraries a worker has loaded
EARLY_WORKERS = """
import os, sys
from pathlib import Path
from compendium import workers
from compendium.paths import ProjectPaths
paths = ProjectPaths(Path(sys.argv[2]))
workers.start_early(paths, for_one_build=False)
from compendium.pipeline import build
build(Path(sys.argv[1]), paths, output_root=Path(sys.argv[3]))
parents = {workers.submit(eval, "__import__('os').getppid()").result() for _ in range(8)}
loaded = workers.submit(eval, "sorted(__import__('sys').modules)").result()
print("mine" if parents == {os.getpid()} else f"not mine: {parents}")
print(" ".join(name for name in ("docx", "jinja2", "pikepdf", "pydantic", "weasyprint", "yaml") if name in loaded))
"""


def test_the_commands_workers_are_its_own_and_load_only_what_a_layout_needs(project: ProjectPaths,
                                                                             tmp_path: Path) -> None:
    # forked before the command imports anything, the workers hold no copy of the templating, the model or
    # the draft, and no server holds a third copy of WeasyPrint to fork them from
    printed = subprocess.run([sys.executable, "-c", EARLY_WORKERS, str(DEFAULT_EDITION), str(project.root),
                              str(tmp_path)], capture_output=True, text=True, check=True).stdout.splitlines()
    assert printed == ["mine", "pikepdf weasyprint"]


# A build as `compendium build` makes it: its workers are started for that build alone
ONE_BUILD = """
import multiprocessing, sys, time
from pathlib import Path
from compendium import workers
from compendium.paths import ProjectPaths
paths = ProjectPaths(Path(sys.argv[2]))
workers.start_early(paths, for_one_build=True)
time.sleep(2)
print(len(multiprocessing.active_children()))
from compendium.pipeline import build
build(Path(sys.argv[1]), paths, output_root=Path(sys.argv[3]))
deadline = time.monotonic() + 5
while multiprocessing.active_children() and time.monotonic() < deadline:
    time.sleep(0.05)
print(len(multiprocessing.active_children()))
"""


def test_the_workers_of_a_single_build_end_with_its_layouts(project: ProjectPaths, tmp_path: Path) -> None:
    # the checks after the layouts have no work for them, and at 500 practices they hold a third of the peak
    printed = subprocess.run([sys.executable, "-c", ONE_BUILD, str(DEFAULT_EDITION), str(project.root),
                              str(tmp_path)], capture_output=True, text=True, check=True).stdout.split()
    assert printed == [str(workers.cores()), "0"]


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while listed
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children


def _descendants(pid: int) -> list[int]:
    children = _children(pid)
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_workers_end_when_the_command_is_killed(edition_copy: Path, tmp_path: Path) -> None:
    # a killed build must not leave two idle processes of 80 MB behind, as the forkserver's did
    command = Path(sys.executable).with_name("compendium")
    build = subprocess.Popen([str(command), "build", str(edition_copy), "--output", str(tmp_path / "out")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len(_children(build.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)  # laying out: whatever the workers are children of, they have started
    started = _descendants(build.pid)
    assert len(started) >= 2, "the command never started its workers"
    build.send_signal(signal.SIGKILL)
    build.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in started if _alive(pid)]


def test_a_pool_a_killed_worker_broke_is_replaced() -> None:
    # in `watch`, one crashed worker must not fail every later rebuild
    with pytest.raises(BrokenProcessPool):
        workers.submit(os._exit, 1).result()
    assert workers.submit(eval, "6 * 7").result() == 42


def test_the_word_draft_starts_once_both_frames_are_laid_out(
        project: ProjectPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a long frame and the draft are a build's two largest peaks of memory: apart, they do not add up
    from pypdf import PdfReader

    from compendium import pipeline

    draft_started: list[int] = []

    def draft(*arguments: object) -> bytes:
        draft_started.append(time.time_ns())
        return render_docx(*arguments)

    render_docx = pipeline.render_docx
    monkeypatch.setattr(pipeline, "render_docx", draft)
    result = pipeline.build(DEFAULT_EDITION, project, output_root=tmp_path)
    # a frame has a book's pages but two for all ten spreads
    framed = {len(PdfReader(result.outputs[book]).pages) - 2 * 10 + 2 for book in ("pdf", "pdf-print")}
    frames = [path for path in (tmp_path / pipeline.CACHE).glob("*/*/*.pdf") if len(PdfReader(path).pages) in framed]
    assert sorted(path.parent.name for path in frames) == ["print", "screen"]
    assert len(draft_started) == 1
    assert max(path.stat().st_mtime_ns for path in frames) <= draft_started[0]
