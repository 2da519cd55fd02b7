"""Project-wide fixtures: databases (SQLite and PostgreSQL), engines, sessions, workspaces.

- ``db_url``: parametrised over "sqlite" (a file in tmp_path) and "postgresql"
  (a fresh schema in the server's ``test`` database, dropped afterwards; the
  test skips with the URL tried when no server answers). PostgreSQL cases carry
  the ``postgres`` marker. Override the server with FIVESAFES_TEST_PG_URL.
- ``pg_url``: the same PostgreSQL-only (for tests of PostgreSQL behaviour).
- ``engine`` (migrated), ``session`` (rolled back at the end).
- ``workspace``: a created SQLite workspace in tmp_path with demo_identity=True,
  FIVESAFES_HOME pointing at it. ``db_workspace``: the same on each ``db_url``.

Every test starts without FIVESAFES_HOME, FIVESAFES_DATABASE_URL or FIVESAFES_USER.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from fivesafes.store.db import make_engine, migrate, session_factory
from fivesafes.workspace import Workspace, create_workspace

PG_URL_ENV = "FIVESAFES_TEST_PG_URL"
PG_CANDIDATES = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)
_pg_server: dict[str, str | None] = {}


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _find_pg_server() -> str:
    """The first PostgreSQL URL that answers (cached per process), else skip."""
    if "url" not in _pg_server:
        override = os.environ.get(PG_URL_ENV, "").strip()
        candidates = (override,) if override else PG_CANDIDATES
        _pg_server["url"] = None
        errors = []
        for url in candidates:
            try:
                with psycopg.connect(_libpq(url), connect_timeout=3):
                    _pg_server["url"] = url
                    break
            except psycopg.Error as exc:
                errors.append(f"{url}: {str(exc).strip().splitlines()[0]}")
        _pg_server["reason"] = "no PostgreSQL server answered: " + "; ".join(errors)
    url = _pg_server["url"]
    if url is None:
        pytest.skip(str(_pg_server["reason"]) + f" (set {PG_URL_ENV} to use another)")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    server = _find_pg_server()
    schema = f"fs_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(server).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(server), autocommit=True) as admin:
            # A connection a test left open (idle in transaction) would block the DROP.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (schema,),
            )
            admin.execute("SET lock_timeout = '20s'")
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty, isolated database: SQLite in tmp_path, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on ``db_url``."""
    eng = make_engine(db_url)
    migrate(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; whatever is not committed is rolled back."""
    with session_factory(engine)() as sess:
        yield sess


@pytest.fixture(autouse=True)
def _clean_fivesafes_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FIVESAFES_HOME", "FIVESAFES_DATABASE_URL", "FIVESAFES_USER"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A new SQLite workspace with demo identity; FIVESAFES_HOME points at it."""
    ws = create_workspace(tmp_path / "workspace", demo_identity=True)
    monkeypatch.setenv("FIVESAFES_HOME", str(ws.home))
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def db_workspace(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    """A new demo-identity workspace on each of SQLite and PostgreSQL."""
    ws = create_workspace(tmp_path / "workspace", demo_identity=True, database_url=db_url)
    monkeypatch.setenv("FIVESAFES_HOME", str(ws.home))
    try:
        yield ws
    finally:
        ws.close()
