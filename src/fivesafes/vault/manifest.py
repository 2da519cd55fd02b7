"""The manifest of an encrypted object: its wrapped data key, schema, row count, provenance.

A manifest holds no confidential values (column names and types only) and sits next to
the ciphertext; the register in the database mirrors its facts. The row count is also
sealed inside the ciphertext trailer and checked on every open.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from fivesafes.vault.keys import WrappedKey

KINDS = ("datasets", "outputs")


@dataclass(frozen=True)
class Provenance:
    """Where an object came from: source, file hash, who brought it in and when."""

    source: str  # file name (no directory) or, for an output, the query text
    sha256: str  # of the source file bytes; of the result for an output
    size_bytes: int
    ingested_by: str
    ingested_at: str  # ISO 8601 UTC
    source_format: str  # csv | parquet | query


@dataclass(frozen=True)
class Column:
    """Name and Arrow type of one column."""

    name: str
    type: str


@dataclass(frozen=True)
class Manifest:
    """Everything needed to open, describe and shred one encrypted object."""

    area: str
    kind: str  # "datasets" or "outputs"
    name: str
    object_id: str
    wrapped_key: WrappedKey
    rows: int
    columns: tuple[Column, ...]
    schema_ipc: str  # base64 Arrow IPC schema, so an empty dataset still has its types
    provenance: Provenance
    ciphertext_bytes: int
    frames: int
    extra: dict[str, Any] = field(default_factory=dict)

    def with_key(self, wrapped: WrappedKey) -> Manifest:
        """Same manifest, data key wrapped differently (rotation)."""
        return replace(self, wrapped_key=wrapped)

    def to_bytes(self) -> bytes:
        """Canonical JSON."""
        data = asdict(self)
        data["wrapped_key"] = self.wrapped_key.to_json()
        return json.dumps(data, indent=1, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        """Inverse of :meth:`to_bytes`."""
        data = json.loads(raw)
        data["wrapped_key"] = WrappedKey.from_json(data["wrapped_key"])
        data["columns"] = tuple(Column(**c) for c in data["columns"])
        data["provenance"] = Provenance(**data["provenance"])
        return cls(**data)

    def describe(self) -> dict[str, Any]:
        """Facts the register keeps (also after the object is shredded): no key, no data."""
        return {
            "area": self.area,
            "kind": self.kind,
            "name": self.name,
            "object_id": self.object_id,
            "rows": self.rows,
            "columns": [asdict(c) for c in self.columns],
            "provenance": asdict(self.provenance),
            "ciphertext_bytes": self.ciphertext_bytes,
            "key_id": self.wrapped_key.key_id,
        }
