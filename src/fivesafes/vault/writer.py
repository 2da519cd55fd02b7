"""Write a stream of Arrow record batches as one encrypted object of an area.

The batches become one Parquet file whose bytes go straight into an
:class:`~fivesafes.vault.format.EncryptingSink`: only sealed frames reach the disk.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fivesafes.errors import ConflictError, DataError
from fivesafes.sdc import RECORD_KEY_COLUMN
from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.atomic import atomic_write_bytes
from fivesafes.vault.envelope import new_data_key, seal_data_key
from fivesafes.vault.format import SINK_FRAME_BYTES, ChunkWriter, EncryptingSink, Header
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.manifest import Column, Manifest, Provenance
from fivesafes.vault.names import check_name
from fivesafes.vault.store import DATA_FILE, MANIFEST_FILE, AreaStore

# Rows per Parquet row group: DuckDB scans row groups in parallel, and a writer holds one
# row group in memory at a time (~50 MB for a survey-like table), so memory stays flat.
ROW_GROUP_ROWS = 512 * 1024


def schema_b64(schema: pa.Schema) -> str:
    """Arrow IPC schema, base64."""
    return base64.b64encode(schema.serialize().to_pybytes()).decode()


def schema_from_b64(text: str) -> pa.Schema:
    """Inverse of :func:`schema_b64`."""
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def write_object(
    store: AreaStore,
    provider: KeyProvider,
    *,
    name: str,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    provenance: Provenance,
    kind: str = "datasets",
    compression: str | None = "snappy",
    frame_bytes: int = SINK_FRAME_BYTES,
    row_group_rows: int = ROW_GROUP_ROWS,
    extra: dict[str, Any] | None = None,
    on_frame: Callable[[int, int], None] | None = None,
) -> Manifest:
    """Encrypt ``batches`` under a new data key and register them in the area as ``name``."""
    check_name("dataset", name)
    if store.object_dir(name, kind).exists():
        raise ConflictError(
            f"area {store.area!r} already holds a {kind[:-1]} named {name!r}",
            hint="choose another --name, or destroy the existing one first",
        )
    object_id = uuid.uuid4().hex
    data_key = new_data_key()
    with area_lock(store, exclusive=False):
        # Wrap first: a missing or wrong area key fails before any work is done.
        wrapped = seal_data_key(provider, store.area, object_id, data_key)
        with store.staging() as staged:
            rows, frames, size = _write_frames(
                staged / DATA_FILE,
                data_key,
                Header(object_id=object_id, kind=kind),
                schema,
                batches,
                compression,
                frame_bytes,
                row_group_rows,
                on_frame,
            )
            manifest = Manifest(
                area=store.area,
                kind=kind,
                name=name,
                object_id=object_id,
                wrapped_key=wrapped,
                rows=rows,
                # the record keys are described in ``extra`` (record_keys), not as data
                columns=tuple(
                    Column(f.name, str(f.type)) for f in schema if f.name != RECORD_KEY_COLUMN
                ),
                schema_ipc=schema_b64(schema),
                provenance=provenance,
                ciphertext_bytes=size,
                frames=frames,
                extra=dict(extra or {}),
            )
            atomic_write_bytes(staged / MANIFEST_FILE, manifest.to_bytes(), mode=0o600)
            store.commit(staged, name, kind)
    return manifest


def _write_frames(
    path: Path,
    data_key: bytes,
    header: Header,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    compression: str | None,
    frame_bytes: int,
    row_group_rows: int,
    on_frame: Callable[[int, int], None] | None,
) -> tuple[int, int, int]:
    rows = 0
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        writer = ChunkWriter(f, data_key, header)
        sink = EncryptingSink(writer, frame_bytes)
        parquet = pq.ParquetWriter(sink, schema, compression=compression or "none")

        def flush() -> None:
            nonlocal pending, pending_rows
            table = pa.Table.from_batches(pending, schema=schema)
            parquet.write_table(table, row_group_size=max(1, table.num_rows))
            pending, pending_rows = [], 0
            if on_frame is not None:
                on_frame(sink.frames, rows)

        for batch in batches:
            if batch.schema != schema:
                try:
                    batch = batch.cast(schema)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                    raise DataError(
                        f"a batch does not fit the dataset's schema: {exc}",
                        hint="give explicit column types, or fix the offending rows",
                    ) from None
            pending.append(batch)
            pending_rows += batch.num_rows
            rows += batch.num_rows
            if pending_rows >= row_group_rows:
                flush()
        if pending:
            flush()
        parquet.close()
        sink.finish({"rows": rows})
        f.flush()
        os.fsync(f.fileno())
        size = writer.bytes_written
    return rows, sink.frames, size
