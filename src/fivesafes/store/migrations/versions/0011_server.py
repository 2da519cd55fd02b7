"""The server's sign-in: local password hashes and bearer-token hashes.

Revision ID: 0011_server
Revises: 0010_audit_owner_role
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_server"
down_revision = "0010_audit_owner_role"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create server_passwords and server_tokens."""
    op.create_table(
        "server_passwords",
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "server_tokens",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_server_tokens_person_id", "server_tokens", ["person_id"])
    op.create_index("ix_server_tokens_expires_at", "server_tokens", ["expires_at"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("server_tokens")
    op.drop_table("server_passwords")
