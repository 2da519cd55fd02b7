"""Signed checkpoints of the audit chain, in the C2SP tlog-checkpoint / signed-note format.

A checkpoint says "the chain of ``origin`` had ``size`` events and its head hash
was ``head``", signed with the workspace's Ed25519 key. The body is the three
lines of a C2SP checkpoint (origin, size, base64 hash); ours hashes a linear
chain, not a Merkle tree, so the third line is the chain's head hash. The note
carries one signature line ``— <key name> <base64(key id || signature)>`` where
the key id is the first four bytes of SHA-256(key name || "\\n" || 0x01 || public key),
as in C2SP signed-note for Ed25519.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fivesafes.errors import IntegrityError

ED25519_ALGORITHM = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space, as the signed-note format requires


@dataclass(frozen=True)
class Checkpoint:
    """The chain of ``origin`` had ``size`` events and ended in ``head_hash`` (hex)."""

    origin: str
    size: int
    head_hash: str


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte signed-note key id of an Ed25519 key under ``key_name``."""
    digest = hashlib.sha256(
        key_name.encode("utf-8") + b"\n" + ED25519_ALGORITHM + _raw_public(public_key)
    ).digest()
    return digest[:4]


def checkpoint_body(checkpoint: Checkpoint) -> str:
    """The checkpoint's note body: origin, size and base64 head hash, one per line."""
    if not checkpoint.origin or "\n" in checkpoint.origin:
        raise IntegrityError(
            f"checkpoint origin {checkpoint.origin!r} must be one non-empty line",
            hint="check workspace_id in config.toml",
        )
    head = base64.b64encode(bytes.fromhex(checkpoint.head_hash)).decode("ascii")
    return f"{checkpoint.origin}\n{checkpoint.size}\n{head}\n"


def sign_checkpoint(checkpoint: Checkpoint, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """The signed note of ``checkpoint``: body, blank line, one signature line."""
    body = checkpoint_body(checkpoint)
    signature = private_key.sign(body.encode("utf-8"))
    blob = key_id(key_name, private_key.public_key()) + signature
    return f"{body}\n{SIGNATURE_PREFIX}{key_name} {base64.b64encode(blob).decode('ascii')}\n"


def parse_checkpoint(note: str) -> tuple[Checkpoint, str, list[tuple[str, bytes]]]:
    """Split a signed note into its checkpoint, its body text and its (key name, blob) lines."""
    body, sep, sigs = note.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3:
        raise IntegrityError(
            "a checkpoint note is malformed (expected origin, size, hash, a blank line "
            "and signatures)",
            hint="restore the checkpoint file or table from a backup",
        )
    try:
        size = int(lines[1])
        head = base64.b64decode(lines[2], validate=True).hex()
    except (ValueError, binascii.Error):
        raise IntegrityError(
            f"checkpoint of {lines[0]!r} has an unreadable size or hash",
            hint="restore the checkpoint file or table from a backup",
        ) from None
    signatures: list[tuple[str, bytes]] = []
    for line in sigs.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            continue
        name, _, b64 = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        try:
            signatures.append((name, base64.b64decode(b64, validate=True)))
        except binascii.Error:
            continue
    return Checkpoint(lines[0], size, head), body + "\n", signatures


def verify_checkpoint(note: str, public_key: Ed25519PublicKey, key_name: str) -> Checkpoint:
    """The checkpoint of a signed note whose signature by ``key_name`` is valid, else raise."""
    checkpoint, body, signatures = parse_checkpoint(note)
    expected_id = key_id(key_name, public_key)
    for name, blob in signatures:
        if name != key_name or blob[:4] != expected_id:
            continue
        try:
            public_key.verify(blob[4:], body.encode("utf-8"))
        except InvalidSignature:
            break
        return checkpoint
    raise IntegrityError(
        f"checkpoint at size {checkpoint.size} has no valid signature by {key_name}",
        hint="the checkpoint was forged or altered, or the public key is not this "
        "workspace's; compare keys/workspace-signing.pub with your offline copy",
    )
