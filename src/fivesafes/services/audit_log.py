"""Reading the audit log's events: deny by default, and every read decision is itself audited.

The log says who opened which dataset, who was refused and why: reading it is a
disclosure about people, so only an auditor or an administrator may
(``permissions.check_read_audit_log``). The decision, allowed or denied, is
committed to the log *before* a denial is raised or any event is read, with the
filters asked for and, when denied, the reason. Verifying the chain
(``audit verify``, :func:`verify_log`) shows no event contents and stays open to every
registered person, as does signing the head now (``audit checkpoint``, :func:`checkpoint`).
A server killed before its batch timer signed its last events leaves them unsigned; the
next start signs them and says so in the log (:func:`sign_unsigned_tail`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.audit.chain import ChainProblem
from fivesafes.audit.events import Outcome
from fivesafes.audit.genesis import verified_genesis
from fivesafes.audit.log import (
    CHECKPOINTER,
    VerifyReport,
    chain_head,
    create_checkpoint,
    lock_chain,
    query_events,
    sign_pending_now,
)
from fivesafes.audit.verifier_state import load_state, next_state, raw_key_text, save_state
from fivesafes.audit.verify import verify_chain
from fivesafes.audit.witness import witness_file
from fivesafes.errors import AccessDenied, IntegrityError
from fivesafes.governance import permissions
from fivesafes.services.context import SYSTEM, Actor, record
from fivesafes.store.db import read_only
from fivesafes.store.models.audit import AuditCheckpoint, AuditRecord
from fivesafes.store.roles import audit_table_owner, is_superuser
from fivesafes.workspace import Workspace
from fivesafes.workspace.keys import public_key_fingerprint

Transact = Callable[[], AbstractContextManager[Session]]

READ_ACTION = "audit.read"
UNSIGNED_TAIL_ACTION = "audit.unsigned_tail"
UNSIGNED_GRACE_S = 0.5  # beyond checkpoint_batch_ms, for a busy writer's timer to commit


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


def read_log(
    tx: Transact,
    reader: Transact,
    actor: Actor | Callable[[Session], Actor],
    query: LogQuery,
) -> list[dict[str, Any]]:
    """The matching events (newest ``limit``, oldest first) when ``actor`` may read them.

    ``tx`` opens the transaction that records the decision; ``reader`` a session that
    reads (a read-only one needs no write lock). ``actor`` may be a function that
    resolves the actor in that transaction (the server's: one transaction, not two).
    Raises AccessDenied, after the denial is committed to the log, when the actor may
    not read it.
    """
    with tx() as session:
        acting = actor(session) if callable(actor) else actor
        denial = decide_log_read(session, acting, query)
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
    workspace: Workspace,
    *,
    public_key: Ed25519PublicKey | None = None,
    parallel: bool = False,
    state_path: Path | None = None,
    witnesses: Sequence[Path] = (),
) -> VerifyReport:
    """Check every event, every signed checkpoint and the genesis, trusting the workspace least.

    The log must have a valid signed checkpoint covering every event; the genesis event
    must be this workspace's creation, signed with this key. ``public_key`` defaults to
    the key pinned in the verifier state, else the workspace's own .pub file (a copy kept
    outside the workspace proves more). ``state_path`` is the verifier's own state, kept
    outside the workspace: the log must still hold the checkpoint verified last time, and
    after a clean run the state moves to the newest one. ``witnesses`` are witness copies
    (a file, or a witness folder). Reads only, with no write lock, once this process's
    own pending head (left to its batch timer) is signed; call it outside a transaction.
    """
    origin = workspace.origin
    state = load_state(state_path) if state_path is not None else None
    if state is not None:
        if state.origin != origin:
            raise IntegrityError(
                f"verifier state {state_path} follows the log {state.origin}, not this "
                f"workspace's ({origin})",
                hint="give each workspace its own state file",
            )
        if public_key is not None and raw_key_text(public_key) != state.public_key:
            raise IntegrityError(
                f"the public key given is not the one pinned in {state_path}",
                hint="the workspace's key was replaced, or the wrong key file was given; "
                "compare both with your offline copy",
            )
        public_key = state.key()
    key = public_key if public_key is not None else workspace.public_key()
    copies = [witness_file(path, origin) for path in witnesses]

    def run() -> VerifyReport:
        return verify_chain(
            read_only(workspace.engine()),
            public_key=key,
            key_name=origin,
            checkpoint_file=workspace.checkpoint_log_path,
            parallel=parallel,
            require_signed=True,
            witness_files=copies,
            seen=state.checkpoint() if state is not None else None,
        )

    # a head this process left to its batch timer is its own: signed (or waited for) now,
    # not reported as a cut tail because the timer thread has not had the processor yet
    sign_pending_now(workspace.engine())
    report = run()
    if report.problems and all(p.kind == "unsigned" for p in report.problems):
        # Under load a writer signs its head at most every checkpoint_batch_ms: give
        # its timer the time to sign, then look again (one retry only).
        time.sleep(int(workspace.setting("checkpoint_batch_ms")) / 1000 + UNSIGNED_GRACE_S)
        report = run()
    report = _check_genesis(workspace, key, report)
    notes = list(report.warnings) + _database_role_warnings(workspace)
    if state_path is None:
        notes.append(
            "no --state file: a log cut together with its checkpoints is caught only by a "
            "witness (--witness) or by a verifier that remembers what it saw (--state)"
        )
    elif report.ok and report.last_checkpoint_note is not None:
        save_state(state_path, next_state(state, origin, key, report.last_checkpoint_note))
        if state is None:
            notes.append(
                f"verifier state created in {state_path}: this log's origin and public key "
                "are pinned from now on (trust on first use: check the key's fingerprint "
                "against your offline copy once)"
            )
    return replace(report, warnings=tuple(notes))


def _database_role_warnings(workspace: Workspace) -> list[str]:
    """On PostgreSQL: say so when this role could switch the append-only triggers off."""
    engine = workspace.engine()
    if engine.dialect.name != "postgresql":
        return []
    with read_only(engine).connect() as connection:
        user = connection.exec_driver_sql("SELECT current_user").scalar()
        if is_superuser(connection):
            return [
                f"the database role {user} is a PostgreSQL superuser: it can bypass the "
                "append-only triggers (session_replication_role); run fivesafes as a role "
                "with INSERT and SELECT only on the audit tables (docs/audit-log.md)"
            ]
        if audit_table_owner(connection) == user:
            return [
                f"the database role {user} owns the audit tables and can disable their "
                "triggers: have a DBA run fivesafes.store.roles.secure_audit_tables "
                "(docs/audit-log.md)"
            ]
    return []


def _check_genesis(
    workspace: Workspace, key: Ed25519PublicKey, report: VerifyReport
) -> VerifyReport:
    """The report with a problem added when event 1 is not this workspace's creation."""
    with read_only(workspace.engine()).connect() as connection:
        details = verified_genesis(connection, key, workspace.origin, workspace.checkpoint_log_path)
    if details is not None and (
        details.get("workspace_id") == workspace.workspace_id
        and details.get("public_key_sha256") == public_key_fingerprint(key)
    ):
        return report
    problem = ChainProblem(
        1,
        "genesis",
        "the genesis event (event 1) is not this workspace's creation signed with this key: "
        "it does not match the first signed checkpoint, names another workspace or key, or "
        "is missing",
    )
    return replace(
        report, problems=(problem, *report.problems), problem_count=report.problem_count + 1
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


def sign_unsigned_tail(session: Session) -> tuple[int, int] | None:
    """Sign the events a stopped process left unsigned, recording that it did (at a start).

    Under load a server signs its head at most every checkpoint_batch_ms: killed (kill -9,
    power cut) before its timer fired, it leaves its last events unsigned, and verify would
    call them tampered with until the next write signs them. Returns the (first, last)
    events found unsigned, or None. Only a tail that follows the last signed checkpoint is
    signed: a log shorter than its checkpoints, or one that no longer hashes to the last of
    them, is left as it is for verify to report.
    """
    lock_chain(session)
    size, _head = chain_head(session)
    last = session.execute(
        select(AuditCheckpoint.size, AuditCheckpoint.head_hash)
        .order_by(AuditCheckpoint.size.desc())
        .limit(1)
    ).first()
    if last is None or int(last.size) >= size:
        return None
    signed_hash = session.scalar(select(AuditRecord.hash).where(AuditRecord.seq == last.size))
    if signed_hash != last.head_hash:
        return None
    first = int(last.size) + 1
    record(
        session,
        SYSTEM,
        UNSIGNED_TAIL_ACTION,
        details={
            "first": first,
            "last": size,
            "why": "the process that appended them stopped before it signed them",
        },
    )
    create_checkpoint(session, session.info[CHECKPOINTER])
    return first, size


__all__ = [
    "READ_ACTION",
    "UNSIGNED_TAIL_ACTION",
    "LogQuery",
    "SignedCheckpoint",
    "VerifyReport",
    "checkpoint",
    "decide_log_read",
    "read_log",
    "sign_unsigned_tail",
    "verify_log",
]
