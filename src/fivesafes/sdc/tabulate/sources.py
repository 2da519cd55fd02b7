"""Microdata sources for tabulation: register any supported input in DuckDB and check it.

A source becomes a DuckDB view with normalised columns: ``d0 .. d{n-1}`` (the
dimension codes, always VARCHAR), ``u`` (the unit the rules protect: the holding,
else the contributor, else absent), ``x`` (the response as DOUBLE) and ``w`` (the
weight as DOUBLE). Codes are never parsed as numbers: CSV files are read with every
column as text, and numeric columns are converted explicitly and checked.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import duckdb
import pandas as pd
import pyarrow as pa

from fivesafes.errors import DataError, SpecError
from fivesafes.sdc.differencing import MAX_ATOMS
from fivesafes.sdc.occupancy import Occupancy
from fivesafes.sdc.spec import TableSpec
from fivesafes.sdc.suggest import did_you_mean
from fivesafes.sdc.tabulate.source_rows import first_rows, rows_text

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
# The most distinct value pairs of two columns read into memory for the differencing
# model's zeros: as many as the atoms the model itself accepts. A filter column's values
# are each an atom class of their own, so past this the model refuses anyway; counted in
# DuckDB first, so a filter on a unit identifier is refused before its pairs are fetched.
MAX_VALUE_PAIRS = MAX_ATOMS


class NumericCodesWarning(UserWarning):
    """A dimension column of a DataFrame holds numbers: codes like "01" may have become 1."""


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
    has_key: bool = False  # a record-key column ``rk`` (key * 2**53) for the cell key method
    select: str = ""  # the view's select list over ``raw`` (to number rows for errors)


def register(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    data: Any,
    prefix: str,
    *,
    own_connection: bool,
    record_key: str | None = None,
) -> Source:
    """Register ``data`` in ``con`` and build the normalised view for ``spec``.

    ``record_key`` names a column of record keys in [0, 1) (sdc/perturbation/keys.py);
    the view then carries ``rk``, the key times 2**53, which the cell key sums.
    """
    temp: list[tuple[str, str]] = []
    try:
        return _register(con, spec, data, prefix, own_connection, temp, record_key)
    except BaseException:
        drop_after_error(con, tuple(temp))  # bad input leaves nothing in the caller's connection
        raise


def _register(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    data: Any,
    prefix: str,
    own_connection: bool,
    temp: list[tuple[str, str]],
    record_key: str | None = None,
) -> Source:
    raw = f"{prefix}raw"
    notes: list[str] = []
    if isinstance(data, str | Path):
        path = Path(data)
        if not path.is_file():
            raise DataError(
                f"data file not found: {path}",
                hint="give a .csv (or .csv.gz) or .parquet file that exists",
                value_free=True,
            )
        if path.stat().st_size == 0:
            raise DataError(
                f"data file {path} is empty (0 bytes)",
                hint="give the microdata: a header line with the column names, then one "
                "line per record",
                value_free=True,
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
                hint="name the file .csv (or .tsv, .txt: delimited text; any of them "
                "gzipped: .csv.gz) or .parquet",
                value_free=True,
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
            value_free=True,
        )
    columns = {
        str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {raw}").fetchall()
    }
    check_duplicates(spec, raw_column_names(con, data, raw), columns, record_key)
    check_columns(spec, columns)
    if record_key is not None and record_key not in columns:
        raise DataError(
            f"the data have no record-key column '{record_key}'",
            hint="attach record keys first (sdc.perturbation.attach_record_keys)",
            value_free=True,
        )
    if isinstance(data, str | Path):
        counted = con.execute(f"SELECT count(*) FROM {raw}").fetchone()
        if counted is not None and counted[0] == 0:
            # a table of zeros from no data would look like a real, safe table
            raise DataError(
                f"data file {data} has no data rows (only a header)",
                hint="give the file with its records; an empty table is never published",
                value_free=True,
            )
    view = f"{prefix}src"
    select: list[str] = []
    for i, dim in enumerate(spec.dimension_names):
        kind = columns[dim]
        if not kind.startswith(_TEXT_TYPES):
            note = (
                f"dimension '{dim}' is stored as {kind}; its codes are the values' text "
                "(leading zeros cannot be recovered: store codes as text)"
            )
            notes.append(note)
            # (an empty frame's columns have a type but no code to lose)
            numeric = isinstance(data, pd.DataFrame) and len(data) > 0
            if numeric and pd.api.types.is_numeric_dtype(data[dim]):
                # pandas reads "01" as 1 unless told otherwise: say so where it happened
                warnings.warn(
                    NumericCodesWarning(
                        f"{note}; read the data with pd.read_csv(..., dtype={{{dim!r}: str}}) "
                        "so that codes such as '01' keep their leading zeros"
                    ),
                    stacklevel=2,
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
    if record_key is not None:
        select.append(f"{_numeric(record_key, columns[record_key])} * {2**53}.0 AS rk")
    con.execute(
        f"CREATE TEMP VIEW {view} AS SELECT {', '.join(select)} FROM {raw}{_where(spec, columns)}"
    )
    temp.append(("VIEW", view))
    return Source(
        view=view,
        raw=raw,
        columns=columns,
        has_unit=unit is not None,
        notes=tuple(notes),
        temp_objects=tuple(temp),
        has_key=record_key is not None,
        select=", ".join(select),
    )


def raw_column_names(con: duckdb.DuckDBPyConnection, data: Any, raw: str) -> list[str]:
    """The data's column names as written, before DuckDB renames a duplicate (``a`` -> ``a_1``)."""
    if isinstance(data, str | Path):
        path = Path(data)
        suffixes = "".join(path.suffixes).lower()
        if ".parquet" in suffixes or suffixes.endswith(".pq"):
            import pyarrow.parquet as pq

            return [str(n) for n in pq.read_schema(path).names]
        # the header line as a row of text (the same dialect DuckDB sniffed for the data)
        row = con.execute(
            f"SELECT * FROM read_csv({literal(str(path))}, all_varchar = true, header = false) "
            "LIMIT 1"
        ).fetchone()
        return [str(v) for v in row] if row is not None else []
    if isinstance(data, pd.DataFrame):
        return [str(c) for c in data.columns]
    if isinstance(data, pa.Table):
        return [str(c) for c in data.column_names]
    if isinstance(data, duckdb.DuckDBPyRelation):
        return [str(c) for c in data.columns]
    return list(con.execute(f"SELECT * FROM {raw} LIMIT 0").df().columns)


