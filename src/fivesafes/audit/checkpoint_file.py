"""The checkpoint file: every signed checkpoint, one JSON line each, outside the database.

Append-only (O_APPEND, fsync): a rewrite of the whole database cannot reach it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def append_checkpoint_line(path: Path, line: dict[str, Any]) -> None:
    """Append one JSON line to the checkpoint file and fsync it (the file is append-only)."""
    data = (json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoint_file(path: Path) -> tuple[list[str], list[str]]:
    """The signed notes in the checkpoint file, and warnings about unreadable lines."""
    notes: list[str] = []
    warnings: list[str] = []
    if not path.exists():
        return notes, warnings
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
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
