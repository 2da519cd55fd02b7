"""Open encrypted objects in memory and query them with an in-memory DuckDB.

Nothing is decrypted to disk. An object's frames are decrypted into an anonymous
in-memory file (``memfd_create``: RAM only, no name in any filesystem, gone when closed)
holding the Parquet file; pyarrow and DuckDB read it natively through
``/proc/self/fd/N``, so a query runs at the speed of a plain Parquet file. The DuckDB
connection is in-memory with spilling off (``temp_directory = ''``): a query that
outgrows memory fails instead of writing plaintext temporary files (DuckDB's
``temp_file_encryption`` only covers encrypted database files, whose writing needs the
httpfs extension, a download). File access is off except reading the memfds, the
configuration is locked, and only SELECT statements run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from fivesafes.errors import DataError, IntegrityError, ValidationError
from fivesafes.vault.envelope import open_data_key
from fivesafes.vault.format import decrypt_to_fd
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.manifest import Manifest
from fivesafes.vault.store import AreaStore


@dataclass
class Decrypted:
    """One object's plaintext Parquet in a memfd; close it as soon as it is not needed."""

    manifest: Manifest
    fd: int
    closed: bool = field(default=False)

    @property
    def path(self) -> str:
        """A path pyarrow and DuckDB can open (this process only)."""
        return f"/proc/self/fd/{self.fd}"

    def close(self) -> None:
        """Release the memory holding the plaintext."""
        if not self.closed:
            os.close(self.fd)
            self.closed = True

    def __enter__(self) -> Decrypted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_rows(manifest: Manifest, sealed: Any, actual: int) -> None:
    if sealed != manifest.rows or actual != manifest.rows:
        raise IntegrityError(
            f"{manifest.kind[:-1]} {manifest.area}/{manifest.name}: manifest says "
            f"{manifest.rows} rows, the sealed data hold {sealed}",
            hint="the manifest was altered; restore it from backup",
        )


def decrypt(
    store: AreaStore,
    provider: KeyProvider,
    name: str,
    *,
    kind: str = "datasets",
    threads: int | None = None,
) -> Decrypted:
    """Decrypt one object into a memfd (authenticated; row count checked)."""
    manifest = store.manifest(name, kind)
    key = open_data_key(provider, store.area, manifest.object_id, manifest.wrapped_key)
    fd = os.memfd_create(f"fivesafes-{manifest.object_id}", os.MFD_CLOEXEC)
    try:
        trailer = decrypt_to_fd(
            store.data_path(name, kind), key, manifest.object_id, fd, threads=threads
        )
        opened = Decrypted(manifest, fd)
        rows = pq.ParquetFile(opened.path).metadata.num_rows
        _check_rows(manifest, trailer.get("rows"), rows)
    except BaseException:
        os.close(fd)
        raise
    return opened


def open_table(
    store: AreaStore,
    provider: KeyProvider,
    name: str,
    *,
    kind: str = "datasets",
    columns: Sequence[str] | None = None,
    threads: int | None = None,
) -> pa.Table:
    """Decrypt one object into an in-memory Arrow table."""
    with decrypt(store, provider, name, kind=kind, threads=threads) as d:
        return pq.read_table(d.path, columns=list(columns) if columns else None)


def open_batches(
    store: AreaStore, provider: KeyProvider, name: str, *, kind: str = "datasets"
) -> pa.RecordBatchReader:
    """Stream one object row group by row group (the memfd holds the compressed file)."""
    opened = decrypt(store, provider, name, kind=kind)
    pf = pq.ParquetFile(opened.path)

    def gen() -> Iterator[pa.RecordBatch]:
        try:
            yield from pf.iter_batches()
        finally:
            pf.close()
            opened.close()

    return pa.RecordBatchReader.from_batches(pf.schema_arrow, gen())


def area_connection(
    tables: Mapping[str, pa.Table | Decrypted],
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
    paths = []
    for name, table in tables.items():
        if isinstance(table, Decrypted):
            paths.append(table.path)
            con.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{table.path}')")
        else:
            con.register(name, table)
    # Order matters: external access off forbids later changes to temp_directory.
    # Reading the memfds stays allowed; writing anywhere, ATTACH and COPY are refused.
    if paths:
        con.execute("SET allowed_paths = [" + ", ".join(f"'{p}'" for p in paths) + "]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def run_sql(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Run one SELECT statement on an area connection and return the result as Arrow."""
    if not sql.strip():
        raise ValidationError("empty SQL", hint='pass a query, e.g. "SELECT count(*) FROM survey"')
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise _query_error(exc) from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise ValidationError(
            "only one SELECT statement may run over an area's data",
            hint="write a single SELECT (WITH ... SELECT is fine); nothing else is allowed",
        )
    try:
        return con.sql(sql).to_arrow_table()
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


class AreaSession(contextlib.AbstractContextManager["AreaSession"]):
    """Decrypted datasets of one area behind a locked DuckDB connection; closes both."""

    def __init__(
        self,
        store: AreaStore,
        provider: KeyProvider,
        names: Sequence[str],
        *,
        sql_names: Mapping[str, str] | None = None,
        memory_limit: str | None = None,
    ) -> None:
        self.opened: dict[str, Decrypted] = {}
        try:
            for n in names:
                self.opened[(sql_names or {}).get(n, n)] = decrypt(store, provider, n)
            self.con = area_connection(self.opened, memory_limit=memory_limit)
        except BaseException:
            self.close()
            raise

    def sql(self, sql: str) -> pa.Table:
        """Run one SELECT over the area's datasets."""
        return run_sql(self.con, sql)

    def close(self) -> None:
        """Close the connection and free the plaintext."""
        con = getattr(self, "con", None)
        if con is not None:
            con.close()
        for d in self.opened.values():
            d.close()

    def __exit__(self, *exc: object) -> None:
        self.close()
