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
import struct
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from fivesafes.errors import DataError, IntegrityError
from fivesafes.sdc import RECORD_KEY_COLUMN
from fivesafes.vault.columns import column_ranges, scanned_columns
from fivesafes.vault.envelope import open_data_key
from fivesafes.vault.frames import SealedObject
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.manifest import Manifest
from fivesafes.vault.record_keys import without_record_keys
from fivesafes.vault.sql_parse import parse_select
from fivesafes.vault.store import AreaStore


@dataclass
class Decrypted:
    """One object's plaintext Parquet in a memfd; close it as soon as it is not needed.

    With ``sealed`` set, only some frames are decrypted yet (the footer and the column
    chunks asked for); :meth:`need` decrypts more. Without it, the whole file is there.
    """

    manifest: Manifest
    fd: int
    sealed: SealedObject | None = None
    metadata: pq.FileMetaData | None = None
    closed: bool = field(default=False)

    @property
    def path(self) -> str:
        """A path pyarrow and DuckDB can open (this process only)."""
        return f"/proc/self/fd/{self.fd}"

    def need(self, columns: Collection[str] | None, *, threads: int | None = None) -> None:
        """Make sure ``columns`` (None: every column) are decrypted, authenticated."""
        if self.sealed is None or self.metadata is None:
            return
        ranges = column_ranges(self.metadata, columns, self.sealed.size)
        self.sealed.decrypt_into(self.fd, self.sealed.frames_for(ranges), threads=threads)

    def column_names(self) -> list[str]:
        """Top-level column names, from the Parquet footer."""
        if self.metadata is None:
            return []
        return list(self.metadata.schema.to_arrow_schema().names)

    def close(self) -> None:
        """Release the memory holding the plaintext."""
        if not self.closed:
            os.close(self.fd)
            if self.sealed is not None:
                self.sealed.close()
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


_TAIL = 8  # footer length (u32 LE) and "PAR1"


def _open_footer(opened: Decrypted, sealed: SealedObject, threads: int | None) -> None:
    """Decrypt the Parquet file's tail, then its footer, and read the footer."""
    size = sealed.size
    if size < 2 * _TAIL:
        sealed.decrypt_into(opened.fd, range(sealed.frame_count), threads=threads)
    else:
        sealed.decrypt_into(opened.fd, sealed.frames_for([(size - _TAIL, size)]))
        (footer,) = struct.unpack("<I", os.pread(opened.fd, 4, size - _TAIL))
        start = max(0, size - _TAIL - footer)
        sealed.decrypt_into(opened.fd, sealed.frames_for([(start, size)]), threads=threads)
    try:
        opened.metadata = pq.read_metadata(opened.path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IntegrityError(
            f"{opened.manifest.kind[:-1]} {opened.manifest.area}/{opened.manifest.name}: "
            f"the decrypted data are not a Parquet file ({exc})",
            hint="restore the dataset from backup",
        ) from None


def decrypt(
    store: AreaStore,
    provider: KeyProvider,
    name: str,
    *,
    kind: str = "datasets",
    threads: int | None = None,
    columns: Collection[str] | None = None,
) -> Decrypted:
    """Decrypt one object into a memfd (authenticated; row count checked).

    ``columns=None`` decrypts the whole file. Otherwise only the footer and the chunks
    of ``columns`` are decrypted (none: the footer alone); :meth:`Decrypted.need` adds
    more later. The rest of the memfd is a hole: zeros that take no memory.
    """
    manifest = store.manifest(name, kind)
    key = open_data_key(provider, store.area, manifest.object_id, manifest.wrapped_key)
    fd = os.memfd_create(f"fivesafes-{manifest.object_id}", os.MFD_CLOEXEC)
    sealed: SealedObject | None = None
    try:
        sealed = SealedObject(store.data_path(name, kind), key, manifest.object_id)
        sealed.allocate(fd)
        opened = Decrypted(manifest, fd, sealed)
        _open_footer(opened, sealed, threads)
        assert opened.metadata is not None
        _check_rows(manifest, sealed.trailer.get("rows"), opened.metadata.num_rows)
        opened.need(columns, threads=threads)
        if columns is None:
            sealed.close()  # everything is decrypted: the ciphertext is not needed again
            opened.sealed = None
    except BaseException:
        os.close(fd)
        if sealed is not None:
            sealed.close()
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
    record_keys: bool = False,
) -> pa.Table:
    """Decrypt one object (only ``columns``, if given) into an in-memory Arrow table.

    The record keys drawn at ingest come only with ``record_keys=True`` (the table
    protection's read): whoever holds them can undo a perturbed table's noise."""
    wanted = list(columns) if columns else None
    if wanted is not None and RECORD_KEY_COLUMN in wanted and not record_keys:
        raise DataError(
            f"column {RECORD_KEY_COLUMN!r} holds the record keys: it is never read out",
            hint="the table protection reads it (table protect --method cellkey)",
        )
    with decrypt(store, provider, name, kind=kind, threads=threads, columns=wanted) as d:
        if wanted is None and not record_keys:
            wanted = [c for c in d.column_names() if c != RECORD_KEY_COLUMN]
        return pq.read_table(d.path, columns=wanted)


