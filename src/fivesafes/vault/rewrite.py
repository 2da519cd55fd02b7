"""A new version of a stored dataset, written whole and swapped in; the old one shredded.

Erasure and rectification (a data subject's rights, issue 17) change some rows of an
encrypted dataset. The dataset is decrypted in memory (record keys included, so the
perturbation of later tables stays the same for the rows that stay), changed, and
encrypted under a new data key as a new object beside the old one; then, in two renames,
the old object leaves the area's view and the new one takes its name. The caller records
the change and calls ``Rewrite.finish`` (the old object crypto-shredded) once the record
is committed, or ``Rewrite.undo`` (the new object shredded, the old one put back).
No plaintext touches the disk.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from fivesafes.errors import ConflictError
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.manifest import Manifest
from fivesafes.vault.reader import open_table
from fivesafes.vault.shred import shred_dir
from fivesafes.vault.store import STAGING, AreaStore
from fivesafes.vault.writer import write_object


@dataclass(frozen=True)
class Rewrite:
    """The swap done: the new version in place, the old one out of sight until finished."""

    store: AreaStore
    old: Manifest
    new: Manifest
    doomed: Path  # the old object's directory, out of sight

    def finish(self) -> None:
        """Crypto-shred the old version (after the change is recorded)."""
        shred_dir(self.doomed)

    def undo(self) -> None:
        """Shred the new version and put the old one back (the change was not recorded)."""
        target = self.store.object_dir(self.old.name, self.old.kind)
        spare = _out_of_sight(self.store, "undo")
        os.rename(target, spare)
        os.rename(self.doomed, target)
        shred_dir(spare)


def _out_of_sight(store: AreaStore, what: str) -> Path:
    store.create()
    return store.dir / STAGING / f"{os.getpid()}-{what}-{secrets.token_hex(6)}"


def rewrite_dataset(
    store: AreaStore,
    provider: KeyProvider,
    name: str,
    change: Callable[[pa.Table], pa.Table],
    *,
    note: dict[str, Any],
) -> Rewrite:
    """Write ``change(table)`` as the new version of dataset ``name``; ``note`` (counts,
    never values) is added to the manifest's list of rewrites."""
    old = store.manifest(name)
    table = change(open_table(store, provider, name, record_keys=True))
    temporary = f"{name}-v{secrets.token_hex(4)}"
    written = write_object(
        store,
        provider,
        name=temporary,
        schema=table.schema,
        batches=table.to_batches(),
        provenance=old.provenance,  # where the data came from does not change
        extra={**old.extra, "rewrites": [*old.extra.get("rewrites", []), note]},
    )
    target = store.object_dir(name)
    doomed = _out_of_sight(store, "rewrite")
    try:
        os.rename(target, doomed)
    except FileNotFoundError:
        shred_dir(store.object_dir(temporary))
        raise ConflictError(
            f"dataset {name!r} of area {store.area!r} vanished while it was rewritten",
            hint="another process destroyed it; check `fivesafes dataset stored`",
        ) from None
    os.rename(store.object_dir(temporary), target)
    new = replace(written, name=name)
    store.save_manifest(new)
    return Rewrite(store, old, new, doomed)
