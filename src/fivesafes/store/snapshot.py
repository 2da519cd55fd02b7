"""Copy a whole fivesafes database: an SQLite snapshot file from either backend, and back.

A backup always carries the database as one SQLite file at the same schema revision, so
that a restore can verify it (audit chain, checkpoints, register) before anything is
made live, whatever the source or target backend. SQLite sources use SQLite's online
backup (a consistent snapshot while others write); PostgreSQL sources are read in one
REPEATABLE READ transaction (a consistent snapshot too) and copied row by row through
SQLAlchemy. Date-times are copied as UTC: SQLite keeps no time zone, PostgreSQL would
read a naive value in its session's zone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, Table, delete, func, insert, select, text

from fivesafes.errors import WorkspaceError
from fivesafes.store.base import Base

BATCH_ROWS = 1_000
# The log itself: never cleared (a migration seeds no event; PostgreSQL refuses DELETE).
AUDIT_TABLES = frozenset({"audit_log", "audit_checkpoint"})


def _tables() -> list[Table]:
    import fivesafes.store.models  # noqa: F401 - registers every table on Base.metadata

    return list(Base.metadata.sorted_tables)


def sqlite_snapshot(source_path: Path, target: Path) -> None:
    """Write a consistent copy of the SQLite database at ``source_path`` to ``target``."""
    src = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=60)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _utc(value: Any) -> Any:
    if not isinstance(value, datetime):
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rows(connection: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    stamps = [c.name for c in table.columns if isinstance(c.type, DateTime)]
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(yield_per=BATCH_ROWS).execute(
        select(table).order_by(*order)
    )
    for part in result.mappings().partitions(BATCH_ROWS):
        batch = []
        for row in part:
            values: dict[str, Any] = dict(row)
            for name in stamps:
                values[name] = _utc(values[name])
            batch.append(values)
        yield batch


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """PostgreSQL: every serial/identity column continues after the copied rows."""
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        connection.execute(
            text(
                f'SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE(MAX("{column.name}"), '
                f'0) + 1, false) FROM "{table.name}"'
            ),
            {"t": table.name, "c": column.name},
        )


def copy_rows(source: Engine, target: Engine) -> Mapping[str, int]:
    """Copy every fivesafes table of ``source`` into migrated, log-empty ``target``.

    Rows a migration seeded in ``target`` are replaced by ``source``'s. Returns rows
    copied per table. Refuses a target whose audit log is not empty (another workspace's).
    """
    tables = _tables()
    counts: dict[str, int] = {}
    read = source.execution_options(sqlite_begin="DEFERRED")
    if source.dialect.name == "postgresql":
        read = read.execution_options(isolation_level="REPEATABLE READ")
    with read.connect() as src, target.begin() as dst:
        if dst.execute(
            select(func.count()).select_from(Base.metadata.tables["audit_log"])
        ).scalar():
            raise WorkspaceError(
                f"the target database {target.url.render_as_string(hide_password=True)} "
                "already holds an audit log",
                hint="restore into an empty database (or a new PostgreSQL schema)",
            )
        for table in reversed(tables):
            if table.name not in AUDIT_TABLES:
                dst.execute(delete(table))
        for table in tables:
            counts[table.name] = 0
            for batch in _rows(src, table):
                dst.execute(insert(table), batch)
                counts[table.name] += len(batch)
        if dst.dialect.name == "postgresql":
            _reset_sequences(dst, tables)
    return counts


__all__ = ["AUDIT_TABLES", "copy_rows", "sqlite_snapshot"]
