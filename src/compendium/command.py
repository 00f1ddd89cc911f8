"""The `compendium` command: the layout workers start first, then the command line loads."""

from __future__ import annotations

import sys

from .paths import ProjectPaths
from .workers import start_early

LAYING_OUT = {"build", "watch"}


def main() -> None:
    command = next((argument for argument in sys.argv[1:] if not argument.startswith("-")), None)
    if command in LAYING_OUT:
        try:
            paths: ProjectPaths | None = ProjectPaths.locate()
        except FileNotFoundError:
            paths = None  # the command line says so, once loaded
        start_early(paths, for_one_build=command == "build")  # watch keeps them for every rebuild
    from .cli import main as command_line  # the whole pipeline: the workers load WeasyPrint meanwhile

    command_line()
