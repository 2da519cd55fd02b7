"""Crypto-shredding: destroy an object's wrapped data key, then remove its ciphertext.

Without the data key the ciphertext is noise, wherever copies of it survive (backups,
snapshots). A backup of the *manifest* still holds the wrapped key, which opens under the
area key while that key lives: rotate the area key after destroying (the service does)
so that no surviving copy of a wrapped key opens any more.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fivesafes.errors import NotFoundError
from fivesafes.vault.store import MANIFEST_FILE, STAGING, AreaStore


@dataclass(frozen=True)
class Shredded:
    """The facts kept about a destroyed object (no key, no data)."""

    area: str
    kind: str
    name: str
    facts: dict[str, Any]
    shredded_at: str


def _overwrite(path: os.PathLike[str] | str) -> None:
    # Best effort on copy-on-write filesystems and SSDs; the guarantee is the key's loss.
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.write(b"\0" * size)
        f.flush()
        os.fsync(f.fileno())


def shred_dir(doomed: Path) -> None:
    """Destroy an object directory already out of sight: its manifest (the wrapped data
    key) overwritten, then everything removed."""
    _overwrite(doomed / MANIFEST_FILE)
    shutil.rmtree(doomed)


def shred_file(path: Path) -> bool:
    """Destroy one sealed file whose wrapped key lives inside it (e.g. a case's sealed
    subject-access records): out of sight in one rename, overwritten, removed. False when
    there was nothing to shred."""
    doomed = path.with_name(f".{path.name}.{os.getpid()}-shred-{secrets.token_hex(6)}")
    try:
        os.rename(path, doomed)
    except FileNotFoundError:
        return False
    _overwrite(doomed)
    doomed.unlink()
    return True


def shred(store: AreaStore, name: str, *, kind: str = "datasets") -> Shredded:
    """Destroy one object of the area; return what the register should keep."""
    manifest = store.manifest(name, kind)  # NotFoundError if absent
    facts = manifest.describe()
    directory = store.object_dir(name, kind)
    # Take the object out of sight in one rename, so no reader opens a half-shredded one.
    store.create()
    doomed = store.dir / STAGING / f"{os.getpid()}-shred-{secrets.token_hex(6)}"
    try:
        os.rename(directory, doomed)
    except FileNotFoundError:
        raise NotFoundError(
            f"{kind[:-1]} {name!r} vanished from area {store.area!r} while shredding",
            hint="another process destroyed it; check the register",
        ) from None
    shred_dir(doomed)
    return Shredded(store.area, kind, name, facts, datetime.now(UTC).isoformat())
