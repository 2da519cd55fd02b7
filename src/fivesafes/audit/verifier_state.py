"""The verifier's own memory, kept outside the workspace: the last checkpoint it verified.

Whoever verifies a workspace's audit log (an auditor, a monitoring job, another
organisation) keeps this small JSON file where the workspace's owner cannot write.
It pins the log's origin and public key on first use and remembers the largest signed
checkpoint verified, so a later run detects a log cut below it, or rewritten before
it, even when every checkpoint inside the workspace was deleted or the workspace's
key was replaced. Written atomically (temporary file, fsync, rename).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fivesafes.audit.checkpoint import Checkpoint, verify_checkpoint
from fivesafes.errors import IntegrityError

STATE_VERSION = 1


@dataclass(frozen=True)
class VerifierState:
    """The log this verifier follows (origin, public key) and its last verified checkpoint."""

    origin: str
    public_key: str  # base64 of the raw Ed25519 public key, pinned on first use
    note: str  # the signed note of the last verified checkpoint
    verified_at: str

    def key(self) -> Ed25519PublicKey:
        """The pinned public key."""
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))

    def checkpoint(self) -> Checkpoint:
        """The last verified checkpoint (its signature checked again with the pinned key)."""
        return verify_checkpoint(self.note, self.key(), self.origin)


def raw_key_text(key: Ed25519PublicKey) -> str:
    """The base64 text of a raw Ed25519 public key."""
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def load_state(path: Path) -> VerifierState | None:
    """The state at ``path``, or None when the file does not exist yet (first use)."""
    if not path.exists():
        return None
    hint = (
        "restore the state file from the verifier's backup; delete it only to start "
        "trusting the log afresh (trust on first use)"
    )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != STATE_VERSION:
            raise ValueError(f"version {raw.get('version')!r}")
        state = VerifierState(
            origin=str(raw["origin"]),
            public_key=str(raw["public_key"]),
            note=str(raw["note"]),
            verified_at=str(raw["verified_at"]),
        )
        state.checkpoint()
    except (OSError, ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise IntegrityError(f"verifier state {path} is unreadable ({exc})", hint=hint) from None
    except IntegrityError as exc:
        raise IntegrityError(f"verifier state {path}: {exc.message}", hint=hint) from None
    return state


def next_state(
    previous: VerifierState | None, origin: str, key: Ed25519PublicKey, note: str
) -> VerifierState:
    """The state after verifying up to the checkpoint ``note`` (never moves backwards)."""
    if previous is not None:
        old = previous.checkpoint()
        new = verify_checkpoint(note, key, origin)
        if new.size < old.size:
            note = previous.note
    return VerifierState(
        origin=origin,
        public_key=raw_key_text(key),
        note=note,
        verified_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def save_state(path: Path, state: VerifierState) -> None:
    """Write ``state`` to ``path`` all or nothing."""
    data = json.dumps({"version": STATE_VERSION, **asdict(state)}, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
