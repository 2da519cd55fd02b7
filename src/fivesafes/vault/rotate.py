"""Area-key rotation: re-wrap every data key of an area, then destroy the old area keys."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.envelope import open_data_key, rewrap
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.manifest import KINDS
from fivesafes.vault.pseudonymise import rewrap_pseudonym_key
from fivesafes.vault.record_keys import rewrap_record_secret
from fivesafes.vault.store import AreaStore


@dataclass(frozen=True)
class Rotation:
    """What a rotation did."""

    area: str
    new_key_id: str
    destroyed_key_ids: tuple[str, ...]
    rewrapped: int


def rotate_area_key(
    store: AreaStore,
    provider: KeyProvider,
    *,
    locked: bool = False,
    rewrap_others: Callable[[], int] | None = None,
    destroy_old: bool = True,
    leave: Collection[tuple[str, str]] = (),
) -> Rotation:
    """Re-wrap all data keys of the area under a new area key; the old keys are destroyed.

    Safe to re-run after a crash: each manifest is replaced atomically, and old keys are
    destroyed only after every data key opens under the new one. ``locked``: the caller
    already holds the area lock exclusively (a second flock in one process would wait
    for itself). ``rewrap_others`` re-wraps data keys kept elsewhere (e.g. sealed release
    content in the database) and returns how many; it runs before the old keys go.
    ``destroy_old=False``: the old keys are left for the caller to pass to
    :func:`destroy_area_keys` once what ``rewrap_others`` changed is committed (a
    rollback would otherwise leave those rows wrapped under keys that no longer exist).
    ``leave``: (kind, name) of objects the caller destroyed in the same transaction and
    shreds after its commit; they are neither checked nor re-wrapped, so that their data
    keys stay under the old area keys and die with them (a kill before the shredding
    then leaves ciphertext no living key opens).
    """
    with contextlib.nullcontext() if locked else area_lock(store, exclusive=True):
        old_ids = provider.key_ids(store.area)
        # Every data key must open before anything changes: a missing or wrong old key
        # stops the rotation here, with no new key made and nothing re-wrapped.
        kept = [m for kind in KINDS for m in store.manifests(kind) if (kind, m.name) not in leave]
        for manifest in kept:
            open_data_key(provider, store.area, manifest.object_id, manifest.wrapped_key)
        new_id = provider.create_key(store.area)
        count = 0
        for manifest in kept:
            if manifest.wrapped_key.key_id == new_id:
                continue
            wrapped = rewrap(provider, store.area, manifest.object_id, manifest.wrapped_key)
            store.save_manifest(manifest.with_key(wrapped))
            count += 1
        rewrap_pseudonym_key(store, provider)
        rewrap_record_secret(store, provider)
        if rewrap_others is not None:
            count += rewrap_others()
        if destroy_old:
            destroy_area_keys(provider, store.area, old_ids)
    return Rotation(store.area, new_id, tuple(old_ids), count)


def destroy_area_keys(provider: KeyProvider, area: str, key_ids: Iterable[str]) -> None:
    """Destroy the area key versions a rotation retired (after its changes are committed)."""
    for key_id in key_ids:
        provider.destroy_key(area, key_id)
