"""Envelope encryption: one random data key per object, wrapped by the area key.

The wrapped key is bound to its area and object id (associated data), so a wrapped
key copied onto another dataset does not open it. Rotation re-wraps data keys under a
new area key: the data themselves are never re-encrypted.
"""

from __future__ import annotations

import secrets

from fivesafes.vault.keys import KEY_BYTES, KeyProvider, WrappedKey


def new_data_key() -> bytes:
    """A fresh random 256-bit data key."""
    return secrets.token_bytes(KEY_BYTES)


def key_context(area: str, object_id: str) -> bytes:
    """Associated data binding a wrapped data key to its area and object."""
    return f"fivesafes-data-key|{area}|{object_id}".encode()


def seal_data_key(provider: KeyProvider, area: str, object_id: str, data_key: bytes) -> WrappedKey:
    """Wrap ``data_key`` under the area's current key."""
    return provider.wrap(area, data_key, key_context(area, object_id))


def open_data_key(provider: KeyProvider, area: str, object_id: str, wrapped: WrappedKey) -> bytes:
    """Unwrap the data key of one object (KeyProviderError if the area key is missing/wrong)."""
    return provider.unwrap(area, wrapped, key_context(area, object_id))


def rewrap(provider: KeyProvider, area: str, object_id: str, wrapped: WrappedKey) -> WrappedKey:
    """Re-wrap a data key under the area's current key (rotation); the data stay as they are."""
    return seal_data_key(
        provider, area, object_id, open_data_key(provider, area, object_id, wrapped)
    )
