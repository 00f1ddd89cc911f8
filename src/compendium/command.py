"""The `compendium` command: the layout workers start first, then the command line loads."""

from __future__ import annotations

import sys

from .errors import CompendiumError
from .paths import ProjectPaths
from .versions import check_versions
from .workers import start_early

LAYING_OUT = {"build", "watch"}
EXIT_PROBLEMS = 2  # the command line's status for any problem (cli.EXIT_PROBLEMS), which it is not loaded to give


def main() -> None:
    command = next((argument for argument in sys.argv[1:] if not argument.startswith("-")), None)
    if command in LAYING_OUT:
        try:
            check_versions()  # before a worker loads WeasyPrint: one of another release could fail as it warms up
        except CompendiumError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(EXIT_PROBLEMS)
        try:
            paths: ProjectPaths | None = ProjectPaths.locate()
        except FileNotFoundError:
            paths = None  # the command line says so, once loaded
        start_early(paths, for_one_build=command == "build")  # watch keeps them for every rebuild
    from .cli import main as command_line  # the whole pipeline: the workers load WeasyPrint meanwhile

    command_line()
