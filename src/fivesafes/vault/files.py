"""Named files (a protected table's cells, report and spec) kept as one encrypted output.

The files become the rows of a two-column Arrow table (file name, content) written
with :func:`~fivesafes.vault.writer.write_object`: the contents exist only sealed on
disk, the manifest names the columns, not the files, and opening it back is the
vault's authenticated read (the row count is checked).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from fivesafes.errors import IntegrityError
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.manifest import Manifest, Provenance
from fivesafes.vault.reader import open_table
from fivesafes.vault.store import AreaStore
from fivesafes.vault.writer import write_object

FILE, CONTENT = "file", "content"
SCHEMA = pa.schema([(FILE, pa.string()), (CONTENT, pa.large_binary())])


def files_digest(files: Mapping[str, bytes]) -> str:
    """SHA-256 over the files' names and contents (independent of their order)."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\0{hashlib.sha256(files[name]).hexdigest()}\n".encode())
    return h.hexdigest()


def write_files(
    store: AreaStore,
    provider: KeyProvider,
    files: Mapping[str, bytes],
    *,
    name: str,
    source: str,
    made_by: str,
    source_format: str,
    extra: dict[str, Any] | None = None,
) -> Manifest:
    """Encrypt ``files`` into ``store`` as the output ``name``; provenance names ``source``."""
    names = sorted(files)
    table = pa.table(
        {FILE: names, CONTENT: [files[n] for n in names]},
        schema=SCHEMA,
    )
    provenance = Provenance(
        source=source,
        sha256=files_digest(files),
        size_bytes=sum(len(v) for v in files.values()),
        ingested_by=made_by,
        ingested_at=datetime.now(UTC).isoformat(),
        source_format=source_format,
    )
    return write_object(
        store,
        provider,
        name=name,
        kind="outputs",
        schema=SCHEMA,
        batches=table.to_batches(),
        provenance=provenance,
        extra=extra,
    )


def read_files(store: AreaStore, provider: KeyProvider, name: str) -> dict[str, bytes]:
    """The files of output ``name``, decrypted in memory; IntegrityError if not such an output."""
    table = open_table(store, provider, name, kind="outputs")
    if table.schema.names != SCHEMA.names:
        raise IntegrityError(
            f"output {store.area}/{name} does not hold files (columns {table.schema.names})",
            hint="give the name of an output written by `fivesafes table protect --dataset`",
        )
    return {
        str(f): bytes(c)
        for f, c in zip(table[FILE].to_pylist(), table[CONTENT].to_pylist(), strict=True)
    }
