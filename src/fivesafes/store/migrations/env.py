"""Alembic environment: runs on the connection fivesafes passes in (no alembic.ini)."""

from __future__ import annotations

from alembic import context

import fivesafes.store.models  # noqa: F401  (registers every model on Base.metadata)
from fivesafes.store.base import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    raise RuntimeError(
        "run migrations through fivesafes (fivesafes.store.db.migrate), not the alembic CLI"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
