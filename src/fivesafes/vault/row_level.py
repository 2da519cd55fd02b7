"""What a query may show outside the area: aggregates freely, rows only as the area allows.

A query's result always stays in the area (an encrypted output). What *leaves* is what
is shown: the rows printed on a screen or sent back by the server. The rule:

- a result of at most ``max_rows`` rows (the area's setting, 0 by default) is shown,
  whatever the query;
- a larger result is shown only when the query is a *summary* (see :func:`is_summary`)
  and has at most ``SUMMARY_ROWS`` rows (a few groups, not a listing);
- anything else is withheld whole (a first page of a listing is still a listing).

Deny by default: a query is a summary only when the parse tree proves it; anything
unrecognised counts as row-level. This is not disclosure control of the aggregates
(small cells, dominance): that is the release's output checking.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pyarrow as pa

from fivesafes.vault.sql_parse import parse_tree, parser_connection

# A summary with more groups than this is a listing, whatever its functions.
SUMMARY_ROWS = 200

# Aggregates that summarise: each returns one number (or an extreme) for a group.
# Aggregates that return the values themselves (list, string_agg, histogram, first,
# arg_max, ...) are not here: through them one row can carry a whole column.
SUMMARY_FUNCTIONS = frozenset(
    {
        "count",
        "count_star",
        "sum",
        "avg",
        "mean",
        "min",
        "max",
        "median",
        "quantile",
        "quantile_cont",
        "quantile_disc",
        "stddev",
        "stddev_samp",
        "stddev_pop",
        "variance",
        "var_samp",
        "var_pop",
        "corr",
        "covar_pop",
        "covar_samp",
        "approx_count_distinct",
        "sum_no_overflow",
        "fsum",
        "kahan_sum",
    }
)
_GROUPED = ("STANDARD_HANDLING", "FORCE_AGGREGATES")
_POSITIONAL = {"query_location", "query_location_length", "alias"}


@cache
def _aggregate_names() -> frozenset[str]:
    """Every aggregate function DuckDB knows (to tell them from scalar functions)."""
    con = parser_connection()
    try:
        rows = con.execute(
            "SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
            "WHERE function_type = 'aggregate'"
        ).fetchall()
    finally:
        con.close()
    return frozenset(str(r[0]) for r in rows)


def _plain(expr: Any) -> Any:
    """An expression without where it was written (to compare with a GROUP BY one)."""
    if isinstance(expr, dict):
        return {k: _plain(v) for k, v in expr.items() if k not in _POSITIONAL}
    if isinstance(expr, list):
        return [_plain(v) for v in expr]
    return expr


def _children(expr: Any) -> Iterator[Any]:
    if isinstance(expr, dict):
        yield from expr.values()
    elif isinstance(expr, list):
        yield from expr


def _summarises(expr: Any, groups: Sequence[Any]) -> bool | None:
    """True: ``expr`` summarises; False: it shows values of rows; None: a constant."""
    if isinstance(expr, dict) and "class" in expr:
        if _plain(expr) in groups:
            return True
        kind = expr.get("class")
        if kind == "COLUMN_REF" or kind in ("WINDOW", "SUBQUERY", "STAR"):
            return False
        if kind == "FUNCTION":
            name = str(expr.get("function_name", "")).lower()
            if name in _aggregate_names():
                return name in SUMMARY_FUNCTIONS and not expr.get("filter")
    verdicts = [_summarises(child, groups) for child in _children(expr)]
    if any(v is False for v in verdicts):
        return False
    return True if any(v is True for v in verdicts) else None


def _grouped(expr: Any, columns: Sequence[Any]) -> Any:
    """The select-list expression a GROUP BY position (``GROUP BY 1``) or alias names."""
    if not isinstance(expr, dict):
        return expr
    literal = expr.get("literal")
    if expr.get("class") == "CONSTANT" and isinstance(literal, dict):
        text = str(literal.get("text", ""))
        if literal.get("kind") == "INTEGER" and text.isdigit() and 1 <= int(text) <= len(columns):
            return columns[int(text) - 1]
    names = expr.get("column_names")
    if expr.get("class") == "COLUMN_REF" and isinstance(names, list) and len(names) == 1:
        aliased = [c for c in columns if isinstance(c, dict) and c.get("alias") == names[0]]
        if len(aliased) == 1:
            return aliased[0]
    return expr


def is_summary(sql: str) -> bool:
    """Whether ``sql``'s result is a summary: every column a group key or an aggregate.

    Only its final SELECT counts (a CTE may list rows, its summary is what is shown):
    grouped or aggregating, no window, no star, no set operation (UNION of listings),
    and each column either a GROUP BY expression or built from summary aggregates
    (:data:`SUMMARY_FUNCTIONS`) with no bare column outside them.
    """
    node = parse_tree(sql).get("node")
    if not isinstance(node, dict) or node.get("type") != "SELECT_NODE":
        return False
    if node.get("aggregate_handling") not in _GROUPED:
        return False
    columns = node.get("select_list") or []
    groups = [_plain(_grouped(g, columns)) for g in node.get("group_expressions") or []]
    verdicts = [_summarises(c, groups) for c in columns]
    if not columns or any(v is False for v in verdicts):
        return False
    # No GROUP BY and no aggregate: a constant SELECT over a table is one row per row.
    return bool(groups) or any(v is True for v in verdicts)


def _nested(table: pa.Table) -> bool:
    return any(pa.types.is_nested(f.type) for f in table.schema)


@dataclass(frozen=True)
class Shown:
    """What a query shows outside the area: its columns and rows as text, and why."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    total_rows: int
    summary: bool  # the query summarises (a few groups), else it lists rows
    withheld: str | None  # why nothing is shown, when the policy holds it back

    @property
    def sha256(self) -> str:
        """The hash of exactly what was shown (audited beside the row count)."""
        body = json.dumps([list(self.columns), [list(r) for r in self.rows]], ensure_ascii=False)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _cell(value: Any) -> str:
    return str(value)


def shown(table: pa.Table, summary: bool, max_rows: int, wanted: int, area: str) -> Shown:
    """The part of ``table`` that may be shown: ``wanted`` rows at most, within the policy."""
    total = table.num_rows
    columns = tuple(table.column_names)
    summary = summary and not _nested(table)
    allowed = max(max_rows, SUMMARY_ROWS) if summary else max_rows
    withheld = None
    if total > allowed:
        what = (
            f"{total:,} rows, a summary of more groups"
            if summary
            else f"{total:,} rows of row-level output: more"
        )
        withheld = (
            f"the result has {what} than area {area} shows (at most {allowed:,}); "
            "it stays in the area"
        )
        wanted = 0
    part = table.slice(0, max(0, min(wanted, total)))
    # by position, not by name: a result may repeat a column name
    values = [part.column(i).to_pylist() for i in range(part.num_columns)]
    cells = tuple(tuple(_cell(v) for v in row) for row in zip(*values, strict=True))
    return Shown(columns, cells, total, summary, withheld)
