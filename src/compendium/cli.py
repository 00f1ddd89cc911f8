"""The command line: a thin shell over the pipeline. Problems become messages here, never tracebacks."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from . import progress
from .draft_comments import comments_summary
from .errors import CompendiumError, SourceProblems, display_path
from .paths import ProjectPaths
from .pipeline import build as build_edition
from .pipeline import import_draft, load_collection, write_comments, write_sources
from .profiles import PROFILES
from .schema import write_schemas
from .watch import watch, watched_folders

DEFAULT_EDITION = Path("sources/2022-2023")
EXIT_PROBLEMS = 2
EXIT_STRICT = 3

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
@click.option("--profile", "profiles", multiple=True, type=click.Choice(sorted(PROFILES)),
              help="PDF to make: print (PDF/X-4, CMYK, bleed) or screen (tagged PDF/UA, RGB, one PDF per "
                   "practice too). Repeat for both; both by default.")
@click.option("--strict", is_flag=True, help="Fail, and leave build/ as it was, if the preflight has warnings.")
@click.option("--output", "output_root", type=click.Path(path_type=Path, file_okay=False),
              help="Folder to build into instead of the project's build/; the edition gets its own folder there.")
@click.option("--no-wait", "no_wait", is_flag=True,
              help="Fail at once if another process is building the edition into the same folder, instead of "
                   "waiting for it to end.")
def build(edition_dir: Path, profiles: tuple[str, ...], strict: bool, output_root: Path | None,
          no_wait: bool) -> None:
    """Checks an edition, builds its PDFs, Word draft and map into build/<edition>/, and preflights them.

    The preflight report is printed and written to build/<edition>/preflight.json. One build of an edition
    runs at a time; another, or a `watch`, waits for it and then builds the records as they are then.
    Example: compendium build sources/2022-2023 --profile print --strict
    """
    with _problems_reported(), progress.shown():
        result = build_edition(edition_dir, ProjectPaths.locate(), output_root,
                               profiles=profiles or ("print", "screen"), strict=strict, wait=not no_wait)
    folder = result.outputs["preflight"].parent
    click.echo(f"{display_path(folder)}/")
    click.echo(result.preflight.summary())
    if not result.committed:
        click.echo(f"--strict: {len(result.preflight.warnings)} warnings; nothing was written.", err=True)
        sys.exit(EXIT_STRICT)
    click.echo(f"built in {result.seconds:.1f} s")


@main.command("watch")
@edition_argument
@click.option("--profile", "profiles", multiple=True, type=click.Choice(sorted(PROFILES)),
              help="PDF to make on each rebuild; both by default.")
@click.option("--output", "output_root", type=click.Path(path_type=Path, file_okay=False),
              help="Folder to build into instead of the project's build/.")
def watch_command(edition_dir: Path, profiles: tuple[str, ...], output_root: Path | None) -> None:
    """Builds the edition, then rebuilds it whenever its records, the layouts or the assets change.

    Each rebuild prints what changed, how long it took, and any problem; a failed rebuild leaves
    the last good build in place. A rebuild waits for a `build` of the edition running meanwhile.
    Example: compendium watch sources/2022-2023 --profile screen
    """
    paths = ProjectPaths.locate()
    output = (output_root or paths.build).resolve()
    if any(output.is_relative_to(folder.resolve()) for folder in watched_folders(edition_dir, paths)):
        raise click.UsageError(f"--output {output_root} is inside a watched folder; each build would start another")

    def rebuild() -> None:
        try:
            with progress.shown():
                result = build_edition(edition_dir, paths, output_root, profiles=profiles or ("print", "screen"))
        except CompendiumError as error:
            _print_problems(error)
            return
        warnings = len(result.preflight.warnings)
        click.echo(f"built {display_path(result.outputs['preflight'].parent)}/ in {result.seconds:.1f} s"
                   + (f"; {warnings} preflight warnings (see preflight.json)" if warnings else ""))

    with contextlib.suppress(KeyboardInterrupt):
        watch(edition_dir, paths, rebuild, click.echo)


@main.command("import-docx")
@click.argument("draft", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--edition", "edition_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Edition folder to update (default: the one the draft was made from).")
@click.option("--dry-run", is_flag=True, help="Show the changes as a diff and write nothing.")
@click.option("--force", is_flag=True,
              help="Import despite each refusal, saying in a note what it overrode: take the draft's text where the "
                   "records changed since, take a draft made from another edition, and take a field that would "
                   "shrink by more than half or lose a paragraph the draft shows elsewhere.")
@click.option("--comments", "comments_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the reviewers' comments, grouped by record file, to this Markdown file for the "
                   "organisers (written with --dry-run too).")
def import_docx(draft: Path, edition_dir: Path | None, dry_run: bool, force: bool, comments_file: Path | None
                ) -> None:
    """Brings staff edits from a Word draft back into the records, field by field.

    Untouched lines of the records stay as they are, comments included. A field changed both in
    the records and in the draft since it was made is a conflict: nothing is written. Nor is it for a
    draft of another edition, or when a field would shrink by more than half or lose a paragraph that
    the draft shows elsewhere (a word processor that lost the field's anchor); --force overrides each.
    Reviewers' comments in the draft are printed as notes, each with its author and its field's file:line.
    Example: compendium import-docx build/2022-2023/draft-2022-2023.docx --dry-run --comments comments.md
    """
    with _problems_reported():
        result = import_draft(draft, ProjectPaths.locate(), edition_dir, force)
        for note in result.plan.notes:
            click.echo(f"note: {note}", err=True)
        for comment in result.plan.comments:
            click.echo(f"note: {comment.message()}", err=True)
        if comments_file is not None:
            write_comments(result.plan.comments, comments_file, draft.name)
            click.echo(f"комментарии для организаторов ({len(result.plan.comments)}) записаны в "
                       f"{display_path(comments_file)}")
        if result.plan.conflicts or result.plan.problems:
            raise SourceProblems(list(result.plan.conflicts + result.plan.problems))
        if not result.edits:
            count = len(result.plan.comments)
            click.echo("no changes: the records already say what the draft says"
                       + (f"; {comments_summary(count)}" if count else ""))
            return
        for change in result.plan.changes:
            click.echo(f"{'would change' if dry_run else 'changed'}: {change.field.name}")
        if dry_run:
            click.echo("".join(edit.diff() for edit in result.edits), nl=False)
            click.echo(f"dry run: {len(result.plan.changes)} fields in {len(result.edits)} files; nothing was written")
            return
        write_sources(result.edits)
    click.echo(f"{len(result.plan.changes)} fields updated in {len(result.edits)} files")


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
    except CompendiumError as error:
        _print_problems(error)
        sys.exit(EXIT_PROBLEMS)


def _print_problems(error: CompendiumError) -> None:
    if isinstance(error, SourceProblems):
        for problem in error.problems:
            click.echo(str(problem), err=True)
        count = len(error.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found; nothing was written.", err=True)
    else:
        click.echo(f"error: {error}", err=True)
