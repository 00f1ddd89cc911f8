"""Stage 6: put finished outputs in place all at once, so that a failed or killed build leaves the last good one.

A build's outputs are written into a hidden folder beside the edition's output folder and the two
folders are swapped in one step. Whatever moment the process dies at, a reader finds either the
whole previous build or the whole new one; the next build sweeps up what a killed one left. A lock
file beside the folder (`OutputLock`) lets one build of it run at a time.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from .errors import CompendiumError

_STAGING, _RETIRED = "staging", "retired"


class StagedOutputs:
    """The outputs of one edition folder, staged in full and then swapped in for the old folder.

    Until ``commit`` nothing a reader can see has changed; leaving the ``with`` block without
    committing (an error, a failed check) removes the staged folder. Files of the old folder
    that this build does not make, such as the PDF of a profile not built this time, are kept.
    """

    def __init__(self, folder: Path, lock: OutputLock | None = None) -> None:
        """``lock``, the folder's `OutputLock` when the caller holds it already (a build holds it from its
        first read); without it, the folder is locked here, for as long as the ``with`` block."""
        assert lock is None or lock.folder == folder, "the lock held is another folder's"
        self.folder = folder
        self._lock = lock
        self._own_lock = lock is None
        self._staging: Path | None = None

    def __enter__(self) -> StagedOutputs:
        if self.folder.is_symlink() or (self.folder.exists() and not self.folder.is_dir()):
            raise CompendiumError(f"{self.folder} is not a folder; move it away so the build can write there")
        # one build per output folder at a time, so that sweeping cannot remove a running build's files
        if self._own_lock:
            self._lock = OutputLock(self.folder).__enter__()
        try:
            _recover(self.folder)
            self._staging = Path(tempfile.mkdtemp(dir=self.folder.parent, prefix=_hidden(self.folder, _STAGING)))
            os.chmod(self._staging, 0o777 & ~_umask())  # mkdtemp makes folders private; outputs are for sharing
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        if self._own_lock and self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None

    def add(self, target: Path, data: bytes) -> Path:
        """Writes one output of the folder in full; returns where it is staged, for checks before the commit."""
        staged = self._staged(target)
        _write_durably(staged, data)
        return staged

    def add_copy(self, target: Path, source: Path) -> Path:
        """Stages a copy of a file made elsewhere (a PDF in the layout cache); returns where it is staged."""
        staged = self._staged(target)
        shutil.copyfile(source, staged)
        _make_durable(staged)
        return staged

    def _staged(self, target: Path) -> Path:
        assert self._staging is not None, "StagedOutputs is used outside its with block"
        staged = self._staging / target.relative_to(self.folder)
        staged.parent.mkdir(parents=True, exist_ok=True)
        return staged

    def commit(self, stale: Iterable[Path] = ()) -> None:
        """Swaps the staged folder in; old outputs this build does not make are kept unless listed in ``stale``."""
        assert self._staging is not None, "StagedOutputs is used outside its with block"
        dropped = {path.relative_to(self.folder) for path in stale}
        if self.folder.is_dir():
            _carry_over(self.folder, self._staging, dropped)
        _sync_folder(self._staging)
        if not self.folder.exists():
            os.rename(self._staging, self.folder)
        elif _exchange(self._staging, self.folder):
            shutil.rmtree(self._staging)  # which now holds the previous outputs
        else:  # no atomic exchange here: two renames, which _recover completes if the build dies between them
            retired = Path(tempfile.mkdtemp(dir=self.folder.parent, prefix=_hidden(self.folder, _RETIRED)))
            os.replace(self.folder, retired / self.folder.name)
            os.rename(self._staging, self.folder)
            shutil.rmtree(retired)
        self._staging = None
        _sync_folder(self.folder.parent)


class OutputLock:
    """One build of an edition's output folder at a time: an exclusive flock on ``.<folder>.lock`` beside it.

    The same lock keeps the folder and the edition's cache, which both go by the folder's name. The
    system drops a flock when its process ends, however it ends, so a killed build never leaves its
    edition locked. A flock belongs to the open file, not to the process: a second lock of the same file
    taken in the same process waits for the first for ever, hence `StagedOutputs` takes a held one.
    """

    def __init__(self, folder: Path, busy: Callable[[], None] = lambda: None) -> None:
        """``busy`` is called once when another process holds the lock, before waiting for it; it may
        raise, to refuse instead of waiting."""
        self.folder = folder
        self.file = folder.parent / f".{folder.name}.lock"
        self._busy = busy
        self._handle: int | None = None

    def __enter__(self) -> OutputLock:
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self._handle = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._busy()
                fcntl.flock(self._handle, fcntl.LOCK_EX)  # Ctrl+C interrupts the wait
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._handle is not None:
            os.close(self._handle)  # releases the lock
            self._handle = None


def write_files(outputs: dict[Path, bytes]) -> None:
    """Writes files in different folders (an edition's sources): each in full under a temporary name, then
    all renamed into place together."""
    staged: dict[Path, Path] = {}
    try:
        for target, data in outputs.items():
            handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            os.close(handle)
            staged[target] = Path(name)
            _write_durably(staged[target], data)
        for target, temporary in staged.items():
            os.replace(temporary, target)
    finally:
        for temporary in staged.values():
            temporary.unlink(missing_ok=True)


def replace_file(target: Path, data: bytes) -> None:
    """Writes a file that another build may read at any moment: whole under a temporary name, then renamed.

    Not flushed to disk: for kept work (the cache) that a crash may lose but must never leave half-written.
    """
    with replacing(target) as file:
        file.write(data)


@contextmanager
def replacing(target: Path) -> Iterator[BinaryIO]:
    """A file to write in pieces under a temporary name; it becomes ``target`` only if the block ends
    without an error, as with ``replace_file``."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with _named(target), os.fdopen(handle, "wb") as file:
            yield file
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)


