"""Atomic file writes (a temp file in the same directory, fsync, os.replace, then fsync of
the folder) and private folders (every one made 0700, parents included)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from pathlib import Path


def private_dirs(path: Path) -> None:
    """Make ``path`` and every missing parent with mode 0700 (whatever the umask).

    ``Path.mkdir(parents=True, mode=0o700)`` gives the mode to the last folder only: its
    parents get the umask's (0755 usually), e.g. ``keys/areas`` or ``areas/AREA``.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=0o700)
            os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask


def _written_beside(path: Path, data: bytes, mode: int) -> str:
    """A temporary file in ``path``'s folder holding ``data`` whole and durable; its name.

    Private (``mode``) from its creation, so no other user ever reads it; removed again
    if the write fails.
    """
    private_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:  # closed whatever fails below
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new content, never a mix."""
    tmp = _written_beside(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


# what os.link raises where the filesystem cannot make hard links
NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV})
CREATE_LOCK = ".create.lock"


def create_bytes(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` as the new file ``path``, whole or not at all; FileExistsError if
    ``path`` exists already, which is left as it is (it may be another process's).

    The whole file is linked in (a link, unlike a rename, never replaces what is there).
    Where the filesystem has no hard links (vfat, some SMB and FUSE mounts), one creator
    at a time checks and writes under an exclusive lock on a file in the same folder.
    """
    tmp = _written_beside(path, data, mode)
    try:
        os.link(tmp, path)
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise
        _create_locked(path, tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    fsync_dir(path.parent)


def _create_locked(path: Path, tmp: str) -> None:
    """Rename the written ``tmp`` to ``path`` unless it exists, one creator at a time."""
    fd = os.open(path.parent / CREATE_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if path.exists():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
        os.rename(tmp, path)
    finally:
        os.close(fd)  # the lock goes with the descriptor


def fsync_dir(path: Path) -> None:
    """Make the names in folder ``path`` durable (a rename is not, until its folder is synced).

    Without it a power cut can bring back the folder as it was before a rename that later
    work depended on: a new area key's file gone while data wrapped under it were committed.
    """
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def process_runs(pid: int) -> bool:
    """True while ``pid`` runs on this host (another account's process counts): what a
    killed process left behind (a store's staging, a server's uploads, a backup's partial
    archive) is swept only once it is gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another account's process: alive
        return True
    return True
