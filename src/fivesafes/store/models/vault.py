"""The vault register: every encrypted object of a restricted area (migration 0004).

One row per stored dataset or analysis output: where it came from (provenance), its
schema and row count, which area key wraps its data key, and, once destroyed, when,
by whom and why. The wrapped data key itself stays with the ciphertext in the area
store, outside the database; after destruction the row keeps the facts, not the data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fivesafes.store.base import Base
from fivesafes.store.models.governance import AreaRow, DatasetRow


class VaultObjectRow(Base):
    """One encrypted object (kind 'dataset' or 'output') of an area; state 'stored'/'destroyed'."""

    __tablename__ = "vault_objects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id"), nullable=True)
    object_id: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(BigInteger)
    columns_json: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_bytes: Mapped[int] = mapped_column(BigInteger)
    source_format: Mapped[str] = mapped_column(String(16))
    ingested_by: Mapped[str] = mapped_column(String(64))
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    key_id: Mapped[str] = mapped_column(String(80))
    ciphertext_bytes: Mapped[int] = mapped_column(BigInteger)
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    destroyed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    destroy_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    area: Mapped[AreaRow] = relationship(lazy="joined")
    dataset: Mapped[DatasetRow | None] = relationship(lazy="joined")
