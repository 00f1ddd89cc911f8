"""The `compendium` command: the layout workers' server starts first, then the command line loads."""

from __future__ import annotations

import sys

from .workers import start_early

LAYING_OUT = {"build", "watch"}


def main() -> None:
    if LAYING_OUT & set(sys.argv[1:]):
        start_early()
    from .cli import main as command_line  # the whole pipeline: the server loads WeasyPrint meanwhile

    command_line()
