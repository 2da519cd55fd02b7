"""Migration 0002 creates exactly what the governance models declare, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from fivesafes.store.base import Base
from fivesafes.store.models import governance

TABLES = {
    cls.__tablename__
    for cls in vars(governance).values()
    if isinstance(cls, type) and issubclass(cls, Base) and cls is not Base
}


def test_migration_matches_the_models(engine: Engine) -> None:
    assert "people" in TABLES and "grants" in TABLES
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)

    def table_of(entry: object) -> str | None:
        item = entry[0] if isinstance(entry, list) else entry
        for part in item[1:] if isinstance(item, tuple) else ():  # type: ignore[index]
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if table is not None and getattr(table, "name", None):
                return str(table.name)
            if isinstance(part, str) and part in TABLES:
                return part
            if name in TABLES:
                return str(name)
        return None

    ours = [d for d in diff if table_of(d) in TABLES]
    assert ours == []
