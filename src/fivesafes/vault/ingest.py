"""Ingest a CSV or Parquet file into an area: streamed in batches, encrypted as it goes.

The file is read in blocks by pyarrow (never whole), each block is encrypted in memory
and appended to a staging file that holds only ciphertext; the dataset appears under
its name in one rename once complete. Provenance records the file name, its SHA-256,
size, who ingested it, when, and the format.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fivesafes.errors import ConflictError, DataError, NotFoundError, ValidationError
from fivesafes.sdc import RECORD_KEY_COLUMN
from fivesafes.vault.ingest_checks import (
    CSV_NULL_VALUES,
    ColumnTally,
    check_column_names,
    tallied,
)
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.manifest import Manifest, Provenance
from fivesafes.vault.names import check_name
from fivesafes.vault.pseudonymise import (
    area_pseudonym_key,
    pseudonymise_batch,
    pseudonymised_schema,
)
from fivesafes.vault.record_keys import (
    SCHEME,
    area_record_secret,
    check_no_key_column,
    dataset_key,
    keyed_batches,
    with_record_keys,
)
from fivesafes.vault.store import AreaStore
from fivesafes.vault.unit_keys import (
    UNIT_SCHEME,
    UnitKeying,
    check_unit_column,
    first_reading,
    namespace_keys,
    ordered_unit_batches,
)
from fivesafes.vault.writer import ROW_GROUP_ROWS, write_object

CSV_BLOCK_BYTES = 8 << 20
PARQUET_BATCH_ROWS = 256 * 1024
FORMATS = ("csv", "parquet")


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def detect_format(path: Path, fmt: str | None) -> str:
    """``csv`` or ``parquet``, from ``fmt`` or the file suffix."""
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    if chosen in ("pq", "parq"):
        chosen = "parquet"
    if chosen not in FORMATS:
        raise ValidationError(
            f"cannot tell the format of {path.name}",
            hint="pass --format csv or --format parquet",
        )
    return chosen


def _arrow_error(path: Path, exc: Exception) -> DataError:
    if "Empty CSV file" in str(exc):
        return DataError(
            f"{path.name} has no data rows (it is empty or holds a header alone)",
            hint="ingest a file that holds the data; an empty dataset is never stored",
        )
    return DataError(
        f"cannot read {path.name}: {exc}",
        hint="check the file; for CSV give explicit column types if a column changes type",
    )


def open_source(
    path: Path,
    fmt: str,
    column_types: Mapping[str, str] | None = None,
    *,
    block_bytes: int = CSV_BLOCK_BYTES,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch], Any]:
    """Schema, a batch iterator (streaming) and the open handle to close at the end."""
    try:
        if fmt == "csv":
            types = {k: pa.type_for_alias(v) for k, v in (column_types or {}).items()}
            for name in _coded_columns(path, block_bytes):
                types.setdefault(name, pa.string())
            # A Python file object, not the path: pyarrow's native file reader reads ahead
            # of the parser without bound (memory grew with the file in our measurements);
            # through Python it reads block by block.
            handle = open(path, "rb")  # noqa: SIM115 (the caller closes it)
            try:
                reader = pacsv.open_csv(
                    handle,
                    read_options=pacsv.ReadOptions(block_size=block_bytes),
                    convert_options=pacsv.ConvertOptions(
                        column_types=types, null_values=list(CSV_NULL_VALUES)
                    ),
                )
            except BaseException:
                handle.close()
                raise
            return reader.schema, _guard(path, iter(reader)), handle
        pf = pq.ParquetFile(path)
        check_column_names(path, list(pf.schema_arrow.names))
        return pf.schema_arrow, _guard(path, pf.iter_batches(batch_size=PARQUET_BATCH_ROWS)), pf
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, ValueError) as exc:
        raise _arrow_error(path, exc) from None


def _coded_columns(path: Path, block_bytes: int) -> list[str]:
    """Columns whose text has leading zeros ("01"): codes, which must stay text.

    Type inference would read "01" as the number 1, and "01" and "1" are different
    codes. Like the inference itself, this looks at the first block of the file.
    """
    with open(path, "rb") as fh:
        head = fh.read(block_bytes)
    if b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]
    names = pacsv.read_csv(
        io.BytesIO(head.split(b"\n", 1)[0] + b"\n"),
        read_options=pacsv.ReadOptions(autogenerate_column_names=False),
    ).column_names
    check_column_names(path, list(names))
    sample = pacsv.read_csv(
        io.BytesIO(head),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
    )
    coded = []
    for name in sample.column_names:
        values = [v for v in sample.column(name).to_pylist() if v]
        if any(len(v) > 1 and v[0] == "0" and v[1].isdigit() for v in values):
            coded.append(name)
    return coded


def _guard(path: Path, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise _arrow_error(path, exc) from None


def ingest_file(
    store: AreaStore,
    provider: KeyProvider,
    path: Path | str,
    *,
    name: str,
    ingested_by: str,
    fmt: str | None = None,
    column_types: Mapping[str, str] | None = None,
    pseudonymise: Sequence[str] = (),
    compression: str | None = "snappy",
    extra: dict[str, Any] | None = None,
    block_bytes: int = CSV_BLOCK_BYTES,
    row_group_rows: int = ROW_GROUP_ROWS,
    unit: UnitKeying | None = None,
) -> Manifest:
    """Encrypt a CSV/Parquet file into the area as dataset ``name``; return its manifest.

    ``unit``: the records' keys follow the unit identifier, the same in every dataset of
    the area that names the same unit column (vault/unit_keys.py; the file is then read
    twice, to rank each unit's records by content); without it, the row number within
    ``name`` (record_keys.py)."""
    path = Path(path)
    check_name("dataset", name)
    if store.object_dir(name).exists():
        raise ConflictError(
            f"area {store.area!r} already holds a dataset named {name!r}",
            hint="choose another --name, or destroy the existing one first",
        )
    if not path.is_file():
        raise NotFoundError(f"no file {path}", hint="check the path")
    fmt = detect_format(path, fmt)
    before = os.stat(path)
    digest, size = file_sha256(path)
    schema, batches, handle = open_source(path, fmt, column_types, block_bytes=block_bytes)
    try:
        check_column_names(path, list(schema.names))
        check_no_key_column(list(schema.names))
        if unit is not None:
            check_unit_column(list(schema.names), unit)
        return _ingest_open(
            store,
            provider,
            path,
            before,
            schema,
            batches,
            name=name,
            fmt=fmt,
            digest=digest,
            size=size,
            ingested_by=ingested_by,
            pseudonymise=pseudonymise,
            compression=compression,
            extra=extra,
            row_group_rows=row_group_rows,
            unit=unit,
            reread=lambda: _reread(path, fmt, column_types, block_bytes),
        )
    finally:
        handle.close()


def _reread(
    path: Path, fmt: str, column_types: Mapping[str, str] | None, block_bytes: int
) -> Iterator[pa.RecordBatch]:
    """The file's batches once more, read as the first time (the unit keys' first pass)."""
    _, batches, handle = open_source(path, fmt, column_types, block_bytes=block_bytes)
    try:
        yield from batches
    finally:
        handle.close()


def _ingest_open(
    store: AreaStore,
    provider: KeyProvider,
    path: Path,
    before: os.stat_result,
    schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
    *,
    name: str,
    fmt: str,
    digest: str,
    size: int,
    ingested_by: str,
    pseudonymise: Sequence[str],
    compression: str | None,
    extra: dict[str, Any] | None,
    row_group_rows: int,
    unit: UnitKeying | None,
    reread: Callable[[], Iterator[pa.RecordBatch]],
) -> Manifest:
    # Counted as read (before pseudonymising); NaN, infinity or no rows refuse the file
    # after the last batch, before the dataset is committed.
    tally = ColumnTally()
    batches = tallied(batches, tally, path)
    again = reread  # the data once more, as this pass sees them (unit keys' first pass)
    if pseudonymise:
        key = area_pseudonym_key(store, provider)
        cols = list(pseudonymise)
        missing = [c for c in cols if c not in schema.names]
        if missing:
            raise DataError(
                f"cannot pseudonymise missing column(s): {', '.join(missing)}",
                hint=f"the file has columns {', '.join(schema.names)}",
            )
        schema = pseudonymised_schema(schema, cols)
        batches = (pseudonymise_batch(b, cols, key) for b in batches)

        def pseudonymised_again() -> Iterator[pa.RecordBatch]:
            return (pseudonymise_batch(b, cols, key) for b in reread())

        again = pseudonymised_again
    # One key per record, drawn now and stored with it: every table of the dataset then
    # perturbs the same cell the same way; keyed by unit (vault/unit_keys.py), also every
    # later version and every dataset of the area naming the same unit column.
    schema = with_record_keys(schema)
    secret = area_record_secret(store, provider)
    if unit is not None:
        keys = namespace_keys(secret, unit.column)
        # the first pass: each unit's records ranked by content, whatever their rows
        order = first_reading(again(), unit, keys)
        batches = ordered_unit_batches(batches, unit, keys, order)
        drawn = {"scheme": UNIT_SCHEME, "unit": unit.column, "family": unit.family}
    else:
        batches = keyed_batches(batches, dataset_key(secret, name))
        drawn = {"scheme": SCHEME}
    provenance = Provenance(
        source=path.name,
        sha256=digest,
        size_bytes=size,
        ingested_by=ingested_by,
        ingested_at=datetime.now(UTC).isoformat(),
        source_format=fmt,
    )
    extra = dict(extra or {})
    if pseudonymise:
        extra["pseudonymised"] = list(pseudonymise)
    extra["record_keys"] = {"column": RECORD_KEY_COLUMN, **drawn}

    def checked() -> Iterator[pa.RecordBatch]:
        yield from batches
        # write_object builds the manifest (and its ``extra``) after the last batch.
        extra["missing_values"] = tally.missing_report()
        after = os.stat(path)
        # The hash must describe what was ingested: refuse a file that changed meanwhile.
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise DataError(
                f"{path.name} changed while it was being ingested",
                hint="ingest a file that is not being written to",
            )

    return write_object(
        store,
        provider,
        name=name,
        schema=schema,
        batches=checked(),
        provenance=provenance,
        compression=compression,
        extra=extra,
        row_group_rows=row_group_rows,
    )