def check_duplicates(
    spec: TableSpec,
    names: Sequence[str],
    columns: Mapping[str, str],
    record_key: str | None = None,
) -> None:
    """Raise a DataError when a column the spec uses is one of several of that name.

    DuckDB compares names without regard to case and renames the second ``region`` (or
    ``Region``) to ``region_1``: the table would silently use whichever came first.
    """
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names, start=1):
        groups.setdefault(name.casefold(), []).append(i)
    used = [
        c
        for c in (
            *spec.dimension_names,
            spec.response,
            spec.contributor,
            spec.holding,
            spec.weight,
            record_key,
            *(c for c, _ in spec.where),
        )
        if c is not None
    ]
    written = set(names)
    for column in used:
        at = groups.get(column.casefold(), [])
        renamed = column not in written and column in columns
        if renamed:
            raise DataError(
                f"the data have no column written '{column}': that is the name given to a "
                "second column of the same name, so which one the spec means cannot be told",
                hint="give each column of the data its own name, and name that in the spec",
                value_free=True,
            )
        if len(at) > 1:
            numbers = ", ".join(map(str, at[:-1])) + f" and {at[-1]}"
            raise DataError(
                f"the data have {len(at)} columns named '{column}' (columns {numbers}; names "
                "are compared without regard to case): which one the spec means cannot be told",
                hint="rename or remove the extra column(s) in the data, so that each name "
                "appears once",
                value_free=True,
            )


def _where(spec: TableSpec, columns: Mapping[str, str]) -> str:
    """The SQL filter of ``[table] where`` (values compared as text), or nothing."""
    if not spec.where:
        return ""
    missing = sorted(c for c, _ in spec.where if c not in columns)
    if missing:
        raise DataError(
            f"[table] where names column(s) {missing} that the data do not have",
            hint=f"the data's columns are {sorted(columns)}",
            value_free=True,
        )
    terms = [
        f"CAST({quote(c)} AS VARCHAR) IN ({', '.join(literal(v) for v in values)})"
        for c, values in spec.where
    ]
    return " WHERE " + " AND ".join(terms)


