"""The audit log's evidence for its auditors: the last verification, checkpoint and witnesses.

``audit verify`` checks the chain; ``audit checkpoint`` signs its head; the witnesses
(setting ``audit_witnesses``) keep copies of every checkpoint away from the workspace.
This gathers what an auditor needs to say the log held: the last recorded verification
(when, by whom, the head it reached, how many events), the newest signed checkpoint, and
each witness's state (the checkpoint it last received and whether that is the stored
one). :func:`verify_and_record` runs the CLI's verification (``verify_log``, with every
readable folder witness as ``--witness``) and records its outcome as an ``audit.verify``
event, so the next reader sees who verified and what they found. Only an auditor or an
administrator runs it here (as only they read the events); the refusal is recorded too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.audit.checkpoint import parse_checkpoint
from fivesafes.audit.events import Outcome
from fivesafes.audit.log import VerifyReport
from fivesafes.audit.witness import Witness, parse_witness, witness_file
from fivesafes.errors import AccessDenied, IntegrityError
from fivesafes.governance import permissions
from fivesafes.services.audit_log import verify_log
from fivesafes.services.context import Actor, record
from fivesafes.store.models.audit import AuditCheckpoint, AuditRecord
from fivesafes.workspace import Workspace

VERIFY_ACTION = "audit.verify"


@dataclass(frozen=True)
class LastCheckpoint:
    """The newest signed checkpoint in the database."""

    size: int
    head_hash: str
    at: str


@dataclass(frozen=True)
class WitnessState:
    """What one witness holds: the last checkpoint it received, and whether it is ours.

    ``state``: "matches" (its last copy is the newest stored checkpoint), "behind" (an
    older checkpoint of the same chain: a delivery failed or is pending), "differs" (one
    of its copies, the first shown, is not a checkpoint the database holds: the log or
    the witness was changed, e.g. cut with its checkpoints and extended since), "empty" (no
    copy yet), "unreadable", or "elsewhere" (a command witness: its copies are where the
    command sent them, to be checked there).
    """

    label: str
    kind: str  # folder | command
    state: str
    size: int | None = None
    head_hash: str | None = None
    at: str | None = None


@dataclass(frozen=True)
class EvidenceState:
    """The last recorded verification, the newest checkpoint and every witness's state."""

    last_verification: dict[str, Any] | None
    last_checkpoint: LastCheckpoint | None
    witnesses: tuple[WitnessState, ...]


def evidence_state(workspace: Workspace, session: Session) -> EvidenceState:
    """What the evidence page shows, read in ``session`` (no event contents but the
    verification's own summary; the caller has already been allowed to read the log)."""
    # the newest verification that ran: a refused one (outcome denied) verified nothing
    verified = session.scalars(
        select(AuditRecord)
        .where(AuditRecord.action == VERIFY_ACTION, AuditRecord.outcome == Outcome.DONE.value)
        .order_by(AuditRecord.seq.desc())
        .limit(1)
    ).one_or_none()
    last = None
    if verified is not None:
        event = verified.to_dict()
        last = {"at": event["at"], "by": event["actor"], "seq": event["seq"], **event["details"]}
    row = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)
    ).one_or_none()
    newest = None if row is None else LastCheckpoint(int(row.size), row.head_hash, row.at_text)
    witnesses = tuple(
        _witness_state(session, workspace.origin, parse_witness(spec), newest)
        for spec in workspace.setting("audit_witnesses")
    )
    return EvidenceState(last, newest, witnesses)


def _witness_state(
    session: Session, origin: str, witness: Witness, newest: LastCheckpoint | None
) -> WitnessState:
    if witness.folder is None:
        return WitnessState(witness.label, "command", "elsewhere")
    path = witness_file(witness.folder, origin)
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except FileNotFoundError:
        return WitnessState(witness.label, "folder", "empty")
    except OSError:
        return WitnessState(witness.label, "folder", "unreadable")
    if not lines:
        return WitnessState(witness.label, "folder", "empty")
    try:
        parsed = [json.loads(ln) for ln in lines]
        held = [(parse_checkpoint(str(ln["note"]))[0], ln) for ln in parsed]
    except (ValueError, KeyError, TypeError, AttributeError, IntegrityError):
        return WitnessState(witness.label, "folder", "unreadable")
    # Every copy, not only the last: a log cut with its checkpoints and then extended
    # (the next commit, e.g. this page's own audit.read) delivers a checkpoint of the
    # forged chain, so the last copy matches again while earlier ones prove the cut.
    stored = dict(session.execute(select(AuditCheckpoint.size, AuditCheckpoint.head_hash)).all())
    wrong = next(((c, ln) for c, ln in held if stored.get(c.size) != c.head_hash), None)
    checkpoint, line = wrong if wrong is not None else held[-1]
    at = str(line.get("at") or _mtime(path))
    size, head = checkpoint.size, checkpoint.head_hash
    if wrong is not None:
        state = "differs"
    elif newest is not None and size == newest.size and head == newest.head_hash:
        state = "matches"
    else:
        state = "behind"
    return WitnessState(witness.label, "folder", state, size, head, at)


def _mtime(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat(timespec="seconds")


def folder_witness_files(workspace: Workspace) -> list[Path]:
    """The copies of the folder witnesses that exist (``audit verify --witness`` for each)."""
    found = []
    for spec in workspace.setting("audit_witnesses"):
        witness = parse_witness(spec)
        if witness.folder is not None:
            path = witness_file(witness.folder, workspace.origin)
            if path.is_file():
                found.append(path)
    return found


def summary(report: VerifyReport, witnesses: int) -> dict[str, Any]:
    """What an ``audit.verify`` event keeps: the outcome, the head reached, the counts
    (no event contents: the first problem's position and kind only)."""
    first = report.first_bad
    return {
        "ok": report.ok,
        "events": report.events,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "checkpoints_verified": report.checkpoints_verified,
        "signatures_checked": report.signatures_checked,
        "problem_count": report.problem_count,
        "first_bad": None if first is None else {"seq": first.seq, "kind": first.kind},
        "witnesses_checked": witnesses,
    }


def check_may_verify(session: Session, actor: Actor) -> None:
    """Raise (after recording the refusal) unless ``actor`` reads the log: an auditor or
    an administrator."""
    try:
        permissions.check_read_audit_log(actor.person)
    except AccessDenied as refused:
        details = {"reasons": list(refused.reasons)}
        refused.audited_by(
            lambda s: record(s, actor.login, VERIFY_ACTION, outcome=Outcome.DENIED, details=details)
        )
        raise


def verify_and_record(workspace: Workspace, login: str) -> VerifyReport:
    """Verify the log now as ``audit verify --witness ...`` does (every readable folder
    witness) and record the outcome, by ``login``, as an ``audit.verify`` event.

    The event is appended after the verification: it is the first event the next
    verification covers. A failed verification is recorded too (outcome done: it ran;
    ``ok`` false in its details).
    """
    from fivesafes.services.context import resolve_actor

    with workspace.transaction() as session:  # the permission first, before any reading
        check_may_verify(session, resolve_actor(session, login))
    copies = folder_witness_files(workspace)
    report = verify_log(workspace, witnesses=copies)
    with workspace.transaction() as session:
        record(session, login, VERIFY_ACTION, details=summary(report, len(copies)))
    return report


__all__ = [
    "VERIFY_ACTION",
    "EvidenceState",
    "LastCheckpoint",
    "WitnessState",
    "check_may_verify",
    "evidence_state",
    "folder_witness_files",
    "summary",
    "verify_and_record",
]
