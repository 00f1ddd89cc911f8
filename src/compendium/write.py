"""Stage 6: put finished outputs into build/ all at once, so a failed build leaves the last good one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_outputs(outputs: dict[Path, bytes]) -> None:
    """Writes every file to a temporary name beside its target, then renames them into place.

    Nothing is renamed until every file has been written in full; a rename within one folder
    is atomic, so a reader sees either the old file or the new one, never half of one.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in outputs.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes files private; outputs are for sharing
            staged.append((Path(temporary), target))
        for temporary, target in staged:
            os.replace(temporary, target)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
