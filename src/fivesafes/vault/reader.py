"""Open encrypted objects into memory (Arrow) and query them with an in-memory DuckDB.

Nothing is decrypted to disk: frames are decrypted into Arrow buffers, and the DuckDB
connection is in-memory with spilling switched off (``temp_directory = ''``), so a query
that outgrows memory fails instead of writing plaintext temporary files. DuckDB's own
``temp_file_encryption`` only applies when an encrypted database file is attached, and
writing encrypted DuckDB files needs the httpfs extension (a download), so we do not use
it. External access is off, so SQL cannot read or write files (``COPY ... TO``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import duckdb
import pyarrow as pa

from fivesafes.errors import DataError, IntegrityError, ValidationError
from fivesafes.vault.envelope import open_data_key
from fivesafes.vault.format import iter_chunks, read_all_chunks
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.manifest import Manifest
from fivesafes.vault.store import AreaStore
from fivesafes.vault.writer import schema_from_b64


def _batches(chunk: bytes) -> list[pa.RecordBatch]:
    return list(pa.ipc.open_stream(pa.py_buffer(chunk)))


def _check_rows(manifest: Manifest, rows: int, sealed: Any) -> None:
    if sealed != manifest.rows or rows != manifest.rows:
        raise IntegrityError(
            f"{manifest.kind[:-1]} {manifest.area}/{manifest.name}: manifest says "
            f"{manifest.rows} rows, the sealed data hold {rows}",
            hint="the manifest was altered; restore it from backup",
        )


def open_table(
    store: AreaStore,
    provider: KeyProvider,
    name: str,
    *,
    kind: str = "datasets",
    threads: int | None = None,
) -> pa.Table:
    """Decrypt one object into an in-memory Arrow table (authenticated, rows checked)."""
    manifest = store.manifest(name, kind)
    key = open_data_key(provider, store.area, manifest.object_id, manifest.wrapped_key)
    chunks, trailer = read_all_chunks(
        store.data_path(name, kind), key, manifest.object_id, threads=threads
    )
    schema = schema_from_b64(manifest.schema_ipc)
    batches = [b for c in chunks for b in _batches(c)]
    table = pa.Table.from_batches(batches, schema=schema)
    _check_rows(manifest, table.num_rows, trailer.get("rows"))
    return table


def open_batches(
    store: AreaStore, provider: KeyProvider, name: str, *, kind: str = "datasets"
) -> pa.RecordBatchReader:
    """Stream one object frame by frame (flat memory); the end's integrity is checked last."""
    manifest = store.manifest(name, kind)
    key = open_data_key(provider, store.area, manifest.object_id, manifest.wrapped_key)
    schema = schema_from_b64(manifest.schema_ipc)

    def gen() -> Iterator[pa.RecordBatch]:
        rows = 0
        for chunk in iter_chunks(store.data_path(name, kind), key, manifest.object_id):
            for b in _batches(chunk):
                rows += b.num_rows
                yield b
        _check_rows(manifest, rows, rows)

    return pa.RecordBatchReader.from_batches(schema, gen())


def area_connection(
    tables: Mapping[str, pa.Table | pa.RecordBatchReader],
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that sees ``tables`` by name and cannot touch the disk."""
    config: dict[str, Any] = {
        "temp_directory": "",  # no spilling: plaintext never reaches the disk
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        # SQL must not reach Python objects by name (other datasets in this process).
        "python_enable_replacements": False,
    }
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    for name, table in tables.items():
        con.register(name, table)
    # After the settings above (it forbids changing temp_directory): no COPY TO, no
    # read_csv of other files, no ATTACH; then freeze the configuration against SQL.
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def run_sql(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Run one SQL statement on an area connection and return the result as Arrow."""
    if not sql.strip():
        raise ValidationError("empty SQL", hint='pass a query, e.g. "SELECT count(*) FROM survey"')
    try:
        result = con.sql(sql)
    except duckdb.Error as exc:
        raise _query_error(exc) from None
    if result is None:
        raise ValidationError(
            "the statement returned no result", hint="only SELECT-like queries are supported"
        )
    try:
        return result.to_arrow_table()
    except duckdb.Error as exc:
        raise _query_error(exc) from None


def _query_error(exc: Exception) -> DataError:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, duckdb.OutOfMemoryException) or "Out of Memory" in first:
        return DataError(
            f"the query needs more memory than allowed: {first}",
            hint="confidential data are never spilled to disk: raise the memory limit, "
            "or aggregate/filter earlier in the query",
        )
    return DataError(
        f"the query failed: {first}",
        hint="check table and column names; files and settings are not reachable from here",
    )
