"""Migration 0016 on registers holding a login registered before logins were anchored with
\\Z (``alice\\n``), both databases: the login and the register columns naming her lose the
whitespace; a login that would then collide with another refuses the upgrade, naming both
rows, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text

from fivesafes.errors import WorkspaceError
from fivesafes.store.db import _alembic_config, current_revisions, make_engine, script_heads

BEFORE = "0015_figure_hierarchies"


@pytest.fixture
def old(db_url: str) -> Iterator[Engine]:
    """A register at 0015 (and the research and vault branches) where 'alice\\n' (person 2)
    recorded her own training and proposed a project iris decided; 'bob' (person 3) is
    clean."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for branch in (BEFORE, "0003", "0004"):  # the research and vault branches too
                command.upgrade(_alembic_config(conn), branch)
            _person(conn, 1, "iris")
            _person(conn, 2, "alice\n")
            _person(conn, 3, "bob")
            conn.execute(
                text(
                    "INSERT INTO courses (id, name, validity_months, mandatory) "
                    "VALUES (99, 'local induction', 12, false)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO training_completions (id, person_id, course_id, completed_on, "
                    "expires_on, evidence, recorded_by, recorded_at) VALUES (1, 2, 99, "
                    "'2026-01-01', '2027-01-01', 'c', :by, CURRENT_TIMESTAMP)"
                ),
                {"by": "alice\n"},
            )
            conn.execute(
                text(
                    "INSERT INTO projects (id, reference, title, purpose, purpose_category, "
                    "public_benefit, start_on, end_on, status, lead_id, proposed_by, "
                    "proposed_at, decided_by) VALUES (1, 'P-1', 't', 'p', 'statistical', 'b', "
                    "'2026-01-01', '2027-01-01', 'approved', 2, :by, CURRENT_TIMESTAMP, 'iris')"
                ),
                {"by": "alice\n"},
            )
        yield engine
    finally:
        engine.dispose()


def _person(conn: Connection, pid: int, login: str) -> None:
    conn.execute(
        text(
            "INSERT INTO people (id, login, name, status, registered_at) "
            "VALUES (:id, :login, 'P', 'active', CURRENT_TIMESTAMP)"
        ),
        {"id": pid, "login": login},
    )


def _logins(engine: Engine) -> list[str]:
    with engine.begin() as conn:
        return list(conn.execute(text("SELECT login FROM people ORDER BY id")).scalars())


def test_a_login_with_trailing_whitespace_and_the_rows_naming_it_are_normalised(
    old: Engine,
) -> None:
    with old.begin() as conn:
        command.upgrade(_alembic_config(conn), "heads")
    assert current_revisions(old) == script_heads()
    assert _logins(old) == ["iris", "alice", "bob"]
    with old.begin() as conn:
        by = conn.execute(text("SELECT recorded_by FROM training_completions")).scalar()
        project = conn.execute(text("SELECT proposed_by, decided_by FROM projects")).one()
    assert by == "alice"  # her own training is still seen as recorded by herself
    assert tuple(project) == ("alice", "iris")


def test_a_login_that_would_collide_refuses_the_upgrade_naming_both_rows(old: Engine) -> None:
    with old.begin() as conn:
        _person(conn, 4, "alice")
        _person(conn, 5, "carol \t")
    with pytest.raises(WorkspaceError) as refused, old.begin() as conn:
        command.upgrade(_alembic_config(conn), "heads")
    message = str(refused.value)
    assert "person 2 with login 'alice\\n'" in message and "person 4 with login 'alice'" in message
    assert "UPDATE people SET login" in (refused.value.hint or "")
    # nothing changed: still at 0015, every login as it was
    assert current_revisions(old) == {BEFORE, "0003", "0004"}
    assert _logins(old) == ["iris", "alice\n", "bob", "alice", "carol \t"]
    # resolved as the hint says, the upgrade goes through
    with old.begin() as conn:
        conn.execute(text("UPDATE people SET login = 'alice-old' WHERE id = 4"))
    with old.begin() as conn:
        command.upgrade(_alembic_config(conn), "heads")
    assert _logins(old) == ["iris", "alice", "bob", "alice-old", "carol"]


def test_a_login_that_would_differ_only_in_case_also_refuses_the_upgrade(old: Engine) -> None:
    # registration never lets 'Bob' and 'bob' be two people: neither may the migration
    with old.begin() as conn:
        _person(conn, 4, "Bob\n")
    with (
        pytest.raises(WorkspaceError, match="person 3 with login 'bob' and person 4"),
        old.begin() as conn,
    ):
        command.upgrade(_alembic_config(conn), "heads")
    assert _logins(old) == ["iris", "alice\n", "bob", "Bob\n"]
