"""The checkpoint file: every signed checkpoint, one JSON line each, outside the database.

Append-only (O_APPEND, fsync): a rewrite of the whole database cannot reach it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

# fsync at most this often per file: a checkpoint is signed at every commit, and an
# fsync per commit would cost more than the commit itself on SQLite (WAL, synchronous
# NORMAL, which does not fsync at commit either). The database row is the durable copy;
# a line lost to an OS crash within this window is only a warning to verify.
FSYNC_INTERVAL_S = 1.0
_last_fsync: dict[Path, float] = {}


def append_checkpoint_line(path: Path, line: dict[str, Any], *, sync: bool | None = None) -> None:
    """Append one JSON line to an append-only checkpoint file (one write, O_APPEND).

    ``sync`` True fsyncs now, False never; None (the default) fsyncs when the file was
    last synced more than FSYNC_INTERVAL_S ago in this process.
    """
    data = (json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    if _torn(path):
        # a power cut tore the last line: end it, or this record would join it and be
        # lost to the readers as one unreadable line
        data = b"\n" + data
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
        now = time.monotonic()
        if sync or (
            sync is None and now - _last_fsync.get(path, -FSYNC_INTERVAL_S) >= FSYNC_INTERVAL_S
        ):
            os.fsync(fd)
            _last_fsync[path] = now
    finally:
        os.close(fd)


def _torn(path: Path) -> bool:
    """Whether the file ends inside a line. A witness folder may let this account append
    but not read: then it cannot tell, and appends as it is."""
    try:
        with path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) != b"\n"
    except OSError:  # absent, empty, or not readable by this account
        return False


def read_checkpoint_file(path: Path, *, first: int | None = None) -> tuple[list[str], list[str]]:
    """The signed notes in the checkpoint file (its ``first`` lines only, if given), and
    warnings about unreadable lines."""
    notes: list[str] = []
    warnings: list[str] = []
    if not path.exists():
        return notes, warnings
    with path.open(encoding="utf-8") as handle:
        lines = [line for _, line in zip(range(first), handle, strict=False)] if first else None
    if lines is None:
        lines = path.read_text(encoding="utf-8").splitlines()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            note = json.loads(raw)["note"]
            if not isinstance(note, str):
                raise TypeError
            notes.append(note)
        except (ValueError, KeyError, TypeError):
            warnings.append(f"{path.name} line {number} is not a checkpoint record (skipped)")
    return notes, warnings
