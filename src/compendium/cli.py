"""The command line: a thin shell over the pipeline. Problems become messages here, never tracebacks."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from .errors import CompendiumError, SourceProblems, display_path
from .paths import ProjectPaths
from .pipeline import build as build_edition
from .pipeline import load_collection
from .schema import write_schemas

DEFAULT_EDITION = Path("sources/2022-2023")
EXIT_PROBLEMS = 2

edition_argument = click.argument(
    "edition_dir", required=False, default=DEFAULT_EDITION, type=click.Path(path_type=Path)
)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Print each pipeline step.")
def main(verbose: bool) -> None:
    """Builds the collection «Лучшая практика межмуниципального взаимодействия» from its records."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


@main.command()
@edition_argument
def validate(edition_dir: Path) -> None:
    """Checks an edition's records and reports every problem with file:line.

    Example: compendium validate sources/2022-2023
    """
    with _problems_reported():
        collection = load_collection(edition_dir, ProjectPaths.locate())
    click.echo(f"{display_path(edition_dir)}: {len(collection.practices)} practices, "
               f"{len(collection.geography.regions)} regions: no problems")


@main.command()
@edition_argument
def build(edition_dir: Path) -> None:
    """Checks an edition, then builds its PDF and its map as PNG into build/<edition>/.

    Example: compendium build sources/2022-2023
    """
    with _problems_reported():
        result = build_edition(edition_dir, ProjectPaths.locate())
    for kind, path in result.outputs.items():
        pages = f"{result.page_count} pages, " if kind == "pdf" else ""
        click.echo(f"{kind}: {display_path(path)} ({pages}{path.stat().st_size / 1024:.0f} KiB)")
    click.echo(f"built in {result.seconds:.1f} s")


@main.command()
@click.option("--check", is_flag=True, help="Fail if the committed schemas differ from the model.")
def schema(check: bool) -> None:
    """Writes the JSON Schemas of the record files to sources/schema/.

    Editors use them to autocomplete and check the YAML (see the first line of each record).
    Example: compendium schema --check
    """
    stale = write_schemas(ProjectPaths.locate().root / "sources" / "schema", check_only=check)
    if check and stale:
        raise click.ClickException(f"out of date: {', '.join(map(str, stale))}; run `compendium schema`")
    click.echo("schemas are up to date" if check else "schemas written")


@contextmanager
def _problems_reported() -> Iterator[None]:
    """Turns the pipeline's errors into messages and exit status 2; anything else stays a bug."""
    try:
        yield
    except SourceProblems as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        count = len(error.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found; nothing was written.", err=True)
        sys.exit(EXIT_PROBLEMS)
    except CompendiumError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_PROBLEMS)
