"""Audit events: what happened, who did it, to what, with which outcome.

Services build one of these for every state change and every access decision and
hand it to the store in the same transaction as the change itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """Whether the audited action went ahead."""

    ALLOWED = "allowed"
    DENIED = "denied"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditEvent:
    """One audited action; ``details`` must be JSON-serialisable."""

    action: str  # dotted verb, e.g. "grant.approve", "access.decide", "dataset.ingest"
    actor: str  # login of the acting person, or "system"
    outcome: Outcome = Outcome.DONE
    area: str | None = None
    dataset: str | None = None
    subject: str | None = None  # the person or thing acted upon (login, grant id, ...)
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
