"""Microdata into Spark: read any supported input, normalise its columns, check its values.

The normalised frame has the columns DuckDB's source view has (see
:mod:`fivesafes.sdc.sources`): ``d0 .. d{n-1}`` (the dimension codes as text), ``u``
(the unit: the holding, else the contributor), ``c`` (the contributor, with a
holding), ``x`` (the response) and ``w`` (the weight) as doubles. Paths are read by
Spark itself (on a cluster: by the executors), so the microdata never pass through
the driver; a pandas or Arrow table is already in the driver and is shipped once.

The checks raise the same errors as DuckDB's, built by the same functions from
counts Spark makes in one pass over the data.
"""

from __future__ import annotations

import gzip
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fivesafes.errors import DataError
from fivesafes.sdc import TableSpec
from fivesafes.sdc.tabulate import (
    bad_numbers_error,
    check_columns,
    check_duplicates,
    holding_error,
    raise_value_errors,
)

_SHOW = 10  # offending values named in an error
# A number as DuckDB's TRY_CAST(... AS DOUBLE) reads one (digits may be grouped by "_");
# Spark's own cast would also take "1.5d" or hexadecimal, which DuckDB refuses.
_DIGITS = r"[0-9]+(_[0-9]+)*"
NUMBER_PATTERN = rf"^[+-]?({_DIGITS}(\.({_DIGITS})?)?|\.{_DIGITS})([eE][+-]?{_DIGITS})?$"
_SPACE = r"^[\s\u00a0]+|[\s\u00a0]+$"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_CSV_DELIMITERS = (",", ";", "\t", "|")
# what a failed Spark call raises: an error PySpark recognised, or the Java one as it came
SPARK_ERRORS = (PySparkException, Py4JJavaError)


@dataclass(frozen=True)
class SparkSource:
    """Microdata normalised for one spec, inside one Spark session."""

    frame: DataFrame  # d0.., u, c, x, w
    raw: DataFrame  # the data as read, columns renamed r0.. (see ``columns``)
    columns: dict[str, tuple[str, T.DataType]]  # data column -> (raw name, Spark type)
    has_unit: bool
    notes: tuple[str, ...]
    origin: str  # what was read, for error messages


