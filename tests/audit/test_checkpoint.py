"""Signed checkpoints: C2SP-style note, Ed25519 signature, forgery refused."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fivesafes.audit.checkpoint import (
    Checkpoint,
    checkpoint_body,
    key_id,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from fivesafes.errors import IntegrityError

ORIGIN = "fivesafes/1234"
HEAD = hashlib.sha256(b"head").hexdigest()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_body_is_origin_size_and_base64_hash() -> None:
    body = checkpoint_body(Checkpoint(ORIGIN, 42, HEAD))
    origin, size, head, end = body.split("\n")
    assert (origin, size, end) == (ORIGIN, "42", "")
    assert base64.b64decode(head).hex() == HEAD


def test_key_id_follows_signed_note(key: Ed25519PrivateKey) -> None:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + raw).digest()[:4]
    assert key_id(ORIGIN, key.public_key()) == expected


def test_signed_note_round_trips(key: Ed25519PrivateKey) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, HEAD)
    note = sign_checkpoint(checkpoint, key, ORIGIN)
    assert note.startswith(checkpoint_body(checkpoint) + "\n\u2014 " + ORIGIN + " ")
    assert verify_checkpoint(note, key.public_key(), ORIGIN) == checkpoint
    assert parse_checkpoint(note)[0] == checkpoint


def test_altered_size_or_hash_fails_the_signature(key: Ed25519PrivateKey) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 7, HEAD), key, ORIGIN)
    other = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    for forged in (note.replace("\n7\n", "\n8\n", 1), note.replace(note.split("\n")[2], other)):
        with pytest.raises(IntegrityError, match="no valid signature"):
            verify_checkpoint(forged, key.public_key(), ORIGIN)


def test_another_key_or_name_is_refused(key: Ed25519PrivateKey) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 7, HEAD), key, ORIGIN)
    with pytest.raises(IntegrityError):
        verify_checkpoint(note, Ed25519PrivateKey.generate().public_key(), ORIGIN)
    with pytest.raises(IntegrityError):
        verify_checkpoint(note, key.public_key(), "fivesafes/other")


@pytest.mark.parametrize("note", ["", "origin\n12\n", "origin\nx\nAAAA\n\n\u2014 k AAAA\n"])
def test_malformed_notes_are_integrity_errors(note: str) -> None:
    with pytest.raises(IntegrityError):
        parse_checkpoint(note)
