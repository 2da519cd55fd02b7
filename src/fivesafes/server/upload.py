"""Files streamed to the server (``dataset ingest FILE``, ``release submit PATH``).

The body of the request is the file itself, read in chunks into a private folder of
the server's workspace (0700, the file 0600, under the client's base name so the
provenance names the file the person sent), refused past a size limit, and removed
once the operation has run, whatever its outcome. The operation never sees a path the
caller chose: only the one written here.

A file sent for ingest is the dataset's rows in plain text. A server killed (kill -9,
power cut) before it removed them would leave them on disk for good, and in every
backup after: each folder is named after the server's process id, and the next start
removes those of processes that no longer run (:func:`sweep_uploads`).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fivesafes.app import App
from fivesafes.errors import ValidationError
from fivesafes.server.operation import Params
from fivesafes.vault.atomic import process_runs

UPLOADS_DIR = "uploads"
MAX_UPLOAD_ENV = "FIVESAFES_SERVER_MAX_UPLOAD_BYTES"
DEFAULT_MAX_UPLOAD = 8 * 1024**3  # 8 GiB: a large survey file, not a disk's worth


@dataclass(frozen=True)
class UploadOperation:
    """An operation that takes one file from the caller beside its parameters."""

    name: str
    params: type[Params]
    run: Callable[[App, str, Any, Path], Any]  # (app, acting login, params, file) -> result
    summary: str

    @property
    def path(self) -> str:
        """Its route under /api/v1."""
        return "/" + self.name.replace(".", "/")


def scratch_folder(home: Path) -> Path:
    """A new private folder (0700) under the workspace's uploads, named after this process."""
    parent = home / UPLOADS_DIR
    parent.mkdir(mode=0o700, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=parent))


def sweep_uploads(home: Path) -> list[str]:
    """Remove what killed servers left in the uploads folder (plain-text files sent to them).

    A folder whose process still runs (another server on this workspace) is left alone; one
    not named after a process (older servers named them at random) belongs to no one alive.
    """
    parent = home / UPLOADS_DIR
    if not parent.is_dir():
        return []
    removed = []
    for folder in sorted(parent.iterdir()):
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and (int(pid) == os.getpid() or process_runs(int(pid))):
            continue
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)
        else:
            folder.unlink(missing_ok=True)
        removed.append(folder.name)
    return removed


def max_upload_bytes() -> int:
    """The largest body the server takes (its environment may lower or raise it)."""
    raw = os.environ.get(MAX_UPLOAD_ENV, "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_MAX_UPLOAD


def safe_name(filename: str) -> str:
    """The client's base name, if it is one a file may have here; ValidationError otherwise."""
    base = Path(filename.replace("\\", "/")).name
    if base in ("", ".", "..") or "\x00" in base or len(base) > 200 or base.startswith("."):
        raise ValidationError(
            f"the file name {filename!r} cannot be used",
            hint="send a file with a plain name, e.g. survey.csv",
        )
    return base


def unpack_files(
    archive: Path,
    folder: Path,
    *,
    refuse: Callable[[str, bool], str | None],
    max_files: int,
    hint: str,
) -> Path:
    """A caller's tar of a folder, extracted into the new private ``folder``.

    Every member is checked before any byte is written: a regular file with a plain
    name at the top level (never a link, a device or a path leading out), at most
    ``max_files`` of them, and none ``refuse(name, plain)`` gives a reason against (it
    words the refusal; a member that is not plain is refused whatever it says).
    """
    folder.mkdir(mode=0o700)
    with tarfile.open(archive, "r:") as tar:
        members = tar.getmembers()
        if len(members) > max_files:
            raise ValidationError(
                f"the folder sent holds {len(members)} files, more than {max_files}", hint=hint
            )
        for member in members:
            name = member.name
            plain = member.isreg() and _plain_name(name)
            reason = refuse(name, plain)
            if reason is None and not plain:
                reason = "only plain files at its top level"
            if reason is not None:
                raise ValidationError(f"the folder sent holds {name!r}: {reason}", hint=hint)
        for member in members:
            source = tar.extractfile(member)
            assert source is not None
            with source, (folder / member.name).open("xb") as out:
                shutil.copyfileobj(source, out)
    return folder


def _plain_name(name: str) -> bool:
    try:
        return safe_name(name) == name
    except ValidationError:
        return False


def _too_large(limit: int) -> ValidationError:
    return ValidationError(
        f"the file is larger than the server takes ({limit:,} bytes)",
        hint=f"ask the administrator to raise {MAX_UPLOAD_ENV}, or split the file",
    )


@asynccontextmanager
async def received(
    app: App, filename: str, chunks: AsyncIterator[bytes], limit: int
) -> AsyncIterator[Path]:
    """The streamed body written to a private file; removed when the block ends."""
    base = safe_name(filename)
    folder = scratch_folder(app.workspace.home)
    target = folder / base
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        total = 0
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                total += len(chunk)
                if total > limit:
                    raise _too_large(limit)
                out.write(chunk)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)