@contextmanager
def quiet_pyspark() -> Iterator[None]:
    """Silence PySpark's warnings about pandas 3 and its own unclosed sockets.

    The data cross between Python and the JVM as Arrow only (pandas is never handed to
    PySpark), so its pandas-version warning does not apply; the sockets it leaves to the
    garbage collector when shipping a table are closed when the call returns.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas")
        warnings.filterwarnings("ignore", category=ResourceWarning)
        yield


def read(spark: SparkSession, spec: TableSpec, data: Any) -> SparkSource:
    """Read ``data`` into ``spark`` and build the normalised frame for ``spec``."""
    notes: list[str] = []
    raw, origin = _read_raw(spark, spec, data, notes)
    # Spark resolves names without regard to case; positional names keep "Y" and "y" apart.
    names = list(raw.columns)
    raw = raw.toDF(*(f"r{j}" for j in range(len(names))))
    types = {f.name: f.dataType for f in raw.schema.fields}
    columns: dict[str, tuple[str, T.DataType]] = {}
    for j, name in enumerate(names):
        columns.setdefault(name.lstrip("\ufeff") if j == 0 else name, (f"r{j}", types[f"r{j}"]))
    check_columns(spec, {name: type_name(kind) for name, (_, kind) in columns.items()})
    select: list[Column] = []
    for i, dim in enumerate(spec.dimension_names):
        col, kind = columns[dim]
        if type_name(kind) != "VARCHAR":
            notes.append(
                f"dimension '{dim}' is stored as {type_name(kind)}; its codes are the "
                "values' text (leading zeros cannot be recovered: store codes as text)"
            )
        select.append(F.col(col).cast("string").alias(f"d{i}"))
    unit = spec.holding or spec.contributor
    if unit is not None:
        select.append(F.col(columns[unit][0]).alias("u"))
    if spec.holding is not None and spec.contributor is not None:
        select.append(F.col(columns[spec.contributor][0]).alias("c"))
    if spec.response is not None:
        select.append(numeric(*columns[spec.response]).alias("x"))
    if spec.weight is not None:
        select.append(numeric(*columns[spec.weight]).alias("w"))
    return SparkSource(
        frame=raw.select(*select),
        raw=raw,
        columns=columns,
        has_unit=unit is not None,
        notes=tuple(notes),
        origin=origin,
    )


def numeric(column: str, kind: T.DataType) -> Column:
    """A column as a double; text is read as DuckDB reads it, anything else becomes NULL."""
    if type_name(kind) == "VARCHAR":
        text = F.regexp_replace(F.col(column), _SPACE, "")
        return F.when(
            text.rlike(NUMBER_PATTERN), F.regexp_replace(text, "_", "").try_cast("double")
        )
    return F.col(column).cast("double")


def _read_raw(
    spark: SparkSession, spec: TableSpec, data: Any, notes: list[str]
) -> tuple[DataFrame, str]:
    # a column the spec uses written twice is refused as DuckDB refuses it, before the
    # data are shipped: Spark would keep the first (or rename a CSV's second "region")
    if isinstance(data, DataFrame):
        _check_names(spec, data.columns)
        return data, "the Spark DataFrame"
    if isinstance(data, str | Path):
        return _read_path(spark, spec, data), str(data)
    if isinstance(data, pd.DataFrame | pa.Table | duckdb.DuckDBPyRelation):
        _check_names(spec, data.columns if not isinstance(data, pa.Table) else data.column_names)
    if isinstance(data, pd.DataFrame):
        try:
            table = pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise DataError(
                f"the DataFrame cannot be converted to Arrow for Spark: {exc}",
                hint="give each column one type (text or numbers, not a mix)",
            ) from exc
        return _from_arrow(spark, table), "the pandas DataFrame"
    if isinstance(data, pa.Table):
        return _from_arrow(spark, data), "the Arrow table"
    if isinstance(data, duckdb.DuckDBPyRelation):
        notes.append("the DuckDB relation was materialised as an Arrow table for Spark")
        return _from_arrow(spark, data.to_arrow_table()), "the DuckDB relation"
    raise DataError(
        f"cannot tabulate data of type {type(data).__name__}",
        hint="give a CSV or Parquet path, a pandas DataFrame, a pyarrow Table, "
        "a DuckDB relation or a Spark DataFrame",
    )


def _from_arrow(spark: SparkSession, table: pa.Table) -> DataFrame:
    # Spark has no dictionary type (pandas categoricals): ship the values themselves.
    columns = [
        pa.chunked_array([c.dictionary_decode() for c in col.chunks], type=col.type.value_type)
        if pa.types.is_dictionary(col.type)
        else col
        for col in table.columns
    ]
    table = pa.Table.from_arrays(columns, names=table.column_names)
    try:
        with quiet_pyspark():
            return spark.createDataFrame(table)
    except (*SPARK_ERRORS, TypeError, ValueError) as exc:
        raise DataError(
            f"the table cannot be handed to Spark: {first_line(exc)}",
            hint="give columns of text or numbers",
        ) from exc


def _check_names(spec: TableSpec, names: Any) -> None:
    """DuckDB's duplicate-column error when a column the spec uses is written twice."""
    written = [str(n) for n in names]
    if written:
        written[0] = written[0].lstrip("\ufeff")
    check_duplicates(spec, written, dict.fromkeys(written, ""))  # names are never renamed here


