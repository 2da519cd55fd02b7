"""On a real PostgreSQL: the application's role can append to the audit log, never change it.

Reproduces issue 14's finding: the role that owns the audit tables can switch their
append-only triggers off. After the migration the tables belong to
fivesafes_audit_owner (NOLOGIN) and the application's role holds SELECT and INSERT only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from fivesafes.audit.events import AuditEvent
from fivesafes.audit.log import append_event, verify_chain
from fivesafes.services.audit_log import verify_log
from fivesafes.store.db import make_engine, migrate, transaction
from fivesafes.store.roles import AUDIT_OWNER_ROLE, audit_table_owner, grant_application_role
from fivesafes.workspace import create_workspace

pytestmark = pytest.mark.postgres


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def app_engine(pg_url: str) -> Iterator[tuple[Engine, Engine]]:
    """(owner engine, application engine) on one migrated schema; the app role is no superuser."""
    owner = make_engine(pg_url)
    migrate(owner)
    role = f"fs_app_{uuid.uuid4().hex[:10]}"
    with owner.begin() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEROLE")
        grant_application_role(connection, role)
    app = make_engine(make_url(pg_url).set(username=role).render_as_string(hide_password=False))
    try:
        yield owner, app
    finally:
        app.dispose()
        owner.dispose()
        with psycopg.connect(_libpq(pg_url), autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


def test_the_migration_hands_the_audit_tables_to_the_owner_role(
    app_engine: tuple[Engine, Engine],
) -> None:
    owner, _app = app_engine
    with owner.connect() as connection:
        assert audit_table_owner(connection) == AUDIT_OWNER_ROLE
        can_login = connection.execute(
            text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :r"), {"r": AUDIT_OWNER_ROLE}
        ).scalar()
    assert can_login is False


def test_the_application_role_appends_and_reads(app_engine: tuple[Engine, Engine]) -> None:
    _owner, app = app_engine
    for i in range(3):
        with transaction(app) as session:
            append_event(session, AuditEvent("test.step", actor="alice", details={"i": i}))
    report = verify_chain(app)
    assert report.ok and report.events == 3


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("ALTER TABLE audit_log DISABLE TRIGGER USER", "must be owner"),
        ("ALTER TABLE audit_checkpoint DISABLE TRIGGER ALL", "must be owner"),
        ("DELETE FROM audit_log WHERE seq > 1", "permission denied"),
        ("DELETE FROM audit_checkpoint", "permission denied"),
        ("UPDATE audit_log SET actor = 'mallory'", "permission denied"),
        ("TRUNCATE audit_log", "permission denied"),
        ("DROP TABLE audit_log", "must be owner"),
        ("ALTER TABLE audit_log OWNER TO CURRENT_USER", "must be owner"),
        ("DROP FUNCTION fivesafes_refuse_audit_change() CASCADE", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
    ],
)
def test_the_application_role_cannot_change_delete_or_unprotect(
    app_engine: tuple[Engine, Engine], statement: str, error: str
) -> None:
    _owner, app = app_engine
    with transaction(app) as session:
        append_event(session, AuditEvent("test.step", actor="alice"))
    with pytest.raises(ProgrammingError, match=error), app.begin() as connection:
        connection.exec_driver_sql(statement)
    with app.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM audit_log").scalar() == 1


def test_verify_warns_when_the_application_runs_as_a_superuser(pg_url: str, tmp_path: Path) -> None:
    ws = create_workspace(tmp_path / "ws", demo_identity=True, database_url=pg_url)
    try:
        report = verify_log(ws)  # the test server's role is a superuser
        assert report.ok
        assert any("superuser" in w for w in report.warnings)
    finally:
        ws.close()
