"""Engines, sessions, transactions and schema migration for SQLite and PostgreSQL.

SQLite: WAL, a long busy timeout, foreign keys on, and every transaction starts
with ``BEGIN IMMEDIATE`` so that a writer holds the write lock before it reads
anything (a deferred transaction that reads and then writes fails at once with
"database is locked" when another process wrote in between). Read-only work
can ask for a deferred transaction with ``engine.execution_options(sqlite_begin="DEFERRED")``.
PostgreSQL: psycopg 3 (``postgresql+psycopg://``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from fivesafes.errors import FivesafesError, WorkspaceError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 60_000
SQLITE_BEGIN_OPTION = "sqlite_begin"


def normalise_url(url: str) -> str:
    """The URL with PostgreSQL pinned to psycopg 3 (the only PostgreSQL driver shipped)."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def backend(engine_or_url: Engine | Connection | str) -> str:
    """ "sqlite" or "postgresql"."""
    if isinstance(engine_or_url, str):
        return make_url(normalise_url(engine_or_url)).get_backend_name()
    return engine_or_url.dialect.name


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite or PostgreSQL) with fivesafes' connection settings."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        raise WorkspaceError(
            f"database URL {url!r} is not a valid SQLAlchemy URL",
            hint="use sqlite:////abs/path/fivesafes.db or "
            "postgresql+psycopg://user@host:5432/dbname",
        ) from None
    name = parsed.get_backend_name()
    if name == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        _SQLITE_WRITERS[engine] = threading.RLock()
        return engine
    if name == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise WorkspaceError(
        f"database backend {name!r} is not supported",
        hint="use SQLite (the default) or PostgreSQL via postgresql+psycopg://",
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); pysqlite's implicit BEGIN is deferred.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        if mode not in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
            raise WorkspaceError(f"unknown SQLite BEGIN mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


def read_only(engine: Engine) -> Engine:
    """The same engine, but SQLite transactions start deferred (for readers only)."""
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})


def session_factory(engine: Engine, **info: Any) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; ``info`` lands in every ``Session.info``."""
    return sessionmaker(bind=engine, expire_on_commit=False, info=dict(info))


# A sessionmaker is costly to build (SQLAlchemy sets up its event classes): one, unbound,
# serves every transaction on a bare engine. (A cache of one bound factory per engine
# kept every engine alive: the factory refers to its own key.)
_UNBOUND: sessionmaker[Session] = sessionmaker(expire_on_commit=False)


# Writers of one SQLite engine queue on a lock of this process before BEGIN IMMEDIATE.
# Without it, a writer that finds SQLite's write lock taken sleeps in the busy handler
# (1, 2, 5, 10... ms) however soon the lock is freed, which caps a busy server's writes
# per second; on this lock the next writer starts as soon as the last one committed.
# Other processes still meet SQLite's own lock and busy timeout. Reentrant, and waited
# on no longer than that timeout: then BEGIN waits on SQLite as before, never a deadlock.
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


@contextmanager
def _queued(engine_or_factory: Engine | sessionmaker[Session]) -> Iterator[None]:
    bind = (
        engine_or_factory.kw.get("bind")
        if isinstance(engine_or_factory, sessionmaker)
        else engine_or_factory
    )
    writers = _SQLITE_WRITERS.get(bind) if isinstance(bind, Engine) else None
    if writers is None or not writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        yield
        return
    try:
        yield
    finally:
        writers.release()


@contextmanager
def _begin(engine_or_factory: Engine | sessionmaker[Session]) -> Iterator[Session]:
    with _queued(engine_or_factory), _begin_now(engine_or_factory) as session:
        yield session


@contextmanager
def _begin_now(engine_or_factory: Engine | sessionmaker[Session]) -> Iterator[Session]:
    if isinstance(engine_or_factory, sessionmaker):
        with engine_or_factory.begin() as session:
            yield session
        return
    with _UNBOUND(bind=engine_or_factory) as session, session.begin():
        yield session


@contextmanager
def transaction(engine_or_factory: Engine | sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends, roll back if it raises.

    A FivesafesError may carry writes that must survive its rollback (``after_rollback``,
    e.g. the audit event of a refusal): they commit in a transaction of their own.
    """
    try:
        with _begin(engine_or_factory) as session:
            yield session
    except FivesafesError as exc:
        pending, exc.after_rollback = exc.after_rollback, []
        if pending:
            try:
                with _begin(engine_or_factory) as session:
                    for write in pending:
                        write(session)
            except Exception as failed:
                exc.add_note(f"its record could not be written: {failed}")
        raise


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def script_heads() -> set[str]:
    """The revision ids of every head migration shipped with this fivesafes."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return set(ScriptDirectory.from_config(config).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (empty for a new database)."""
    from alembic.runtime.migration import MigrationContext

    with read_only(engine).connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def migrate(engine: Engine) -> None:
    """Upgrade the database to every head migration (idempotent, safe to run concurrently)."""
    from alembic import command

    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Two processes migrating at once would both try to CREATE TABLE.
                connection.exec_driver_sql(
                    "SELECT pg_advisory_xact_lock("
                    "hashtext(current_schema() || ':fivesafes-migrate'))"
                )
            command.upgrade(_alembic_config(connection), "heads")
    except OperationalError as exc:
        raise WorkspaceError(
            f"cannot reach or update the database: {exc.orig}",
            hint="check FIVESAFES_DATABASE_URL / database_url in config.toml and that the "
            "server is running",
        ) from None


def ensure_schema(engine: Engine) -> None:
    """Migrate if the database is behind the migrations shipped with this version."""
    try:
        current = current_revisions(engine)
    except OperationalError as exc:
        raise WorkspaceError(
            f"cannot reach the database: {exc.orig}",
            hint="check FIVESAFES_DATABASE_URL / database_url in config.toml and that the "
            "server is running",
        ) from None
    heads = script_heads()
    if current == heads:
        return
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    scripts = ScriptDirectory.from_config(config)
    unknown = sorted(r for r in current if r not in {s.revision for s in scripts.walk_revisions()})
    if unknown:
        raise WorkspaceError(
            f"the database is at schema revision(s) {', '.join(unknown)}, which this version "
            "of fivesafes does not know",
            hint="upgrade fivesafes to the version that last wrote this database",
        )
    migrate(engine)


def table_names(engine: Engine) -> set[str]:
    """Names of the tables in the database (for tests and diagnostics)."""
    return set(inspect(engine).get_table_names())