def _parquet_names(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return [str(n) for n in pq.read_schema(path).names]
    except (pa.ArrowException, OSError):
        return []  # not a Parquet file: Spark says why when it reads it


def _read_path(spark: SparkSession, spec: TableSpec, data: str | Path) -> DataFrame:
    text = str(data)
    remote = isinstance(data, str) and bool(_URI.match(text))
    path = Path(text)
    if not remote:
        if not path.exists():
            raise DataError(
                f"data file not found: {path}",
                hint="give a .csv (or .csv.gz) or .parquet file that exists",
            )
        text = path.resolve().as_uri()
    suffixes = "".join(Path(text.rstrip("/")).suffixes).lower()
    if ".parquet" in suffixes or suffixes.endswith(".pq"):
        if not remote and path.is_file():
            # before Spark, which refuses any column written twice as an unreadable file
            _check_names(spec, _parquet_names(path))
        frame = _reading(text, lambda: spark.read.parquet(text))
        _check_names(spec, frame.columns)
        return frame
    if ".csv" in suffixes or ".txt" in suffixes or ".tsv" in suffixes:
        delimiter = "\t" if ".tsv" in suffixes else ","
        if not remote and path.is_file():
            delimiter = _sniff_delimiter(path, default=delimiter)
        options = {"sep": delimiter, "quote": '"', "escape": '"', "encoding": "UTF-8"}
        # the header as written: Spark renames a second "region" to "region5"
        try:
            header = spark.read.csv(text, header=False, inferSchema=False, **options).first()
        except SPARK_ERRORS as exc:
            raise read_error(text, exc) from exc
        _check_names(spec, ["" if v is None else v for v in header] if header else [])
        # every column as text, as DuckDB reads it; a malformed line is an error, not a gap
        return _reading(
            text,
            lambda: spark.read.csv(
                text, header=True, inferSchema=False, mode="FAILFAST", **options
            ),
        )
    raise DataError(
        f"cannot tell the format of {data} from its name",
        hint="name the file .csv (or .tsv, .txt; any of them gzipped: .csv.gz) or .parquet",
    )


def _reading(where: str, read: Any) -> DataFrame:
    try:
        frame: DataFrame = read()
    except SPARK_ERRORS as exc:
        raise read_error(where, exc) from exc
    return frame


def read_error(where: str, exc: BaseException) -> DataError:
    """The error for data Spark could not read (raised when the read or a scan fails)."""
    return DataError(
        f"cannot read {where}: {first_line(exc)}",
        hint="check that the file is a complete CSV (with a header line) or Parquet "
        "file, and that its name ends in the right suffix",
    )


def first_line(exc: BaseException) -> str:
    # a Java error's Python face only says which call failed; its own message says why
    java = getattr(exc, "java_exception", None)
    text = (str(java.toString()) if java is not None else str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sniff_delimiter(path: Path, default: str) -> str:
    # DuckDB sniffs the delimiter; the header line tells it well enough for Spark (of a
    # gzipped file, its first line decompressed in memory, as Spark reads the rest)
    if path.suffix.lower() == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            header = fh.readline()
    else:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            header = fh.readline()
    counts = {d: header.count(d) for d in _CSV_DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else default


def type_name(kind: T.DataType) -> str:
    """A Spark type as DuckDB names it (``VARCHAR``, ``INTEGER``, ``BIGINT``, ...)."""
    if isinstance(kind, T.StringType | T.VarcharType | T.CharType):
        return "VARCHAR"
    if isinstance(kind, T.IntegerType):
        return "INTEGER"
    return kind.simpleString().upper()


def _not_finite(x: Column) -> Column:
    return x.isNull() | F.isnan(x) | (F.abs(x) == float("inf"))


def scan(source: SparkSource, spec: TableSpec, flat: list[int]) -> tuple[int, dict[str, Any]]:
    """One pass over the data: the rows, the counts the checks need, each flat dimension's codes."""
    checks: list[tuple[str, Column]] = [
        (f"dim{i}", F.count_if(F.col(f"d{i}").isNull())) for i in range(len(spec.dimensions))
    ]
    if spec.holding is not None:
        checks.append(("unit", F.count_if(F.col("u").isNull())))
        checks.append(("contrib", F.count_if(F.col("c").isNull())))
    elif spec.contributor is not None:
        checks.append(("unit", F.count_if(F.col("u").isNull())))
    for key, column in (("x", spec.response), ("w", spec.weight)):
        if column is not None:
            checks.append((f"{key}_bad", F.count_if(_not_finite(F.col(key)))))
            checks.append((f"{key}_neg", F.count_if(F.col(key) < 0)))
    codes = [(f"codes{i}", F.collect_set(F.col(f"d{i}"))) for i in flat]
    aggs = [F.count(F.lit(1)).alias("rows")]
    aggs += [expr.alias(name) for name, expr in [*checks, *codes]]
    try:
        row = source.frame.agg(*aggs).collect()[0]
    except SPARK_ERRORS as exc:
        raise read_error(source.origin, exc) from exc
    figures = row.asDict()
    return int(figures.pop("rows")), figures


def check(source: SparkSource, spec: TableSpec, counts: dict[str, Any]) -> None:
    """Raise the DataError DuckDB would raise for these data (missing, bad, negative values)."""
    raise_value_errors(
        spec,
        {k: int(v) for k, v in counts.items() if not k.startswith("codes")},
        lambda role, column, n, _rows: _bad_numbers(source, role, column, n),
    )
    if spec.holding is None:
        return
    # a contributor in two holdings: its smallest and largest holding differ
    spanning = (
        source.frame.groupBy("c")
        .agg(F.min("u").alias("lo"), F.max("u").alias("hi"))
        .filter(F.col("lo") != F.col("hi"))
    )
    found = spanning.count()
    if found:
        examples = [str(r["c"]) for r in spanning.orderBy("c").limit(_SHOW).collect()]
        raise holding_error(spec, found, examples)


def _bad_numbers(source: SparkSource, role: str, column: str, n: int) -> None:
    col, kind = source.columns[column]
    value = numeric(col, kind)
    raw = F.col(col)
    wrong = source.raw.filter(raw.isNull() | _not_finite(value))
    missing = wrong.filter(raw.isNull()).count()
    # text sorts in Spark as in Python (by code point); a number column's only bad values
    # are inf, -inf and nan, written as DuckDB writes them (Python's str of a float)
    values = wrong.filter(raw.isNotNull()).select(raw).distinct().orderBy(raw).limit(_SHOW + 1)
    bad = sorted(str(r[0]) for r in values.collect())
    raise bad_numbers_error(role, column, n, missing, bad)
