"""Migration 0007 on a register that already has areas, datasets and grants (both databases).

On SQLite, Alembic's batch mode would copy and drop `areas`, which the foreign keys of
datasets refuse once rows exist: the column must be added in place.
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from fivesafes.store.db import _alembic_config, current_revisions, make_engine, script_heads

BEFORE = "0006_output_provenance"


def test_upgrade_keeps_existing_areas_and_they_state_thresholds(db_url: str) -> None:
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
            # a dataset that refers to the area: what a table copy-and-drop would trip on
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
            rows = conn.execute(text("SELECT name, withhold_thresholds FROM areas")).all()
        assert [(name, bool(flag)) for name, flag in rows] == [("earnings", False)]
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), BEFORE)
            names = conn.execute(text("SELECT name FROM areas")).scalars().all()
        assert names == ["earnings"]
    finally:
        engine.dispose()
