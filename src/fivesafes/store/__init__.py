"""Storage: SQLAlchemy 2 tables (``models``), engines and sessions (``db``), and the
Alembic migrations. The lowest layer: it imports nothing of fivesafes but ``errors``.
See docs/architecture.md.
"""
