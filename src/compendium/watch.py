"""`compendium watch`: rebuild whenever the records, the layouts or the assets change.

watchfiles (inotify underneath) reports changes in batches, debounced, so that an editor saving
several files, or one file twice, causes one rebuild; a change made during a rebuild is picked up
as soon as it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from .errors import display_path
from .paths import ProjectPaths


def watched_folders(edition_dir: Path, paths: ProjectPaths) -> list[Path]:
    return [edition_dir, paths.layouts, paths.assets]


def watch(edition_dir: Path, paths: ProjectPaths, rebuild: Callable[[], None],
          report: Callable[[str], None]) -> None:
    """Runs ``rebuild`` now and after every batch of changes, until interrupted; ``report`` says what changed."""
    rebuild()
    folders = watched_folders(edition_dir, paths)
    announced = False
    # an empty batch is a timeout: it means the watcher is running, so a change made now is seen
    for changes in watchfiles.watch(*folders, debounce=300, step=50, rust_timeout=200, yield_on_timeout=True):
        if not changes:
            if not announced:
                report(f"watching {', '.join(f'{display_path(folder)}/' for folder in folders)} (Ctrl+C to stop)")
                announced = True
            continue
        report(describe(change_path for _, change_path in changes))
        rebuild()


def describe(changed: Iterable[str]) -> str:
    """«changed: practices/a.yaml, layouts/pdf/book.css» (at most five names, then how many more)."""
    names = sorted({str(display_path(Path(path))) for path in changed})
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"changed: {shown}"
