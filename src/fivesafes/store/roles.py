"""PostgreSQL roles around the audit tables: an owner no one logs in as, an appending application.

Triggers refuse UPDATE, DELETE and TRUNCATE on ``audit_log`` and ``audit_checkpoint``,
but the owner of a table may disable its triggers. So the audit tables belong to
``fivesafes_audit_owner``, a role that cannot log in, and the application's role gets
SELECT and INSERT on them only: it can append and read, never change, remove, or
switch the triggers off. A superuser can still do anything (e.g. ``SET
session_replication_role = replica`` skips triggers): the application must not run
as one, and the signed checkpoints, the verifier's state and the witnesses are what
detect a superuser's rewrite. See docs/audit-log.md ("PostgreSQL roles").
"""

from __future__ import annotations

import re

from sqlalchemy import Connection

AUDIT_OWNER_ROLE = "fivesafes_audit_owner"
AUDIT_TABLES = ("audit_log", "audit_checkpoint")
REFUSE_FUNCTION = "fivesafes_refuse_audit_change()"
# \Z, not $: $ also matches before a final newline, which would let "name\n" through.
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}\Z")

# Two schemas migrating at once may both try to create the role: the loser's error is
# harmless (the role exists), so it is caught inside the block.
_CREATE_OWNER = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{AUDIT_OWNER_ROLE}') THEN
        BEGIN
            CREATE ROLE {AUDIT_OWNER_ROLE} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$
"""


def is_superuser(connection: Connection) -> bool:
    """Whether the connection's role is a PostgreSQL superuser."""
    value = connection.exec_driver_sql(
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
    ).scalar()
    return bool(value)


def secure_audit_tables(connection: Connection) -> None:
    """Give the audit tables (and their trigger function) to the owner role; revoke PUBLIC.

    Needs a superuser (to create the role and hand tables to a role it is not a member
    of). The migration runs it when it can; a DBA runs it otherwise.
    """
    connection.exec_driver_sql(_CREATE_OWNER)
    for table in AUDIT_TABLES:
        connection.exec_driver_sql(f"ALTER TABLE {table} OWNER TO {AUDIT_OWNER_ROLE}")
        connection.exec_driver_sql(f"REVOKE ALL ON {table} FROM PUBLIC")
    connection.exec_driver_sql(f"ALTER FUNCTION {REFUSE_FUNCTION} OWNER TO {AUDIT_OWNER_ROLE}")


def grant_application_role(connection: Connection, role: str) -> None:
    """Let ``role`` run fivesafes in this schema: all tables, but audit tables append-only.

    Run by the schema's owner or a superuser, once, after the migrations (and again after
    a migration that adds tables).
    """
    if not _ROLE_NAME.match(role):
        raise ValueError(f"{role!r} is not a plain PostgreSQL role name (a-z, 0-9, _)")
    if role == AUDIT_OWNER_ROLE:
        raise ValueError(f"the application must not run as {AUDIT_OWNER_ROLE}")
    schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
    connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
    tables = connection.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    ).scalars()
    for table in tables:
        if table in AUDIT_TABLES:
            connection.exec_driver_sql(f'REVOKE ALL ON "{table}" FROM {role}')
            connection.exec_driver_sql(f'GRANT SELECT, INSERT ON "{table}" TO {role}')
        else:
            connection.exec_driver_sql(
                f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO {role}'
            )
    connection.exec_driver_sql(
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}'
    )


def audit_table_owner(connection: Connection) -> str | None:
    """The owner of ``audit_log`` in the current schema."""
    value = connection.exec_driver_sql(
        "SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename = 'audit_log'"
    ).scalar()
    return None if value is None else str(value)
