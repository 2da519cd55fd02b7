"""Seal confidential bytes (a submitted table, a release's hidden cells) under an area's key.

Envelope encryption as in the vault: a fresh data key per object encrypts the bytes
(AES-256-GCM, bound to the object id), and the area key wraps the data key. The
database keeps only ciphertext and the wrapped key.
"""

from __future__ import annotations

import json
import secrets
import zlib

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fivesafes.errors import IntegrityError
from fivesafes.vault.envelope import new_data_key, open_data_key, seal_data_key
from fivesafes.vault.keys import NONCE_BYTES, KeyProvider, WrappedKey


def seal(provider: KeyProvider, area: str, object_id: str, plaintext: bytes) -> tuple[bytes, str]:
    """Encrypt ``plaintext`` for ``area``; returns (ciphertext, wrapped key as JSON)."""
    key = new_data_key()
    nonce = secrets.token_bytes(NONCE_BYTES)
    body = AESGCM(key).encrypt(nonce, zlib.compress(plaintext), object_id.encode())
    wrapped = seal_data_key(provider, area, object_id, key)
    return nonce + body, json.dumps(wrapped.to_json())


def unseal(
    provider: KeyProvider, area: str, object_id: str, sealed: bytes, wrapped_json: str
) -> bytes:
    """Decrypt what :func:`seal` made; IntegrityError if it was tampered with."""
    key = open_data_key(provider, area, object_id, WrappedKey.from_json(json.loads(wrapped_json)))
    try:
        body = AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], object_id.encode())
    except Exception as exc:  # cryptography raises InvalidTag
        raise IntegrityError(
            f"sealed content {object_id} does not decrypt",
            hint="it was changed or belongs to another object; restore it from a backup",
        ) from exc
    return zlib.decompress(body)
