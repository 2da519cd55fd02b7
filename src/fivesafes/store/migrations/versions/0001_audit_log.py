"""audit log: hash-chained events and signed checkpoints; PostgreSQL refuses changes

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PROTECTED = ("audit_log", "audit_checkpoint")

# Append-only in the database itself: even a direct SQL session cannot change or
# remove history without first dropping these triggers (which needs the table owner).
REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION fivesafes_refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'fivesafes: % on % is refused: the audit log is append-only',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit events can only be appended (fivesafes.store.audit_log.append_event)';
END;
$$
"""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("area", sa.String(), nullable=True),
        sa.Column("dataset", sa.String(), nullable=True),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    for column in ("actor", "subject", "area", "action", "at"):
        op.create_index(f"ix_audit_log_{column}", "audit_log", [column])
    op.create_table(
        "audit_checkpoint",
        sa.Column("size", SEQ, primary_key=True, autoincrement=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_checkpoint")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REFUSE_FUNCTION)
        for table in PROTECTED:
            op.execute(
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION fivesafes_refuse_audit_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION fivesafes_refuse_audit_change()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in PROTECTED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS fivesafes_refuse_audit_change()")
    op.drop_table("audit_checkpoint")
    for column in ("actor", "subject", "area", "action", "at"):
        op.drop_index(f"ix_audit_log_{column}", table_name="audit_log")
    op.drop_table("audit_log")
