"""Engines, transactions and migrations on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

import fivesafes.store.models  # noqa: F401  (every model on Base.metadata)
from fivesafes.errors import WorkspaceError
from fivesafes.store.base import Base
from fivesafes.store.db import (
    current_revisions,
    ensure_schema,
    make_engine,
    migrate,
    normalise_url,
    script_heads,
    table_names,
    transaction,
)


def test_migrate_reaches_every_head_and_is_idempotent(engine: Engine) -> None:
    assert current_revisions(engine) == script_heads()
    assert {"audit_log", "audit_checkpoint"} <= table_names(engine)
    migrate(engine)  # a second run changes nothing and does not fail
    ensure_schema(engine)
    assert current_revisions(engine) == script_heads()


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_transaction_commits_on_success_and_rolls_back_on_error(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE scratch (n INTEGER)"))
    with transaction(engine) as session:
        session.execute(text("INSERT INTO scratch VALUES (1)"))
    with pytest.raises(RuntimeError), transaction(engine) as session:
        session.execute(text("INSERT INTO scratch VALUES (2)"))
        raise RuntimeError("boom")
    with engine.connect() as connection:
        assert [r[0] for r in connection.execute(text("SELECT n FROM scratch"))] == [1]


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
    finally:
        engine.dispose()


def test_sqlite_writer_takes_the_write_lock_at_begin(tmp_path: Path) -> None:
    # A second writer must wait for the lock at BEGIN, before reading anything.
    url = f"sqlite:///{tmp_path / 'x.db'}"
    first, second = make_engine(url), make_engine(url)
    try:
        with first.begin() as c:
            c.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        with first.begin() as holder:
            holder.exec_driver_sql("SELECT 1")
            raw = second.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA busy_timeout = 0")
                with pytest.raises(Exception, match="locked"):
                    raw.driver_connection.execute("BEGIN IMMEDIATE")
            finally:
                raw.close()
    finally:
        first.dispose()
        second.dispose()


def test_normalise_url_pins_psycopg() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(WorkspaceError) as info:
        make_engine(url)
    assert info.value.hint


def test_unreachable_database_is_a_workspace_error() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        with pytest.raises(WorkspaceError, match="cannot reach"):
            ensure_schema(engine)
    finally:
        engine.dispose()


def test_a_database_from_a_newer_fivesafes_is_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO alembic_version (version_num) VALUES ('from_the_future')"
        )
    with pytest.raises(WorkspaceError, match="from_the_future") as info:
        ensure_schema(engine)
    assert "upgrade fivesafes" in str(info.value.hint)


def test_read_only_transactions_do_not_take_the_write_lock(tmp_path: Path) -> None:
    from fivesafes.store.db import read_only

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.begin() as c:
            c.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        with read_only(engine).begin() as reader:
            reader.exec_driver_sql("SELECT count(*) FROM t").scalar()
            raw = engine.raw_connection()  # a writer is not blocked by the reader (WAL)
            try:
                raw.driver_connection.execute("PRAGMA busy_timeout = 0")
                raw.driver_connection.execute("BEGIN IMMEDIATE")
                raw.driver_connection.execute("INSERT INTO t VALUES (1)")
                raw.driver_connection.execute("COMMIT")
            finally:
                raw.close()
    finally:
        engine.dispose()


def test_sqlite_writers_of_one_process_queue_on_a_lock_held_until_commit(tmp_path: Path) -> None:
    # Another thread's writer waits on the process's lock (woken at our commit), not in
    # SQLite's sleeping busy handler; the same thread may nest without a deadlock of ours.
    import threading

    from fivesafes.store.db import _SQLITE_WRITERS

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    writers = _SQLITE_WRITERS[engine]
    seen: list[bool] = []

    def other_thread_may_write() -> None:
        got = writers.acquire(blocking=False)
        seen.append(got)
        if got:
            writers.release()

    try:
        with transaction(engine) as session:
            session.execute(text("CREATE TABLE t (n INTEGER)"))
            probe = threading.Thread(target=other_thread_may_write)
            probe.start()
            probe.join()
            assert writers.acquire(blocking=False)  # reentrant for this thread
            writers.release()
        probe = threading.Thread(target=other_thread_may_write)
        probe.start()
        probe.join()
        assert seen == [False, True]
        with transaction(engine.execution_options(sqlite_begin="DEFERRED")) as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
    finally:
        engine.dispose()
