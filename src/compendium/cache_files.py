"""The files a build keeps for the next one (build/.cache/<edition>/), each trusted only while it is the bytes
that were written.

Beside every kept file is the SHA-256 of its bytes (``<name>.sha256``), written after the file and removed
before it is replaced, so that a file whose digest is missing was not written whole and is simply not kept.
A kept file whose bytes do not give its digest (cut short, emptied by a power loss, overwritten, a bit turned
over) is damaged: it is deleted, the build makes what it held again, and the damage is noted
(`KeptFiles.damaged`) for the preflight report. Hashing is cheap next to what a kept file saves: the default
edition's cache, some 8 MB, hashes in 7 ms.

A digest beside the file rather than inside it keeps the PDFs plain PDFs, which the merge, the preflight's
readers and the outputs take by path.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NamedTuple, cast

from .write import replace_file, replacing

DIGEST_SUFFIX = ".sha256"


class Damaged(NamedTuple):
    """A kept file found damaged, deleted and made again; for the report."""

    file: Path
    what: str
    """What the file held, in Russian: «макет разворота практики anuchinsky-beekeeping, screen»."""

    def message(self) -> str:
        return f"кэш: файл повреждён ({self.what}); отброшен и сделан заново"


def keep(path: Path, data: bytes) -> None:
    """Writes a kept file, then its digest: a reader trusts the file only once both are there."""
    digest = _digest_path(path)
    digest.unlink(missing_ok=True)  # the old digest must never vouch for the new bytes, should this stop midway
    replace_file(path, data)
    replace_file(digest, hashlib.sha256(data).hexdigest().encode())


@contextmanager
def keeping(path: Path) -> Iterator[BinaryIO]:
    """A kept file to write in pieces (a merged book), hashed as it is written; as with `keep`, its digest
    follows it, and should the block fail, the file is left as it was but no longer kept."""
    digest_path = _digest_path(path)
    digest_path.unlink(missing_ok=True)
    with replacing(path) as file:
        hashing = _Hashing(file)
        yield cast(BinaryIO, hashing)
    replace_file(digest_path, hashing.digest.hexdigest().encode())


class _Hashing:
    """A file being written, and the digest of what was written to it."""

    def __init__(self, file: BinaryIO) -> None:
        self.file, self.digest = file, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.file.write(data)


class KeptFiles:
    """Reads kept files, each only if it is the bytes that were written; notes the ones found damaged.

    One per build in the building process; a worker that reads kept files makes its own and hands back what
    it found (`damaged`), which pickles."""

    def __init__(self) -> None:
        self.damaged: list[Damaged] = []

    def read(self, path: Path, what: str) -> bytes | None:
        """The kept file's bytes; None if it is not kept (absent, or its digest is), or damaged: then it is
        deleted and noted, ``what`` saying what it held."""
        try:
            digest, data = _digest_path(path).read_bytes(), path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            digest, data = b"", None  # unreadable: as damaged as a wrong byte
        if data is not None and hashlib.sha256(data).hexdigest().encode() == digest:
            return data
        self.damaged.append(Damaged(path, what))
        discard(path)
        return None

    def intact(self, path: Path, what: str) -> bool:
        """Whether a kept file is the bytes that were written; as `read`, a damaged one is deleted and noted."""
        return self.read(path, what) is not None


def discard(path: Path) -> None:
    """Deletes a kept file and its digest."""
    for file in (_digest_path(path), path):
        with contextlib.suppress(OSError):
            file.unlink(missing_ok=True)


def kept_name(path: Path) -> str:
    """The name of the kept file that ``path`` is, or is the digest of."""
    return path.name.removesuffix(DIGEST_SUFFIX)


def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + DIGEST_SUFFIX)