def column_values(
    con: duckdb.DuckDBPyConnection, source: Source, columns: Sequence[str]
) -> dict[str, list[str]]:
    """Every value (as text) each column takes in all the data, the filter aside.

    Counted first: a column with more than MAX_VALUE_PAIRS values (a unit identifier)
    raises SpecError before they are fetched; each value of a filter column is an atom
    class of the differencing model, which would refuse them anyway (MAX_ATOMS)."""
    out = {}
    for c in columns:
        if c not in source.columns:
            raise DataError(
                f"the data have no column '{c}'", hint="check [table] where", value_free=True
            )
        sql = (
            f"SELECT DISTINCT CAST({quote(c)} AS VARCHAR) FROM {source.raw} "
            f"WHERE {quote(c)} IS NOT NULL"
        )
        row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
        count = int(row[0]) if row else 0
        if count > MAX_VALUE_PAIRS:
            limit = f"more than the {MAX_VALUE_PAIRS:,} the differencing check holds apart"
            raise SpecError(
                f"[table] where: column '{c}' takes {count:,} values in the data, {limit}",
                hint=f"filter on a coarser column than '{c}' (a group of units, not a unit "
                "identifier)",
                redacted=f"[table] where: column '{c}' takes more values than the "
                f"{MAX_VALUE_PAIRS:,} the differencing check holds apart",
            )
        out[c] = sorted(str(r[0]) for r in con.execute(sql).fetchall())
    return out


def data_occupancy(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: set[str],
    pairs: Sequence[tuple[str, str]],
) -> Occupancy | None:
    """Which value pairs of ``pairs`` hold units in ``relation`` (sdc/occupancy.py): per pair
    of ``columns``, every combination of their values as text, a row missing one of the two
    giving the other with None. Pairs with a column the relation lacks (a family's
    membership) are left out; None when none is left.

    Every pair is counted before any is fetched: one with more than MAX_VALUE_PAIRS
    distinct value pairs raises SpecError (value-free) instead of filling the memory."""
    queries = {
        (a, b): (
            f"SELECT DISTINCT CAST({quote(a)} AS VARCHAR), CAST({quote(b)} AS VARCHAR) "
            f"FROM {relation} WHERE {quote(a)} IS NOT NULL OR {quote(b)} IS NOT NULL"
        )
        for a, b in pairs
        if a in columns and b in columns
    }
    for (a, b), sql in queries.items():
        row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
        count = int(row[0]) if row else 0
        if count > MAX_VALUE_PAIRS:
            limit = f"more than the {MAX_VALUE_PAIRS:,} the differencing check holds"
            why = "it cannot know which combinations of them hold no unit"
            raise SpecError(
                f"columns '{a}' and '{b}' take {count:,} distinct pairs of values in the "
                f"data, {limit}: {why}",
                hint=f"filter on a coarser column than '{a}' or '{b}' (a group of units, not "
                "a unit identifier), or tabulate it with fewer codes",
                # the count tells how many units there are: only the columns leave the area
                redacted=f"columns '{a}' and '{b}' take more distinct pairs of values than "
                f"the {MAX_VALUE_PAIRS:,} the differencing check holds: {why}",
            )
    found = {pair: con.execute(sql).fetchall() for pair, sql in queries.items()}
    return Occupancy.of(found) if found else None


