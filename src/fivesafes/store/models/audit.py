"""The audit log tables: the hash-chained events and their signed checkpoints."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fivesafes.store.base import Base

# INTEGER PRIMARY KEY is SQLite's rowid (fast); PostgreSQL gets a 64-bit column.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class AuditRecord(Base):
    """One stored audit event with its place in the chain. Never updated or deleted."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    # Kept as the canonical UTC ISO text that was hashed: a DateTime column would
    # round-trip differently on SQLite and PostgreSQL. Fixed width, so it sorts.
    at_text: Mapped[str] = mapped_column("at", String(32))
    action: Mapped[str] = mapped_column(String)
    actor: Mapped[str] = mapped_column(String)
    outcome: Mapped[str] = mapped_column(String(16))
    area: Mapped[str | None] = mapped_column(String)
    dataset: Mapped[str | None] = mapped_column(String)
    subject: Mapped[str | None] = mapped_column(String)
    # Canonical JSON text, hashed byte for byte (a JSON/JSONB column would reformat it).
    details_text: Mapped[str] = mapped_column("details", Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_log_actor", "actor"),
        Index("ix_audit_log_subject", "subject"),
        Index("ix_audit_log_area", "area"),
        Index("ix_audit_log_action", "action"),
        Index("ix_audit_log_at", "at"),
    )

    @property
    def at(self) -> datetime:
        """When the event happened (UTC)."""
        return datetime.fromisoformat(self.at_text)

    @property
    def details(self) -> dict[str, Any]:
        """The event's details as a dict."""
        value: dict[str, Any] = json.loads(self.details_text)
        return value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every stored column."""
        return {
            "seq": self.seq,
            "at": self.at_text,
            "action": self.action,
            "actor": self.actor,
            "outcome": self.outcome,
            "area": self.area,
            "dataset": self.dataset,
            "subject": self.subject,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


class AuditCheckpoint(Base):
    """A signed checkpoint: the chain had ``size`` events ending in ``head_hash``."""

    __tablename__ = "audit_checkpoint"

    size: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(64))
    at_text: Mapped[str] = mapped_column("at", String(32))
    note: Mapped[str] = mapped_column(Text)  # the signed note (C2SP checkpoint)
