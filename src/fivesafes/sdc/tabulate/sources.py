"""Microdata sources for tabulation: register any supported input in DuckDB and check it.

A source becomes a DuckDB view with normalised columns: ``d0 .. d{n-1}`` (the
dimension codes, always VARCHAR), ``u`` (the unit the rules protect: the holding,
else the contributor, else absent), ``x`` (the response as DOUBLE) and ``w`` (the
weight as DOUBLE). Codes are never parsed as numbers: CSV files are read with every
column as text, and numeric columns are converted explicitly and checked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import duckdb
import pandas as pd
import pyarrow as pa

from fivesafes.errors import DataError
from fivesafes.sdc.spec import TableSpec

MicrodataLike: TypeAlias = "str | Path | pd.DataFrame | pa.Table | duckdb.DuckDBPyRelation"

_NUMERIC_PREFIXES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
)
_TEXT_TYPES = ("VARCHAR",)
_SHOW = 10  # offending values named in an error


def quote(name: str) -> str:
    """A SQL identifier, double-quoted (column names come from the user's data)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Source:
    """A registered, normalised microdata source inside one DuckDB connection."""

    view: str  # normalised view: d0.., u, x, w
    raw: str  # the data as given (table or view)
    columns: dict[str, str]  # raw column name -> DuckDB type
    has_unit: bool
    notes: tuple[str, ...]
    temp_objects: tuple[tuple[str, str], ...]  # (kind, name) to drop afterwards


def register(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    data: Any,
    prefix: str,
    *,
    own_connection: bool,
) -> Source:
    """Register ``data`` in ``con`` and build the normalised view for ``spec``."""
    temp: list[tuple[str, str]] = []
    try:
        return _register(con, spec, data, prefix, own_connection, temp)
    except BaseException:
        drop(con, tuple(temp))  # bad input leaves nothing behind in the caller's connection
        raise


def _register(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    data: Any,
    prefix: str,
    own_connection: bool,
    temp: list[tuple[str, str]],
) -> Source:
    raw = f"{prefix}raw"
    notes: list[str] = []
    if isinstance(data, str | Path):
        path = Path(data)
        if not path.is_file():
            raise DataError(
                f"data file not found: {path}", hint="give a .csv or .parquet file that exists"
            )
        suffixes = "".join(path.suffixes).lower()
        if ".parquet" in suffixes or suffixes.endswith(".pq"):
            _read_file(
                con,
                path,
                f"CREATE TEMP VIEW {raw} AS SELECT * FROM read_parquet({literal(str(path))})",
            )
            temp.append(("VIEW", raw))
        elif ".csv" in suffixes or ".txt" in suffixes or ".tsv" in suffixes:
            # Every column as text, read once into a temp table (CSV parsing is the slow part).
            _read_file(
                con,
                path,
                f"CREATE TEMP TABLE {raw} AS SELECT * FROM read_csv({literal(str(path))}, "
                "all_varchar = true, header = true)",
            )
            temp.append(("TABLE", raw))
        else:
            raise DataError(
                f"cannot tell the format of {path} from its name",
                hint="name the file .csv or .parquet",
            )
    elif isinstance(data, pd.DataFrame | pa.Table):
        con.register(raw, data)
        temp.append(("REGISTERED", raw))
    elif isinstance(data, duckdb.DuckDBPyRelation):
        if own_connection:
            # A relation belongs to its own connection; bring its rows into ours.
            con.register(raw, data.to_arrow_table())
            temp.append(("REGISTERED", raw))
            notes.append(
                "the DuckDB relation was materialised as an Arrow table; pass its "
                "connection (connection=...) to tabulate it in place"
            )
        else:
            data.create_view(raw, replace=True)
            temp.append(("VIEW", raw))
    else:
        raise DataError(
            f"cannot tabulate data of type {type(data).__name__}",
            hint="give a CSV or Parquet path, a pandas DataFrame, a pyarrow Table "
            "or a DuckDB relation",
        )
    columns = {
        str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {raw}").fetchall()
    }
    check_columns(spec, columns)
    view = f"{prefix}src"
    select: list[str] = []
    for i, dim in enumerate(spec.dimension_names):
        kind = columns[dim]
        if not kind.startswith(_TEXT_TYPES):
            notes.append(
                f"dimension '{dim}' is stored as {kind}; its codes are the values' text "
                "(leading zeros cannot be recovered: store codes as text)"
            )
        select.append(f"CAST({quote(dim)} AS VARCHAR) AS d{i}")
    unit = spec.holding or spec.contributor
    if unit is not None:
        select.append(f"{quote(unit)} AS u")
    if spec.holding is not None and spec.contributor is not None:
        select.append(f"{quote(spec.contributor)} AS c")
    if spec.response is not None:
        select.append(f"{_numeric(spec.response, columns[spec.response])} AS x")
    if spec.weight is not None:
        select.append(f"{_numeric(spec.weight, columns[spec.weight])} AS w")
    con.execute(f"CREATE TEMP VIEW {view} AS SELECT {', '.join(select)} FROM {raw}")
    temp.append(("VIEW", view))
    return Source(
        view=view,
        raw=raw,
        columns=columns,
        has_unit=unit is not None,
        notes=tuple(notes),
        temp_objects=tuple(temp),
    )


def _read_file(con: duckdb.DuckDBPyConnection, path: Path, sql: str) -> None:
    # a damaged or mislabelled file is bad input, not a crash: say which file and why
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"cannot read {path}: {first}",
            hint="check that the file is a complete CSV (with a header line) or Parquet "
            "file, and that its name ends in the right suffix",
        ) from exc


