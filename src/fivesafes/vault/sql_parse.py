"""Classify submitted SQL before anything is decided or read: DuckDB's own parser, nothing more.

Asking DuckDB which tables a query reads (``get_table_names``) *binds* it, and binding
does work: ``read_csv('/etc/passwd')`` sniffs the file, an ``https://`` path installs an
extension (a download, a new ``~/.duckdb`` folder). Here the query text is only a string
value handed to ``json_serialize_sql`` and ``extract_statements`` on a connection that has
no file access, no extension loading or installing, and a locked configuration: the
parse tree says which tables and table functions the query names, and the access
decision is taken on that, before the query meets any data.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from fivesafes.engine.memory import LOCKED_CONFIG
from fivesafes.errors import ValidationError

# The only table functions an area query may call: they make rows, they read nothing.
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})


@dataclass(frozen=True)
class ParsedQuery:
    """What one SELECT names: plain table names, its CTE names, and what it may not touch."""

    tables: frozenset[str]
    ctes: frozenset[str]
    forbidden: tuple[str, ...]  # table functions and qualified names, as written

    def outside(self) -> frozenset[str]:
        """Table names that are not the query's own CTEs."""
        return self.tables - self.ctes


def parser_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can parse and nothing else that reaches outside."""
    return duckdb.connect(":memory:", config=dict(LOCKED_CONFIG))


def _refuse_statement() -> ValidationError:
    return ValidationError(
        "only one SELECT statement may run over an area's data",
        hint="write a single SELECT (WITH ... SELECT is fine); nothing else is allowed",
    )


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _classify(tree: Any) -> ParsedQuery:
    tables: set[str] = set()
    ctes: set[str] = set()
    forbidden: list[str] = []
    for node in _nodes(tree):
        kind = node.get("type")
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            ctes.update(str(e.get("key")) for e in cte_map.get("map", []) if isinstance(e, dict))
        if kind == "BASE_TABLE":
            name = str(node.get("table_name", ""))
            qualifiers = [str(node.get(k) or "") for k in ("catalog_name", "schema_name")]
            if any(qualifiers):
                forbidden.append(".".join([*(q for q in qualifiers if q), name]))
            else:
                tables.add(name)
        elif kind == "TABLE_FUNCTION":
            function = node.get("function")
            name = str(function.get("function_name", "")) if isinstance(function, dict) else ""
            if name.lower() not in ALLOWED_TABLE_FUNCTIONS:
                forbidden.append(f"{name or '?'}(...)")
        elif kind == "SHOW_REF" and node.get("table_name"):
            forbidden.append(f"SHOW {node.get('table_name')}")
    return ParsedQuery(frozenset(tables), frozenset(ctes), tuple(sorted(set(forbidden))))


def parse_tree(sql: str) -> dict[str, Any]:
    """The parse tree of ``sql`` as exactly one SELECT; ValidationError if it is anything else."""
    # a fresh dict each call: callers may not share (or spoil) a cached one
    tree: dict[str, Any] = json.loads(_serialized(sql))
    return tree


@functools.lru_cache(maxsize=64)
def _serialized(sql: str) -> str:
    """The JSON of the one SELECT ``sql`` is (a query is classified twice: tables, then
    what it may show; the parse, on a new locked connection, is done once)."""
    if not sql.strip():
        raise ValidationError("empty SQL", hint='pass a query, e.g. "SELECT count(*) FROM survey"')
    con = parser_connection()
    try:
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValidationError(
                f"the query does not parse: {first}", hint="fix the SQL"
            ) from None
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise _refuse_statement()
        row = con.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchone()
    finally:
        con.close()
    tree: dict[str, Any] = json.loads(row[0]) if row else {"error": True}
    statements_json = tree.get("statements")
    if tree.get("error") or not isinstance(statements_json, list) or len(statements_json) != 1:
        # A SELECT the serialiser does not know (e.g. PIVOT as a statement): fail closed.
        raise _refuse_statement()
    return json.dumps(statements_json[0])


def parse_select(sql: str) -> ParsedQuery:
    """Parse ``sql`` as exactly one SELECT; ValidationError if it is anything else."""
    return _classify(parse_tree(sql))