@contextmanager
def _named(path: Path) -> Iterator[None]:
    """Names ``path`` in an error writing to it: one from writing to an open file (a full disk) names no file,
    and the build's message must say which folder could not take it."""
    try:
        yield
    except OSError as error:
        if error.filename is None:
            error.filename = str(path)
        raise


def _hidden(folder: Path, role: str) -> str:
    return f".{folder.name}.{role}-"


def _recover(folder: Path) -> None:
    """Clears what a killed build left beside ``folder``; restores the old folder if it died mid-swap."""
    for role in (_RETIRED, _STAGING):
        for leftover in sorted(folder.parent.glob(f"{glob.escape(_hidden(folder, role))}*")):
            previous = leftover / folder.name
            if role == _RETIRED and previous.is_dir() and not folder.exists():
                os.rename(previous, folder)
            shutil.rmtree(leftover, ignore_errors=True)


def _carry_over(old: Path, new: Path, dropped: set[Path]) -> None:
    for source in sorted(old.rglob("*")):
        relative = source.relative_to(old)
        target = new / relative
        if source.is_dir() or relative in dropped or target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)  # same file system: no copy needed
        except OSError:
            shutil.copy2(source, target)


def _write_durably(path: Path, data: bytes) -> None:
    with _named(path), open(path, "wb") as stream:
        stream.write(data)
    _make_durable(path)


def _make_durable(path: Path) -> None:
    with _named(path), open(path, "rb+") as stream:
        os.fsync(stream.fileno())
    os.chmod(path, 0o666 & ~_umask())  # temporary files are made private; outputs are for sharing


def _sync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        with _named(folder):
            os.fsync(handle)
    finally:
        os.close(handle)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(first: Path, second: Path) -> bool:
    """Swaps two folders in one step with Linux's renameat2(RENAME_EXCHANGE); False where that is not offered.

    Python has no binding for it (os.rename and os.replace cannot swap two folders), hence ctypes.
    """
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
