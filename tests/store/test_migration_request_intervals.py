"""Migration 0014 on a register that already holds a submitted version and its review (both
databases): the two sealed-interval columns are added empty, in place, and dropped again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect, text

from fivesafes.store.db import _alembic_config, current_revisions, make_engine, script_heads

BEFORE = "0013_dataset_family"
COLUMNS = {"sealed_intervals", "intervals_wrapped_key_json"}


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("release_request_versions")}


def test_upgrade_keeps_versions_and_reviews_and_adds_empty_interval_columns(db_url: str) -> None:
    engine: Engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), BEFORE)
            for sql in (
                "INSERT INTO people (id, login, name, status, registered_at) "
                "VALUES (1, 'ada', 'Ada', 'active', CURRENT_TIMESTAMP)",
                "INSERT INTO areas (id, name, owner_id, description, created_at) "
                "VALUES (1, 'earnings', 1, '', CURRENT_TIMESTAMP)",
                "INSERT INTO release_requests (id, title, kind, area_id, author_id, source, "
                "state, current_version, created_at, updated_at) VALUES (1, 't', 'table', 1, 1, "
                "'ashe:pay', 'submitted', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO release_request_versions (id, request_id, version, files_json, "
                "context_json, sealed, wrapped_key_json, submitted_by, submitted_at) VALUES "
                "(1, 1, 1, '{}', '{}', :blob, '{}', 'ada', CURRENT_TIMESTAMP)",
                # a row that refers to the version: what a table copy-and-drop would trip on
                "INSERT INTO release_reviews (id, version_id, reviewer_id, vote, comment, "
                "reviewed_at) VALUES (1, 1, 1, 'approve', '', CURRENT_TIMESTAMP)",
            ):
                conn.execute(text(sql), {"blob": b"sealed"} if ":blob" in sql else {})
        assert not COLUMNS & _columns(engine)
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "heads")
        assert current_revisions(engine) == script_heads()
        assert _columns(engine) >= COLUMNS
        with engine.begin() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, sealed_intervals, intervals_wrapped_key_json "
                    "FROM release_request_versions"
                )
            ).all()
        assert [tuple(r) for r in rows] == [(1, None, None)]
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), BEFORE)
            reviews = conn.execute(text("SELECT id FROM release_reviews")).scalars().all()
        assert reviews == [1] and not COLUMNS & _columns(engine)
    finally:
        engine.dispose()
