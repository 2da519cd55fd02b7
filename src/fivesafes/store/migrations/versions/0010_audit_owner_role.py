"""audit tables owned by fivesafes_audit_owner (PostgreSQL): the application can only append

Revision ID: 0010_audit_owner_role
Revises: 0009_requests

The owner of a table can disable its triggers, so the append-only triggers of
0001 protect nothing against the role that owns the tables. When the migration
runs as a superuser it gives the audit tables and their trigger function to the
role ``fivesafes_audit_owner`` (NOLOGIN) and revokes PUBLIC's rights; the
application's role then gets SELECT and INSERT only
(``fivesafes.store.roles.grant_application_role``). Run by a non-superuser it
changes nothing and says so: a DBA runs ``secure_audit_tables`` (docs/audit-log.md).
"""

from __future__ import annotations

import logging

from alembic import op

from fivesafes.store.roles import AUDIT_TABLES, REFUSE_FUNCTION, is_superuser, secure_audit_tables

revision = "0010_audit_owner_role"
down_revision = "0009_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """On PostgreSQL as a superuser: hand the audit tables to the owner role."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if not is_superuser(bind):
        logging.getLogger("fivesafes.store").warning(
            "the audit tables stay owned by %s, who can disable their append-only triggers: "
            "have a DBA run fivesafes.store.roles.secure_audit_tables (docs/audit-log.md)",
            bind.exec_driver_sql("SELECT current_user").scalar(),
        )
        return
    secure_audit_tables(bind)


def downgrade() -> None:
    """Give the audit tables back to the migrating role."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not is_superuser(bind):
        return
    for table in AUDIT_TABLES:
        op.execute(f"ALTER TABLE {table} OWNER TO current_user")
    op.execute(f"ALTER FUNCTION {REFUSE_FUNCTION} OWNER TO current_user")
