"""Witness settings: folders and commands, and the file a folder witness keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from fivesafes.audit.checkpoint_file import read_checkpoint_file
from fivesafes.audit.witness import deliver, parse_witness, witness_file, witness_file_name
from fivesafes.errors import WorkspaceError


def test_parse_folder_and_command(tmp_path: Path) -> None:
    assert parse_witness(str(tmp_path)).folder == tmp_path
    assert parse_witness("command:logger -t 'fivesafes audit'").command == (
        "logger",
        "-t",
        "fivesafes audit",
    )


@pytest.mark.parametrize(
    ("spec", "message"), [("relative/dir", "absolute"), ("command:", "no command")]
)
def test_bad_witness_settings_are_clear_errors(spec: str, message: str) -> None:
    with pytest.raises(WorkspaceError, match=message):
        parse_witness(spec)


def test_a_folder_witness_appends_one_file_per_log(tmp_path: Path) -> None:
    witness = parse_witness(str(tmp_path))
    for i in range(3):
        deliver(witness, "fivesafes/abc-123", {"at": str(i), "note": f"note {i}"})
    name = witness_file_name("fivesafes/abc-123")
    assert "/" not in name and witness_file(tmp_path, "fivesafes/abc-123") == tmp_path / name
    notes, warnings = read_checkpoint_file(tmp_path / name)
    assert notes == ["note 0", "note 1", "note 2"] and warnings == []
