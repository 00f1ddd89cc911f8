"""Shows a build's progress: a bar on a terminal, plain timestamped lines anywhere else (CI, a log file).

The pipeline logs its steps ("Step 3 - …") and counts within them, and WeasyPrint logs each page it
lays out (when it runs in this process); this turns those records into progress, so that the
stages need to know nothing about the display.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

STEPS = 6
COUNT_LOGGER = "compendium.count"
"""Counts within a step ("12 of 502 layouts"): shown on the bar, never printed as lines."""
_STEP = re.compile(r"^Step (\d) - (.*)$")
_PAGE = re.compile(r"Page (\d+)")


class _ProgressHandler(logging.Handler):
    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.INFO)
        self.stream = stream
        self.started = time.perf_counter()
        self.bar = tqdm(total=STEPS, file=stream, unit="step", leave=False, dynamic_ncols=True,
                        bar_format="{desc} {bar} {n_fmt}/{total_fmt} {elapsed}{postfix}") if stream.isatty() else None

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.name.startswith("weasyprint"):
            if self.bar is not None and (page := _PAGE.search(message)):
                self.bar.set_postfix_str(f"page {page[1]}", refresh=True)
            return
        if record.name == COUNT_LOGGER:  # too many for lines: shown on the bar only
            if self.bar is not None:
                self.bar.set_postfix_str(message, refresh=True)
            return
        step = _STEP.match(message)
        if self.bar is None:
            self.stream.write(f"[{time.perf_counter() - self.started:5.1f} s] {message}\n")
            self.stream.flush()
        elif not step:
            if record.levelno >= logging.WARNING:
                self.bar.write(message, file=self.stream)
        else:
            self.bar.update(int(step[1]) - 1 - self.bar.n)
            self.bar.set_description_str(step[2][:44].ljust(44), refresh=False)
            self.bar.set_postfix_str("", refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        super().close()


@contextmanager
def shown(stream: TextIO = sys.stderr) -> Iterator[None]:
    """Shows the progress of what runs inside, then clears the bar (a terminal) or leaves the lines."""
    handler = _ProgressHandler(stream)
    loggers = [logging.getLogger("compendium"), logging.getLogger("weasyprint.progress")]
    before = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # shown here only, not a second time by the root logger's handler
    try:
        yield
    finally:
        for logger, (level, propagate) in zip(loggers, before, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
        handler.close()
