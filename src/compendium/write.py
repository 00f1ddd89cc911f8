"""Stage 6: put finished outputs into build/ all at once, so a failed build leaves the last good one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType


class StagedOutputs:
    """Outputs written in full under temporary names beside their targets, then renamed into place together.

    Until ``commit`` nothing a reader can see has changed; leaving the ``with`` block without
    committing (an error, a failed check, an interrupted build) removes the temporary files.
    A rename within one folder is atomic, so a reader sees either the old file or the new one.
    """

    def __init__(self) -> None:
        self._staged: dict[Path, Path] = {}

    def __enter__(self) -> StagedOutputs:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for temporary in self._staged.values():
            temporary.unlink(missing_ok=True)

    def add(self, target: Path, data: bytes) -> Path:
        """Writes one output under a temporary name; returns that name, for checks before the commit."""
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        temporary = Path(name)
        self._staged[target] = temporary
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes files private; outputs are for sharing
        return temporary

    def commit(self, stale: Iterable[Path] = ()) -> None:
        """Moves every staged file into place, then removes ``stale`` outputs the new build no longer makes."""
        for target, temporary in list(self._staged.items()):
            os.replace(temporary, target)
            del self._staged[target]
        for path in stale:
            path.unlink(missing_ok=True)


def write_outputs(outputs: dict[Path, bytes]) -> None:
    """Writes every file in full, then renames them all into place."""
    with StagedOutputs() as staged:
        for target, data in outputs.items():
            staged.add(target, data)
        staged.commit()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
