"""The verifier's state file: pinned key and origin, never backwards, atomic, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fivesafes.audit.checkpoint import Checkpoint, sign_checkpoint
from fivesafes.audit.verifier_state import load_state, next_state, raw_key_text, save_state
from fivesafes.errors import IntegrityError

ORIGIN = "fivesafes/test"


def _note(key: Ed25519PrivateKey, size: int) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, f"{size:064x}"), key, ORIGIN)


def test_first_use_then_round_trip(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "sub" / "state.json"
    assert load_state(path) is None
    state = next_state(None, ORIGIN, key.public_key(), _note(key, 5))
    save_state(path, state)
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = load_state(path)
    assert loaded == state and loaded.checkpoint().size == 5
    assert loaded.public_key == raw_key_text(key.public_key())
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temporary left


def test_the_state_never_moves_backwards(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    state = next_state(None, ORIGIN, key.public_key(), _note(key, 9))
    assert next_state(state, ORIGIN, key.public_key(), _note(key, 4)).checkpoint().size == 9
    assert next_state(state, ORIGIN, key.public_key(), _note(key, 12)).checkpoint().size == 12


@pytest.mark.parametrize(
    "text",
    ["not json", "{}", '{"version": 1, "origin": "x"}', '{"version": 99}'],
)
def test_an_unreadable_state_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(IntegrityError, match=r"verifier state .* is unreadable") as info:
        load_state(path)
    assert "restore the state file" in str(info.value.hint)


def test_a_state_whose_note_was_altered_is_refused(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "state.json"
    save_state(path, next_state(None, ORIGIN, key.public_key(), _note(key, 5)))
    path.write_text(path.read_text().replace("\\n5\\n", "\\n50\\n"))
    with pytest.raises(IntegrityError, match="no valid signature"):
        load_state(path)
