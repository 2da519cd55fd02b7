"""The genesis event, read only when a signed checkpoint vouches for it.

Event 1 (``workspace.create``) says how the workspace was made, e.g. whether it is a
demo workspace that accepts FIVESAFES_USER. Whoever can write to the database can
rewrite it and re-hash the chain, so it counts only when the smallest valid signed
checkpoint (table or checkpoint file) still matches the chain recomputed from
event 1. A workspace signs its creation event at size 1, so this reads one or a few
rows and checks one signature.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from fivesafes.audit.chain import StoredRow, verify_rows
from fivesafes.audit.checkpoint import Checkpoint, parse_checkpoint, verify_checkpoint
from fivesafes.audit.checkpoint_file import read_checkpoint_file
from fivesafes.errors import IntegrityError
from fivesafes.store.models.audit import AuditCheckpoint, AuditRecord

GENESIS_ACTION = "workspace.create"
# A creation checkpoint further out than this is not a workspace's own: refuse to walk.
MAX_GENESIS_SIZE = 1000
FILE_LINES = 100  # lines of the checkpoint file searched for the genesis checkpoint


def _first_signed(
    notes: list[str], public_key: Ed25519PublicKey, key_name: str
) -> Checkpoint | None:
    best: Checkpoint | None = None
    for note in notes:
        if best is not None and _claimed_size(note) >= best.size:
            continue  # cannot be smaller: spare the signature check
        try:
            checkpoint = verify_checkpoint(note, public_key, key_name)
        except IntegrityError:
            continue
        if checkpoint.origin == key_name and (best is None or checkpoint.size < best.size):
            best = checkpoint
    return best


def _claimed_size(note: str) -> int:
    try:
        return parse_checkpoint(note)[0].size
    except IntegrityError:
        return -1


def verified_genesis(
    connection: Connection,
    public_key: Ed25519PublicKey,
    key_name: str,
    checkpoint_file: Path | None = None,
) -> dict[str, Any] | None:
    """The details of the genesis event if the first signed checkpoint vouches for it, else None."""
    # The smallest few: one signature check at most, in an intact log (size 1 is signed).
    small = (
        select(AuditCheckpoint.note)
        .where(AuditCheckpoint.size <= MAX_GENESIS_SIZE)
        .order_by(AuditCheckpoint.size)
        .limit(FILE_LINES)
    )
    notes = [str(n) for n in connection.execute(small).scalars()]
    first = _first_signed(notes, public_key, key_name)
    if first is None and checkpoint_file is not None:
        # The file grows by a line per commit: its head holds the genesis checkpoint.
        head = read_checkpoint_file(checkpoint_file, first=FILE_LINES)[0]
        first = _first_signed(head, public_key, key_name)
    if first is None or first.size > MAX_GENESIS_SIZE:
        return None
    rows = connection.execute(
        select(
            AuditRecord.seq,
            AuditRecord.at_text,
            AuditRecord.action,
            AuditRecord.actor,
            AuditRecord.outcome,
            AuditRecord.area,
            AuditRecord.dataset,
            AuditRecord.subject,
            AuditRecord.details_text,
            AuditRecord.prev_hash,
            AuditRecord.hash,
        )
        .where(AuditRecord.seq <= first.size)
        .order_by(AuditRecord.seq)
    ).all()
    stored: list[StoredRow] = [tuple(r) for r in rows]
    result = verify_rows(stored, sizes={first.size})
    if not result.ok or result.recomputed_at.get(first.size) != first.head_hash:
        return None
    if not stored or stored[0][2] != GENESIS_ACTION:
        return None
    try:
        details = json.loads(stored[0][8])
    except ValueError:
        return None
    return details if isinstance(details, dict) else None