def _read_file(con: duckdb.DuckDBPyConnection, path: Path, sql: str) -> None:
    # a damaged or mislabelled file is bad input, not a crash: say which file and why
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "not utf-8" in str(exc).lower() or "invalid unicode" in str(exc).lower():
            # the error's other lines quote the data: only its line number is repeated
            raise DataError(
                f"{path} is not UTF-8 text ({first.removeprefix('Invalid Input Error: ')}); "
                "a file saved as Latin-1 or Windows-1252 looks like this",
                hint="save the file as UTF-8 (in Excel: CSV UTF-8; or convert it with "
                "iconv -f latin1 -t utf-8)",
                redacted=f"{path} is not UTF-8 text",
            ) from exc
        raise DataError(
            f"cannot read {path}: {first}",
            hint="check that the file is a complete CSV (with a header line) or Parquet "
            "file, and that its name ends in the right suffix",
            redacted=f"cannot read {path}",
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


def drop_after_error(con: duckdb.DuckDBPyConnection, objects: tuple[tuple[str, str], ...]) -> None:
    """:func:`drop` while an error is on its way out: a failing drop (say, in the caller's
    aborted transaction) must not hide the error the caller needs to see."""
    with suppress(duckdb.Error):
        drop(con, objects)


@contextmanager
def temporary(con: duckdb.DuckDBPyConnection, objects: Sequence[tuple[str, str]]) -> Iterator[None]:
    """Drop ``objects`` (as they are when the block ends: it may add some) after the block;
    after an error, without letting a failing drop hide it (:func:`drop_after_error`)."""
    try:
        yield
    except BaseException:
        drop_after_error(con, tuple(objects))
        raise
    drop(con, tuple(objects))


@contextmanager
def one_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run ``con`` on one DuckDB thread inside the block, its own thread count back after.

    With several threads, ``sum`` adds a cell's doubles in an order that varies from run
    to run, so a value could differ in its last bits between runs of the same data (about
    1 run in 8 on a 60,000-row table), enough to change a secondary suppression pattern.
    DuckDB's setting is the whole database's, not one cursor's. A connection whose
    configuration is locked keeps its own count (its results are as exact, only not
    guaranteed bit-identical); so does one whose transaction the block aborted, where
    no SET runs any more.
    """
    rows = con.execute("SELECT current_setting('threads')").fetchall()  # all: none left open
    threads = int(rows[0][0]) if rows else 1
    changed = False
    if threads != 1:
        with suppress(duckdb.Error):  # a locked configuration keeps its own
            con.execute("SET threads = 1")
            changed = True
    try:
        yield
    finally:
        if changed:
            # in an aborted transaction no SET runs: the block's own error is the one to see
            with suppress(duckdb.Error):
                con.execute(f"SET threads = {threads}")


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
        named = ", ".join(f"{role} '{c}'{did_you_mean(c, columns)}" for c, role in missing)
        raise DataError(
            f"the data have no column for {named}",
            hint=f"the data's columns are {sorted(columns)[:30]}; fix the spec or the data",
            value_free=True,
        )
    for c, role in roles:
        kind = columns[c]
        if role in ("response", "weight") and not (
            kind.startswith(_NUMERIC_PREFIXES) or kind.startswith(_TEXT_TYPES)
        ):
            raise DataError(
                f"{role} column '{c}' has type {kind}, not a number",
                hint=f"give '{c}' as numbers",
                value_free=True,
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
    if source.has_key:
        # a key is k / 2**53 with 0 <= k < 2**53: anything else was not drawn by record_keys
        checks.append(
            ("rk_bad", f"count_if(rk IS NULL OR rk < 0 OR rk >= {2**53}.0 OR rk <> floor(rk))")
        )
    sql = ", ".join(f"{expr} AS {name}" for name, expr in checks)
    row = con.execute(f"SELECT {sql} FROM {source.view}").fetchone()
    assert row is not None
    counts = dict(zip([name for name, _ in checks], row, strict=True))

    def where(check: str, n: int) -> str:
        return rows_text(first_rows(con, source, _condition(check)), n)

    raise_value_errors(
        spec,
        counts,
        lambda role, column, n, rows: _bad_numbers(con, source, role, column, n, rows),
        rows_of=where,
    )
    if spec.holding is not None:
        row = con.execute(
            f"SELECT count(*), list(c ORDER BY c)[1:{_SHOW}] FROM (SELECT c FROM {source.view} "
            "GROUP BY c HAVING count(DISTINCT u) > 1)"
        ).fetchone()
        assert row is not None
        if row[0]:
            first = literal(str(row[1][0]))
            at = rows_text(first_rows(con, source, f"CAST(c AS VARCHAR) = {first}"))
            raise holding_error(spec, int(row[0]), [str(v) for v in row[1]], at=at)


def _condition(check: str) -> str:
    """The rows failing a check of ``check_values``, as a condition on the source's view."""
    if check.startswith("dim"):
        return f"d{int(check[3:])} IS NULL"
    return {
        "unit": "u IS NULL",
        "contrib": "c IS NULL",
        "rk_bad": f"rk IS NULL OR rk < 0 OR rk >= {2**53}.0 OR rk <> floor(rk)",
        "x_bad": "x IS NULL OR NOT isfinite(x)",
        "x_neg": "x < 0",
        "w_bad": "w IS NULL OR NOT isfinite(w)",
        "w_neg": "w < 0",
    }[check]


def at_rows(rows: str) -> str:
    """`` (at rows 2 and 4)`` when the engine can name the rows, else ''."""
    return f" (at {rows})" if rows else ""


def raise_value_errors(
    spec: TableSpec,
    counts: Mapping[str, int],
    bad_numbers: Callable[[str, str, int, str], None],
    *,
    rows_of: Callable[[str, int], str] | None = None,
) -> None:
    """Raise the DataError for the first problem in ``counts`` (rows per check), if any.

    ``counts`` holds, per check, the rows that fail it: ``dim{i}`` (missing code of
    dimension i), ``unit``, ``contrib`` (missing unit / contributor), ``rk_bad`` (record
    key), ``x_bad``, ``x_neg``, ``w_bad``, ``w_neg`` (response / weight not a finite
    number, negative). Each engine counts them its own way; ``bad_numbers(role, column,
    n, rows)`` raises the error naming the values that are not numbers; ``rows_of(check,
    n)``, where the engine knows row numbers, names the first failing rows.
    """

    def where(check: str, n: int) -> str:
        return at_rows(rows_of(check, n)) if rows_of is not None else ""

    for i, dim in enumerate(spec.dimension_names):
        n = counts[f"dim{i}"]
        if n:
            raise DataError(
                f"dimension '{dim}' is missing (empty) in {n} row(s){where(f'dim{i}', n)}",
                hint=f"give every row a code for '{dim}'; an unknown code is a code too "
                "(add it to the hierarchy, e.g. 'unknown')",
                redacted=f"dimension '{dim}' is missing (empty) in some rows",
            )
    if counts.get("unit"):
        col = spec.holding or spec.contributor
        raise DataError(
            f"column '{col}' (the {'holding' if spec.holding else 'contributor'}) "
            f"is missing in {counts['unit']} row(s){where('unit', counts['unit'])}",
            hint="every row must name the unit it belongs to; fill the column in",
            redacted=f"column '{col}' (the {'holding' if spec.holding else 'contributor'}) "
            "is missing in some rows",
        )
    if counts.get("contrib"):
        raise DataError(
            f"contributor column '{spec.contributor}' is missing in {counts['contrib']} "
            f"row(s){where('contrib', counts['contrib'])}",
            hint="every row must name its contributor; fill the column in",
            redacted=f"contributor column '{spec.contributor}' is missing in some rows",
        )
    if counts.get("rk_bad"):
        raise DataError(
            f"{counts['rk_bad']} row(s) have no valid record key (in [0, 1), a multiple of 2**-53)",
            hint="record keys are drawn by fivesafes.sdc.perturbation.record_keys; "
            "never edit or impute them",
            redacted="some rows have no valid record key",
        )
    for role, column, key in (("response", spec.response, "x"), ("weight", spec.weight, "w")):
        if column is None:
            continue
        if counts[f"{key}_bad"]:
            bad_numbers(
                role, column, counts[f"{key}_bad"], where(f"{key}_bad", counts[f"{key}_bad"])
            )
        if counts[f"{key}_neg"] and (role == "weight" or spec.rules.negatives == "error"):
            n = counts[f"{key}_neg"]
            hint = (
                "survey weights must be >= 0; fix the weights"
                if role == "weight"
                else 'set negatives = "absolute" under [rules] to evaluate the rules '
                "on absolute values, or correct the data"
            )
            raise DataError(
                f"{role} column '{column}' is negative in {n} row(s){where(f'{key}_neg', n)}",
                hint=hint,
                redacted=f"{role} column '{column}' is negative in some rows",
            )


def holding_error(
    spec: TableSpec, count: int, examples: Sequence[str], *, at: str = ""
) -> DataError:
    """The error for ``count`` contributors that belong to several holdings (``at``: rows)."""
    return DataError(
        f"{count} contributor(s) in '{spec.contributor}' belong to more than one "
        f"holding in '{spec.holding}', e.g. {list(examples)}"
        + (f" (the first at {at})" if at else ""),
        hint="a contributor belongs to exactly one holding; correct the holding column",
        redacted=f"some contributors in '{spec.contributor}' belong to more than one "
        f"holding in '{spec.holding}'",
    )


def bad_numbers_error(
    role: str, column: str, n: int, missing: int, bad: Sequence[str], rows: str = ""
) -> DataError:
    """The error for ``n`` rows of ``column`` that are not finite numbers.

    ``missing`` of them are absent; ``bad`` lists the other values, sorted; ``rows`` is
    the ``at_rows`` suffix naming the first failing rows, where known.
    """
    if bad:
        return DataError(
            f"{role} column '{column}' is not a number in {n - missing} row(s): "
            f"{list(bad[:_SHOW])}{' ...' if len(bad) > _SHOW else ''}{rows}",
            hint=f"'{column}' must hold numbers (a dot for decimals, no thousands separators)",
            redacted=f"{role} column '{column}' is not a number in some rows",
        )
    return DataError(
        f"{role} column '{column}' is missing in {missing} row(s){rows}",
        hint=f"fill '{column}' in (write 0 where the true value is zero); "
        "rows are never dropped silently",
        redacted=f"{role} column '{column}' is missing in some rows",
    )


def _bad_numbers(
    con: duckdb.DuckDBPyConnection, source: Source, role: str, column: str, n: int, rows: str
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
    raise bad_numbers_error(role, column, n, missing, bad, rows)
