"""`compendium watch`, and the build's progress: a bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import logging
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from compendium import progress
from compendium.watch import describe

ROOT = Path(__file__).resolve().parents[1]
PRACTICE = Path("practices") / "anuchinsky-beekeeping.yaml"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def log_a_build() -> None:
    logging.getLogger("compendium").info("Step 3 - Laying out the screen PDF")
    logging.getLogger("weasyprint.progress").info("Step 5 - Creating layout - Page %d", 4)
    logging.getLogger("compendium").info("Step 5 - Checking the outputs")


def test_progress_off_a_terminal_is_plain_timed_lines() -> None:
    pipe = io.StringIO()
    with progress.shown(pipe):
        log_a_build()

    lines = pipe.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == ["Step 3 - Laying out the screen PDF",
                                                          "Step 5 - Checking the outputs"]
    assert all(line.startswith("[") and " s] " in line for line in lines)


def test_progress_on_a_terminal_is_one_bar_that_is_cleared_at_the_end() -> None:
    terminal = Terminal()
    with progress.shown(terminal):
        log_a_build()

    drawn = terminal.getvalue().split("\r")
    assert any("Laying out the screen PDF" in frame and "2/6" in frame and "page 4" in frame for frame in drawn)
    assert any("Checking the outputs" in frame and "4/6" in frame for frame in drawn)
    assert "\n" not in terminal.getvalue()  # redrawn in place, never scrolled
    assert drawn[-1] == "" and drawn[-2].strip() == ""  # cleared when the build ends


def test_progress_leaves_the_loggers_as_they_were() -> None:
    logger = logging.getLogger("weasyprint.progress")
    before = (logger.level, logger.propagate, list(logger.handlers))
    with progress.shown(io.StringIO()):
        pass
    assert (logger.level, logger.propagate, list(logger.handlers)) == before


def test_a_batch_of_changes_is_named_in_one_line() -> None:
    names = [str(ROOT / f"sources/x/practices/p{index}.yaml") for index in range(7)]
    assert describe([*names, names[0]]) == ("changed: sources/x/practices/p0.yaml, sources/x/practices/p1.yaml, "
                                            "sources/x/practices/p2.yaml, sources/x/practices/p3.yaml, "
                                            "sources/x/practices/p4.yaml and 2 more")


def read_lines_into(stream: io.TextIOBase, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def wait_for(lines: queue.Queue[str], words: str, seen: list[str], timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if words in line:
            return line
    raise AssertionError(f"no «{words}» within {timeout} s; saw:\n" + "\n".join(seen))


def test_watch_rebuilds_on_a_change_and_survives_a_broken_record(edition_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    command = [str(Path(sys.executable).parent / "compendium"), "watch", str(edition_copy), "--profile", "screen",
               "--output", str(output)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines_into, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        wait_for(lines, "watching", seen)
        pdf = output / edition_copy.name / f"compendium-{edition_copy.name}.pdf"
        first = pdf.read_bytes()
        practice = edition_copy / PRACTICE
        text = practice.read_text(encoding="utf-8")

        practice.write_text(text.replace("count: 3", "count: 4"), encoding="utf-8")
        assert wait_for(lines, "changed:", seen).endswith("practices/anuchinsky-beekeeping.yaml")
        assert re.fullmatch(r"built .*/out/2022-2023/ in \d+\.\d s", wait_for(lines, "built ", seen))
        assert pdf.read_bytes() != first

        practice.write_text(text.replace("count: 3", "count: [3"), encoding="utf-8")
        wait_for(lines, "changed:", seen)
        wait_for(lines, "problem found; nothing was written.", seen)
        assert process.poll() is None, "a broken record must not end the watch"
    finally:
        process.terminate()
        process.wait(timeout=30)
