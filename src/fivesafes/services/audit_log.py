"""Reading the audit log's events: deny by default, and every read decision is itself audited.

The log says who opened which dataset, who was refused and why: reading it is a
disclosure about people, so only an auditor or an administrator may
(``permissions.check_read_audit_log``). The decision, allowed or denied, is
committed to the log *before* a denial is raised or any event is read, with the
filters asked for and, when denied, the reason. Verifying the chain
(``audit verify``, :func:`verify_log`) shows no event contents and stays open to every
registered person, as does signing the head now (``audit checkpoint``, :func:`checkpoint`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.audit.log import CHECKPOINTER, VerifyReport, create_checkpoint, query_events
from fivesafes.audit.verify import verify_chain
from fivesafes.errors import AccessDenied
from fivesafes.governance import permissions
from fivesafes.services.context import Actor, record
from fivesafes.store.db import read_only
from fivesafes.workspace import Workspace

Transact = Callable[[], AbstractContextManager[Session]]

READ_ACTION = "audit.read"


@dataclass(frozen=True)
class LogQuery:
    """Filters of one read of the audit log (None: not filtered on)."""

    person: str | None = None
    actor: str | None = None
    subject: str | None = None
    area: str | None = None
    dataset: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100

    def details(self) -> dict[str, Any]:
        """The filters given, JSON-ready (kept in the audit event of the read)."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is not None:
                out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


def decide_log_read(session: Session, actor: Actor, query: LogQuery) -> AccessDenied | None:
    """Record whether ``actor`` may read the log with ``query``; return the denial, if any.

    The denial is returned, not raised, so that the caller commits its record first.
    """
    denial: AccessDenied | None = None
    try:
        permissions.check_read_audit_log(actor.person)
    except AccessDenied as exc:
        denial = exc
    details: dict[str, Any] = {"filters": query.details()}
    if denial is not None:
        details["reasons"] = list(denial.reasons)
    record(
        session,
        actor.login,
        READ_ACTION,
        outcome=Outcome.DENIED if denial else Outcome.ALLOWED,
        subject=query.person or query.actor or query.subject,
        area=query.area,
        dataset=query.dataset,
        details=details,
    )
    return denial


def read_log(tx: Transact, reader: Transact, actor: Actor, query: LogQuery) -> list[dict[str, Any]]:
    """The matching events (newest ``limit``, oldest first) when ``actor`` may read them.

    ``tx`` opens the transaction that records the decision; ``reader`` a session that
    reads (a read-only one needs no write lock). Raises AccessDenied, after the denial
    is committed to the log, when the actor may not read it.
    """
    with tx() as session:
        denial = decide_log_read(session, actor, query)
    if denial is not None:
        raise denial
    with reader() as session:
        rows = query_events(
            session,
            person=query.person,
            actor=query.actor,
            subject=query.subject,
            area=query.area,
            dataset=query.dataset,
            action=query.action,
            since=query.since,
            until=query.until,
            limit=query.limit,
            newest_first=True,
        )
        return [r.to_dict() for r in reversed(rows)]


def verify_log(
    workspace: Workspace, *, public_key: Ed25519PublicKey | None = None, parallel: bool = False
) -> VerifyReport:
    """Check every event's hash and link and every signed checkpoint (table and file).

    ``public_key`` defaults to the workspace's own .pub file; a copy kept outside the
    workspace proves more. Reads only, with no write lock.
    """
    return verify_chain(
        read_only(workspace.engine()),
        public_key=public_key if public_key is not None else workspace.public_key(),
        key_name=workspace.origin,
        checkpoint_file=workspace.checkpoint_log_path,
        parallel=parallel,
    )


@dataclass(frozen=True)
class SignedCheckpoint:
    """A signed checkpoint: the chain had ``size`` events ending in ``head_hash``."""

    size: int
    head_hash: str
    note: str


def checkpoint(session: Session) -> SignedCheckpoint | None:
    """Sign the chain's current head in ``session``'s transaction; None when the log is empty.

    The signed note goes to the audit_checkpoint table and, after the commit, to the
    workspace's checkpoint file (the session must come from ``Workspace.sessions()``).
    """
    row = create_checkpoint(session, session.info[CHECKPOINTER])
    return None if row is None else SignedCheckpoint(row.size, row.head_hash, row.note)


__all__ = [
    "READ_ACTION",
    "LogQuery",
    "SignedCheckpoint",
    "VerifyReport",
    "checkpoint",
    "decide_log_read",
    "read_log",
    "verify_log",
]
