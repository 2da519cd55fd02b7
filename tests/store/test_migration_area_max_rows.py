"""Migration 0012 on a register that already has an area and a dataset (both databases):
existing areas show no rows (0), and the column comes and goes in place."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from fivesafes.store.db import _alembic_config, current_revisions, make_engine, script_heads

BEFORE = "0011_server"


def test_upgrade_gives_existing_areas_no_rows_to_show(db_url: str) -> None:
    engine: Engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), BEFORE)
            conn.execute(
                text(
                    "INSERT INTO people (id, login, name, status, registered_at) "
                    "VALUES (1, 'iris', 'Iris', 'active', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO areas (id, name, owner_id, description, created_at) "
                    "VALUES (1, 'earnings', 1, '', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO datasets (id, name, area_id, identifiable, not_public, harmful, "
                    "source, lawful_basis, registered_at, registered_by) "
                    "VALUES (1, 'ashe', 1, true, true, true, 's', 'b', CURRENT_TIMESTAMP, 'iris')"
                )
            )
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "heads")
        assert current_revisions(engine) == script_heads()
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT name, max_rows FROM areas")).all()
        assert [tuple(r) for r in rows] == [("earnings", 0)]
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), BEFORE)
            names = conn.execute(text("SELECT name FROM areas")).scalars().all()
        assert names == ["earnings"]
    finally:
        engine.dispose()