def new_prefix() -> str:
    """A unique prefix for the temporary objects of one tabulation."""
    return f"fs_tab_{uuid.uuid4().hex[:10]}_"


def drop(con: duckdb.DuckDBPyConnection, objects: tuple[tuple[str, str], ...]) -> None:
    """Drop the temporary objects of a tabulation (in reverse order of creation)."""
    for kind, name in reversed(objects):
        if kind == "REGISTERED":
            con.unregister(name)
        else:
            con.execute(f"DROP {kind} IF EXISTS {name}")


def check_columns(spec: TableSpec, columns: Mapping[str, str]) -> None:
    """Raise a DataError for a column the spec names that the data lack, or of a wrong type.

    ``columns`` maps each data column to its type, as DuckDB names types.
    """
    roles = [(d, "dimension") for d in spec.dimension_names]
    roles += [
        (c, role)
        for c, role in (
            (spec.response, "response"),
            (spec.contributor, "contributor"),
            (spec.holding, "holding"),
            (spec.weight, "weight"),
        )
        if c is not None
    ]
    missing = [(c, role) for c, role in roles if c not in columns]
    if missing:
        named = ", ".join(f"{role} '{c}'" for c, role in missing)
        raise DataError(
            f"the data have no column for {named}",
            hint=f"the data's columns are {sorted(columns)[:30]}; fix the spec or the data",
        )
    for c, role in roles:
        kind = columns[c]
        if role in ("response", "weight") and not (
            kind.startswith(_NUMERIC_PREFIXES) or kind.startswith(_TEXT_TYPES)
        ):
            raise DataError(
                f"{role} column '{c}' has type {kind}, not a number",
                hint=f"give '{c}' as numbers",
            )


def _numeric(column: str, kind: str) -> str:
    if kind.startswith(_TEXT_TYPES):
        return f"TRY_CAST(trim({quote(column)}) AS DOUBLE)"
    return f"CAST({quote(column)} AS DOUBLE)"


def check_values(con: duckdb.DuckDBPyConnection, spec: TableSpec, source: Source) -> None:
    """Raise a DataError for missing, non-numeric or negative values (never a silent drop)."""
    checks: list[tuple[str, str]] = []
    for i in range(len(spec.dimensions)):
        checks.append((f"dim{i}", f"count_if(d{i} IS NULL)"))
    if spec.holding is not None:
        checks.append(("unit", "count_if(u IS NULL)"))
        checks.append(("contrib", "count_if(c IS NULL)"))
    elif spec.contributor is not None:
        checks.append(("unit", "count_if(u IS NULL)"))
    if spec.response is not None:
        checks.append(("x_bad", "count_if(x IS NULL OR NOT isfinite(x))"))
        checks.append(("x_neg", "count_if(x < 0)"))
    if spec.weight is not None:
        checks.append(("w_bad", "count_if(w IS NULL OR NOT isfinite(w))"))
        checks.append(("w_neg", "count_if(w < 0)"))
    sql = ", ".join(f"{expr} AS {name}" for name, expr in checks)
    row = con.execute(f"SELECT {sql} FROM {source.view}").fetchone()
    assert row is not None
    counts = dict(zip([name for name, _ in checks], row, strict=True))
    raise_value_errors(
        spec, counts, lambda role, column, n: _bad_numbers(con, source, role, column, n)
    )
    if spec.holding is not None:
        row = con.execute(
            f"SELECT count(*), list(c ORDER BY c)[1:{_SHOW}] FROM (SELECT c FROM {source.view} "
            "GROUP BY c HAVING count(DISTINCT u) > 1)"
        ).fetchone()
        assert row is not None
        if row[0]:
            raise holding_error(spec, int(row[0]), [str(v) for v in row[1]])