def open_batches(
    store: AreaStore, provider: KeyProvider, name: str, *, kind: str = "datasets"
) -> pa.RecordBatchReader:
    """Stream one object row group by row group (the memfd holds the compressed file)."""
    opened = decrypt(store, provider, name, kind=kind)
    pf = pq.ParquetFile(opened.path)
    # never the record keys (see open_table)
    names = [n for n in pf.schema_arrow.names if n != RECORD_KEY_COLUMN]
    schema = pa.schema([pf.schema_arrow.field(n) for n in names])

    def gen() -> Iterator[pa.RecordBatch]:
        try:
            yield from pf.iter_batches(columns=names)
        finally:
            pf.close()
            opened.close()

    return pa.RecordBatchReader.from_batches(schema, gen())


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
        # Frames are decrypted as queries need them: a cached read of a region decrypted
        # later must never be served, so DuckDB caches no file bytes.
        "enable_external_file_cache": False,
    }
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    paths = []
    for name, table in tables.items():
        # the record keys stay out of every query: with them, a published table's
        # perturbation could be undone (vault/record_keys.py)
        if isinstance(table, Decrypted):
            paths.append(table.path)
            hide = (
                f' EXCLUDE ("{RECORD_KEY_COLUMN}")'
                if RECORD_KEY_COLUMN in table.column_names()
                else ""
            )
            con.execute(
                f"CREATE VIEW \"{name}\" AS SELECT *{hide} FROM read_parquet('{table.path}')"
            )
        else:
            con.register(name, without_record_keys(table))
    # Order matters: external access off forbids later changes to temp_directory.
    # Reading the memfds stays allowed; writing anywhere, ATTACH and COPY are refused.
    if paths:
        con.execute("SET allowed_paths = [" + ", ".join(f"'{p}'" for p in paths) + "]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def check_select(sql: str) -> None:
    """Refuse anything but one SELECT statement (ValidationError), parsed on a locked engine."""
    parse_select(sql)


def run_sql(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Run one SELECT statement on an area connection and return the result as Arrow."""
    check_select(sql)
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
    if isinstance(exc, _BEFORE_THE_ROWS):
        return DataError(
            f"the query failed: {first}",
            hint="check table and column names; files and settings are not reachable from here",
        )
    # Failing while it ran over the rows, DuckDB quotes the values that made it fail
    # ("Could not convert string 'ID00042'..."), and error(...) raises whatever text the
    # query computes: the message would carry rows past the row-level policy. Deny by
    # default: only the kind of failure is said.
    return DataError(
        f"the query failed while running over the data ({type(exc).__name__}); its message is "
        "withheld because it may quote values of the rows",
        hint="check the query's casts, conversions and functions on a summary first "
        "(e.g. count the rows a condition selects); files and settings are not reachable "
        "from here",
    )


# Found before a row is read (names, syntax): the message holds only the query and schema.
_BEFORE_THE_ROWS = (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException)


class AreaSession(contextlib.AbstractContextManager["AreaSession"]):
    """Datasets of one area behind a locked DuckDB connection; closes both.

    Each dataset starts as its Parquet footer alone; before a query runs, the columns
    its plan scans are decrypted (:func:`~fivesafes.vault.columns.scanned_columns`).
    """

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
                self.opened[(sql_names or {}).get(n, n)] = decrypt(store, provider, n, columns=())
            self.con = area_connection(self.opened, memory_limit=memory_limit)
        except BaseException:
            self.close()
            raise

    def prepare(self, sql: str) -> None:
        """Decrypt what ``sql`` reads (every column when its plan is not clear)."""
        check_select(sql)
        # Column names from the authenticated footers, not from the manifests (which
        # are not sealed): a name left out would leave its column undecrypted.
        names = {c for d in self.opened.values() for c in d.column_names()}
        needed = scanned_columns(self.con, sql, names)
        for d in self.opened.values():
            d.need(needed)

    def sql(self, sql: str) -> pa.Table:
        """Run one SELECT over the area's datasets."""
        self.prepare(sql)
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
