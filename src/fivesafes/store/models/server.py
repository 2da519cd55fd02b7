"""The server's sign-in (migration 0011_server): local passwords and bearer tokens.

Only hashes are stored: argon2id for passwords, SHA-256 for tokens (a token is 256
random bits, so a fast hash is enough; the plain token exists only in the client's hands).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fivesafes.store.base import Base


class ServerPasswordRow(Base):
    """A person's local password (argon2id hash), for signing in over TCP."""

    __tablename__ = "server_passwords"

    person_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ServerTokenRow(Base):
    """A short-lived bearer token given at sign-in (its SHA-256 only)."""

    __tablename__ = "server_tokens"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