def raise_value_errors(
    spec: TableSpec, counts: Mapping[str, int], bad_numbers: Callable[[str, str, int], None]
) -> None:
    """Raise the DataError for the first problem in ``counts`` (rows per check), if any.

    ``counts`` holds, per check, the rows that fail it: ``dim{i}`` (missing code of
    dimension i), ``unit``, ``contrib`` (missing unit / contributor), ``x_bad``, ``x_neg``,
    ``w_bad``, ``w_neg`` (response / weight not a finite number, negative). Each engine
    counts them its own way; ``bad_numbers(role, column, n)`` raises the error naming the
    values that are not numbers.
    """
    for i, dim in enumerate(spec.dimension_names):
        n = counts[f"dim{i}"]
        if n:
            raise DataError(
                f"dimension '{dim}' is missing (empty) in {n} row(s)",
                hint=f"give every row a code for '{dim}'; an unknown code is a code too "
                "(add it to the hierarchy, e.g. 'unknown')",
            )
    if counts.get("unit"):
        col = spec.holding or spec.contributor
        raise DataError(
            f"column '{col}' (the {'holding' if spec.holding else 'contributor'}) "
            f"is missing in {counts['unit']} row(s)",
            hint="every row must name the unit it belongs to; fill the column in",
        )
    if counts.get("contrib"):
        raise DataError(
            f"contributor column '{spec.contributor}' is missing in {counts['contrib']} row(s)",
            hint="every row must name its contributor; fill the column in",
        )
    for role, column, key in (("response", spec.response, "x"), ("weight", spec.weight, "w")):
        if column is None:
            continue
        if counts[f"{key}_bad"]:
            bad_numbers(role, column, counts[f"{key}_bad"])
        if counts[f"{key}_neg"] and (role == "weight" or spec.rules.negatives == "error"):
            n = counts[f"{key}_neg"]
            hint = (
                "survey weights must be >= 0; fix the weights"
                if role == "weight"
                else 'set negatives = "absolute" under [rules] to evaluate the rules '
                "on absolute values, or correct the data"
            )
            raise DataError(f"{role} column '{column}' is negative in {n} row(s)", hint=hint)


def holding_error(spec: TableSpec, count: int, examples: Sequence[str]) -> DataError:
    """The error for ``count`` contributors that belong to several holdings."""
    return DataError(
        f"{count} contributor(s) in '{spec.contributor}' belong to more than one "
        f"holding in '{spec.holding}', e.g. {list(examples)}",
        hint="a contributor belongs to exactly one holding; correct the holding column",
    )


def bad_numbers_error(
    role: str, column: str, n: int, missing: int, bad: Sequence[str]
) -> DataError:
    """The error for ``n`` rows of ``column`` that are not finite numbers.

    ``missing`` of them are absent; ``bad`` lists the other values, sorted.
    """
    if bad:
        return DataError(
            f"{role} column '{column}' is not a number in {n - missing} row(s): "
            f"{list(bad[:_SHOW])}{' ...' if len(bad) > _SHOW else ''}",
            hint=f"'{column}' must hold numbers (a dot for decimals, no thousands separators)",
        )
    return DataError(
        f"{role} column '{column}' is missing in {missing} row(s)",
        hint=f"fill '{column}' in (write 0 where the true value is zero); "
        "rows are never dropped silently",
    )


def _bad_numbers(
    con: duckdb.DuckDBPyConnection, source: Source, role: str, column: str, n: int
) -> None:
    num = _numeric("r", source.columns[column])
    # Rows whose raw value is absent are "missing"; the others did not convert.
    row = con.execute(
        f"SELECT count_if(r IS NULL), list(DISTINCT CAST(r AS VARCHAR)) "
        f"FILTER (WHERE r IS NOT NULL) FROM (SELECT {quote(column)} AS r FROM {source.raw}) t "
        f"WHERE r IS NULL OR {num} IS NULL OR NOT isfinite({num})"
    ).fetchone()
    assert row is not None
    missing, bad = int(row[0]), sorted(str(v) for v in (row[1] or []))
    raise bad_numbers_error(role, column, n, missing, bad)
