"""The append-only checkpoint file beside the database (audit/checkpoint_file.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fivesafes.audit.checkpoint_file import append_checkpoint_line, read_checkpoint_file


def test_records_appended_are_read_back_in_order(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.jsonl"
    append_checkpoint_line(path, {"note": "first"}, sync=False)
    append_checkpoint_line(path, {"note": "second"}, sync=True)
    assert read_checkpoint_file(path) == (["first", "second"], [])
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_torn_last_line_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    # a power cut after part of one write: the file ends mid-record
    path = tmp_path / "checkpoints.jsonl"
    append_checkpoint_line(path, {"note": "kept"}, sync=False)
    whole = json.dumps({"note": "torn"})
    with path.open("a", encoding="utf-8") as handle:
        handle.write(whole[: len(whole) // 2])
    append_checkpoint_line(path, {"note": "after the cut"}, sync=False)
    notes, warnings = read_checkpoint_file(path)
    assert notes == ["kept", "after the cut"]
    assert warnings == [f"{path.name} line 2 is not a checkpoint record (skipped)"]


def test_a_file_this_account_may_only_append_to_is_still_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a witness folder can grant append without read (docs/audit-log.md); as root a mode
    # cannot deny the read, so the refusal is the file system's answer, simulated
    path = tmp_path / "witness.jsonl"
    append_checkpoint_line(path, {"note": "one"}, sync=False)
    opened = Path.open

    def no_read(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self == path and "r" in mode:
            raise PermissionError(13, "Permission denied", str(self))
        return opened(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", no_read)
    append_checkpoint_line(path, {"note": "two"}, sync=False)
    monkeypatch.undo()
    assert read_checkpoint_file(path) == (["one", "two"], [])
