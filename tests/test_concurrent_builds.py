"""Two builds of one edition at once: the second waits for the first, whole, and then builds the latest records.

The builds are the real command line in processes of their own, as an organiser running `watch` and a
`build` side by side starts them. Nothing is timed: a build is held where it must be by the test, which
stops its process (SIGSTOP) or holds the edition's lock itself.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from compendium import pipeline
from compendium.model import Collection
from compendium.paths import ProjectPaths
from compendium.pipeline import CACHE, load_collection
from compendium.write import OutputLock

ROOT = Path(__file__).resolve().parents[1]
COMPENDIUM = str(Path(sys.executable).parent / "compendium")
PRACTICE = Path("practices") / "anuchinsky-beekeeping.yaml"
WAITING = "уже идёт в другом процессе; жду её окончания…"


class Output:
    """The lines a process prints (stdout and stderr together), read as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process, self.seen, self._lines = process, list[str](), queue.Queue[str]()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self._lines.put(line.rstrip("\n"))

    def wait_for(self, words: str, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (self._reader.is_alive() or not self._lines.empty()):
            try:
                line = self._lines.get(timeout=1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if words in line:
                return line
        raise AssertionError(f"no «{words}»; the process printed:\n" + "\n".join(self.seen))

    def finish(self, timeout: float = 300) -> str:
        """Waits for the process to end; everything it printed."""
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=60)
        while not self._lines.empty():
            self.seen.append(self._lines.get())
        return "\n".join(self.seen)


def start(*arguments: str) -> Output:
    return Output(subprocess.Popen([COMPENDIUM, *arguments], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True))


def build_command(edition: Path, output: Path, *options: str) -> list[str]:
    return ["build", str(edition), "--profile", "screen", "--output", str(output), *options]


@contextmanager
def stopped(process: subprocess.Popen[str]) -> Iterator[None]:
    """The process stopped where it is, holding what it holds, until the block ends."""
    os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(process.pid, signal.SIGCONT)


def rename_the_author(edition: Path) -> None:
    practice = edition / PRACTICE
    practice.write_text(practice.read_text(encoding="utf-8").replace("Андрей Янчук", "Андрей Пасечников"),
                        encoding="utf-8")


def screen_text(output: Path, edition: Path) -> str:
    return subprocess.run(["pdftotext", str(screen_book(output, edition)), "-"], capture_output=True, text=True,
                          check=True).stdout


def screen_book(output: Path, edition: Path) -> Path:
    return output / edition.name / f"compendium-{edition.name}.pdf"


def test_a_second_build_waits_for_the_first_and_writes_the_records_edited_meanwhile(edition_copy: Path,
                                                                                       tmp_path: Path) -> None:
    output = tmp_path / "out"
    first = start(*build_command(edition_copy, output))
    first.wait_for("Step 3 - Laying out")  # it has read the records, as they were
    with stopped(first.process):  # so that it is surely still running when the second one starts
        rename_the_author(edition_copy)
        second = start(*build_command(edition_copy, output))
        assert second.wait_for("сборка в").endswith(f"сборка в {output / edition_copy.name}/ {WAITING}")
    first_printed, second_printed = first.finish(), second.finish()

    assert first.process.returncode == 0, first_printed
    assert second.process.returncode == 0, second_printed
    assert "Traceback" not in first_printed + second_printed
    assert f"{edition_copy}: записи изменились во время сборки" in first_printed
    assert "Пасечников" in screen_text(output, edition_copy), "the last build's records must win"
    # the second build's book is the one kept, not pruned by the first as a book it did not ask for
    kept = {path.read_bytes() for path in (output / CACHE / edition_copy.name / "screen").glob("*.pdf")}
    assert screen_book(output, edition_copy).read_bytes() in kept


def test_a_build_that_waited_reads_the_records_once_it_has_the_lock(edition_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    with OutputLock(output / edition_copy.name):  # another build of the edition, running
        waiting = start(*build_command(edition_copy, output))
        waiting.wait_for(WAITING)
        rename_the_author(edition_copy)
    printed = waiting.finish()

    assert waiting.process.returncode == 0, printed
    assert printed.count(WAITING) == 1
    assert "Пасечников" in screen_text(output, edition_copy)


def test_no_wait_refuses_at_once_and_writes_nothing(edition_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    with OutputLock(output / edition_copy.name):
        refused = subprocess.run([COMPENDIUM, *build_command(edition_copy, output, "--no-wait")], cwd=ROOT,
                                 capture_output=True, text=True, timeout=120, check=False)

    assert refused.returncode == 2
    assert refused.stderr == (f"error: сборка в {output / edition_copy.name}/ уже идёт в другом процессе; "
                              "дождитесь её окончания или запустите без --no-wait\n")
    assert sorted(path.name for path in output.iterdir()) == [f".{edition_copy.name}.lock"]


def test_watch_waits_for_a_build_of_the_edition_too(edition_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    lock = OutputLock(output / edition_copy.name).__enter__()
    watching = start("watch", str(edition_copy), "--profile", "screen", "--output", str(output))
    try:
        watching.wait_for(WAITING)
        assert not (output / edition_copy.name).exists()
        lock.__exit__(None, None, None)
        watching.wait_for("watching")
        assert screen_book(output, edition_copy).is_file()
    finally:
        lock.__exit__(None, None, None)
        watching.process.terminate()
        watching.process.wait(timeout=30)


def test_builds_of_two_editions_do_not_wait_for_each_other(edition_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    practice = edition_copy / PRACTICE
    practice.write_text(practice.read_text(encoding="utf-8").replace("count: 3", "count: [3"), encoding="utf-8")
    with OutputLock(output / "2023-2024"):  # it reads its records, which are wrong, so it ends at once
        done = subprocess.run([COMPENDIUM, *build_command(edition_copy, output, "--no-wait")], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.endswith("1 problem found; nothing was written.\n"), done.stderr


def test_an_edit_landing_while_a_build_runs_is_built_by_the_next(edition_copy: Path, project: ProjectPaths,
                                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    """The records are edited after the build has read them and before its layouts start: the layouts it notes
    are of the records as read, and the next build must not take them for the edit's."""
    output = tmp_path / "out"

    def loaded_then_edited(edition: Path, paths: ProjectPaths) -> Collection:
        collection = load_collection(edition, paths)
        rename_the_author(edition)
        return collection

    monkeypatch.setattr(pipeline, "load_collection", loaded_then_edited)
    pipeline.build(edition_copy, project, output_root=output, profiles=("screen",))
    monkeypatch.undo()
    pipeline.build(edition_copy, project, output_root=output, profiles=("screen",))

    assert "Пасечников" in screen_text(output, edition_copy)
