"""Vault register: encrypted datasets and analysis outputs of restricted areas.

Revision ID: 0004
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the vault_objects table."""
    op.create_table(
        "vault_objects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("datasets.id"), nullable=True),
        sa.Column("object_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("columns_json", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("source_bytes", sa.BigInteger(), nullable=False),
        sa.Column("source_format", sa.String(16), nullable=False),
        sa.Column("ingested_by", sa.String(64), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(80), nullable=False),
        sa.Column("ciphertext_bytes", sa.BigInteger(), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroyed_by", sa.String(64), nullable=True),
        sa.Column("destroy_reason", sa.Text(), nullable=True),
        sa.UniqueConstraint("object_id", name="uq_vault_objects_object_id"),
    )
    op.create_index("ix_vault_objects_area_id", "vault_objects", ["area_id"])


def downgrade() -> None:
    """Drop the vault_objects table (the encrypted files stay where they are)."""
    op.drop_index("ix_vault_objects_area_id", table_name="vault_objects")
    op.drop_table("vault_objects")
