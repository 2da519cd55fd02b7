"""Keyed pseudonyms: direct identifiers replaced by HMAC-SHA-256 under a key per area.

The same identifier gives the same pseudonym inside one area (analysts can link
records) and unrelated pseudonyms in different areas; without the area's pseudonym key
nobody can recompute or confirm a pseudonym from a guessed identifier. The key is
random, wrapped by the area key like a data key, and survives area-key rotation
(re-wrapped), so pseudonyms stay stable.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

import pyarrow as pa

from fivesafes.errors import DataError
from fivesafes.vault.area_secret import area_secret, rewrap_area_secret
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.store import AreaStore

PSEUDONYM_FILE = "pseudonym.json"
PSEUDONYM_OBJECT = "pseudonym-key"
PSEUDONYM_HEX = 32  # 128 bits: collisions are negligible below ~10^18 identifiers


def pseudonym(key: bytes, value: str) -> str:
    """The pseudonym of one identifier (hex, 128 bits of HMAC-SHA-256)."""
    return hmac.digest(key, value.encode(), "sha256").hex()[:PSEUDONYM_HEX]


def pseudonymise_column(column: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """Replace every value by its pseudonym; nulls stay null."""
    values = column.to_pylist()
    return pa.array([None if v is None else pseudonym(key, str(v)) for v in values], pa.string())


def pseudonymise_batch(batch: pa.RecordBatch, columns: Sequence[str], key: bytes) -> pa.RecordBatch:
    """Replace the named identifier columns of ``batch`` by pseudonyms (strings)."""
    missing = [c for c in columns if c not in batch.schema.names]
    if missing:
        raise DataError(
            f"cannot pseudonymise missing column(s): {', '.join(missing)}",
            hint=f"the data have columns {', '.join(batch.schema.names)}",
        )
    arrays = []
    fields = []
    for f, arr in zip(batch.schema, batch.columns, strict=True):
        if f.name in columns:
            arrays.append(pseudonymise_column(arr, key))
            fields.append(pa.field(f.name, pa.string()))
        else:
            arrays.append(arr)
            fields.append(f)
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def pseudonymised_schema(schema: pa.Schema, columns: Sequence[str]) -> pa.Schema:
    """The schema after pseudonymising ``columns`` (they become strings)."""
    return pa.schema([pa.field(f.name, pa.string()) if f.name in columns else f for f in schema])


def area_pseudonym_key(store: AreaStore, provider: KeyProvider) -> bytes:
    """The area's pseudonymisation key, created (and wrapped) on first use."""
    return area_secret(store, provider, PSEUDONYM_FILE, PSEUDONYM_OBJECT)


def rewrap_pseudonym_key(store: AreaStore, provider: KeyProvider) -> bool:
    """Re-wrap the area's pseudonym key under the current area key; False if it has none."""
    return rewrap_area_secret(store, provider, PSEUDONYM_FILE, PSEUDONYM_OBJECT)
