"""Secrets kept per area beside its data (the pseudonym key, the record-key secret):
random, wrapped by the area key in one small file, re-wrapped when the area key rotates."""

from __future__ import annotations

import json

from fivesafes.vault.atomic import atomic_write_bytes, create_bytes
from fivesafes.vault.envelope import new_data_key, open_data_key, rewrap, seal_data_key
from fivesafes.vault.keys import KeyProvider, WrappedKey
from fivesafes.vault.store import AreaStore


def area_secret(store: AreaStore, provider: KeyProvider, file: str, object_id: str) -> bytes:
    """The secret kept in ``file`` of the area, created (and wrapped) on first use."""
    path = store.dir / file
    if path.is_file():
        wrapped = WrappedKey.from_json(json.loads(path.read_text()))
        return open_data_key(provider, store.area, object_id, wrapped)
    store.create()
    secret = new_data_key()
    wrapped = seal_data_key(provider, store.area, object_id, secret)
    try:
        # created, never replaced: two first uses at once (ingests share the area lock)
        # would otherwise each use its own secret and keep only the second, and what
        # the first pseudonymised could no longer be found
        create_bytes(path, json.dumps(wrapped.to_json()).encode(), mode=0o600)
    except FileExistsError:  # another process made it meanwhile: use theirs
        wrapped = WrappedKey.from_json(json.loads(path.read_text()))
        return open_data_key(provider, store.area, object_id, wrapped)
    return secret


def rewrap_area_secret(store: AreaStore, provider: KeyProvider, file: str, object_id: str) -> bool:
    """Re-wrap the secret in ``file`` under the current area key; False if there is none."""
    path = store.dir / file
    if not path.is_file():
        return False
    wrapped = WrappedKey.from_json(json.loads(path.read_text()))
    new = rewrap(provider, store.area, object_id, wrapped)
    atomic_write_bytes(path, json.dumps(new.to_json()).encode(), mode=0o600)
    return True
