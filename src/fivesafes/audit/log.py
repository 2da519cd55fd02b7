"""Append to, query and verify the audit log in the database.

:func:`append_event` runs in the caller's transaction and never commits: the
event is stored if and only if the change it records is. Appends are serialised
per database (SQLite: the transaction already holds the write lock, see
``store/db.py``; PostgreSQL: a transaction-scoped advisory lock), so concurrent
writers from many processes still build one chain without gaps.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, Table, event, func, insert, or_, select, text
from sqlalchemy.orm import Session

from fivesafes.audit.chain import (
    GENESIS_HASH,
    canonical_at,
    entry_for,
    entry_hash,
)
from fivesafes.audit.checkpoint import Checkpoint, sign_checkpoint
from fivesafes.audit.checkpoint_file import append_checkpoint_line, read_checkpoint_file
from fivesafes.audit.events import AuditEvent, Outcome
from fivesafes.audit.verify import VerifyReport, verify_chain
from fivesafes.audit.witness import Witness, deliver_to_witnesses
from fivesafes.errors import ValidationError
from fivesafes.store.models.audit import AuditCheckpoint, AuditRecord

# Keys in Session.info (set by Workspace.sessions()).
CHECKPOINTER = "fivesafes.audit.checkpointer"
_PENDING_NOTES = "fivesafes.audit.pending_notes"
# The (seq, hash) of the last event this transaction appended and has not signed yet.
_UNSIGNED_HEAD = "fivesafes.audit.unsigned_head"


LOG = logging.getLogger("fivesafes.audit")


@dataclass
class _Batch:
    """This process's signing clock for one checkpointer (mutable, behind ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    # held through a pending head's whole signature, so that a verifier in this process
    # can wait for a timer thread that has fired but not yet committed
    signing: threading.Lock = field(default_factory=threading.Lock)
    last: float = float("-inf")  # time.monotonic() of the last signature
    timer: threading.Timer | None = None
    pending_seq: int = 0  # the largest head this process left unsigned


@dataclass(frozen=True)
class Checkpointer:
    """How to sign checkpoints: the key, its name (the origin), when, and where they go.

    ``every_transaction`` (the default) signs the head at the commit of every transaction
    that appended events, so a cut tail is always detected. Under load,
    ``batch_seconds`` > 0 signs at most that often per process: a commit within that
    time of the last signature leaves its head to a timer that signs the head then (and
    at exit), so the head is never unsigned for longer. ``every`` also signs inside a
    long transaction every that many events. ``witnesses`` receive every checkpoint
    after the commit.
    """

    private_key: Ed25519PrivateKey = field(repr=False)
    origin: str
    every: int
    log_path: Path | None = None
    every_transaction: bool = True
    witnesses: tuple[Witness, ...] = ()
    batch_seconds: float = 0.0
    _batch: _Batch = field(default_factory=_Batch, compare=False, repr=False)


_PG_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :lock))")


def lock_chain(session: Session) -> None:
    """Serialise appends: hold the chain's lock until this transaction ends."""
    bind = session.connection()
    if bind.dialect.name == "postgresql":
        # Per schema, so isolated test schemas in one database do not wait on each other.
        bind.execute(_PG_LOCK, {"lock": "/fivesafes-audit"})
    # SQLite: the session's transaction began with BEGIN IMMEDIATE (store/db.py), so it
    # already holds the database's write lock and no other writer can move the head.
    # (On an engine without that, a racing writer gets "database is locked", never a
    # fork: seq is the primary key.)


_HEAD = select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
_INSERT = insert(cast(Table, AuditRecord.__table__))


def chain_head(session: Session) -> tuple[int, str]:
    """The (seq, hash) of the last event, or (0, GENESIS_HASH) for an empty log."""
    # Core on the session's connection: same transaction, without the ORM's overhead.
    row = session.connection().execute(_HEAD).first()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


def append_event(session: Session, event: AuditEvent) -> AuditRecord:
    """Append ``event`` to the chain in the caller's transaction (never commits).

    Returns the stored record (a detached copy: the row is written with a Core
    INSERT, which is several times cheaper than the ORM unit of work).
    """
    lock_chain(session)
    seq, prev_hash = chain_head(session)
    entry = entry_for(event, seq=seq + 1, prev_hash=prev_hash)
    record = AuditRecord(
        seq=entry.seq,
        at_text=entry.at,
        action=entry.action,
        actor=entry.actor,
        outcome=entry.outcome,
        area=entry.area,
        dataset=entry.dataset,
        subject=entry.subject,
        details_text=entry.details,
        prev_hash=entry.prev_hash,
        hash=entry_hash(entry),
    )
    session.connection().execute(
        _INSERT,
        {
            "seq": record.seq,
            "at": record.at_text,
            "action": record.action,
            "actor": record.actor,
            "outcome": record.outcome,
            "area": record.area,
            "dataset": record.dataset,
            "subject": record.subject,
            "details": record.details_text,
            "prev_hash": record.prev_hash,
            "hash": record.hash,
        },
    )
    checkpointer = session.info.get(CHECKPOINTER)
    if isinstance(checkpointer, Checkpointer):
        if record.seq % checkpointer.every == 0:
            _sign(session, checkpointer, record.seq, record.hash)
        elif checkpointer.every_transaction:
            session.info[_UNSIGNED_HEAD] = (record.seq, record.hash)
    return record


@event.listens_for(Session, "before_commit")
def _sign_at_commit(session: Session) -> None:
    # Every session class (one listener, not one per session: registering per session
    # costs more than the signature). Runs inside the transaction, which still holds the
    # chain lock, so the head signed here is the head this commit makes durable.
    head = session.info.pop(_UNSIGNED_HEAD, None)
    checkpointer = session.info.get(CHECKPOINTER)
    if head is None or not isinstance(checkpointer, Checkpointer):
        return
    bind = session.get_bind()
    if checkpointer.batch_seconds <= 0 or not isinstance(bind, Engine):
        _sign(session, checkpointer, head[0], head[1])
        return
    batch = checkpointer._batch
    now = time.monotonic()
    with batch.lock:
        due = now - batch.last >= checkpointer.batch_seconds
        if due:
            batch.last = now
        else:
            batch.pending_seq = max(batch.pending_seq, head[0])
        if not due and batch.timer is None:
            delay = max(0.0, batch.last + checkpointer.batch_seconds - now)
            batch.timer = threading.Timer(delay, _sign_pending, (checkpointer, bind))
            batch.timer.daemon = True
            batch.timer.start()
            _PENDING_TIMERS[id(checkpointer)] = (checkpointer, bind)
    if due:
        _sign(session, checkpointer, head[0], head[1])


# Heads left to a timer, signed at exit if the timer has not fired yet.
_PENDING_TIMERS: dict[int, tuple[Checkpointer, Engine]] = {}


def _sign_pending(checkpointer: Checkpointer, engine: Engine) -> None:
    """Sign the current head in a transaction of its own (the batch timer's job)."""
    from fivesafes.store.db import read_only, session_factory

    batch = checkpointer._batch
    with batch.signing:
        with batch.lock:
            batch.timer = None
            batch.last = time.monotonic()
            pending, batch.pending_seq = batch.pending_seq, 0
        try:
            # Under load another writer has usually signed a head past ours by now: a read
            # (no write lock) spares a transaction that every writer would queue behind.
            with read_only(engine).connect() as connection:
                signed = connection.execute(select(func.max(AuditCheckpoint.size))).scalar()
            if signed is not None and int(signed) >= pending:
                return
            with session_factory(engine, **{CHECKPOINTER: checkpointer}).begin() as session:
                create_checkpoint(session, checkpointer)
        except Exception as exc:  # a thread has no caller to raise to: say it loudly
            message = (
                f"warning: the audit log's head could not be signed ({exc}); the next "
                "transaction signs it, or run `fivesafes audit checkpoint`"
            )
            LOG.warning(message)
            print(message, file=sys.stderr)
        finally:
            # forgotten only once signed (a commit meanwhile may have set a new timer),
            # so sign_pending_now still finds a signature in flight and waits for it
            with batch.lock:
                if batch.timer is None:
                    _PENDING_TIMERS.pop(id(checkpointer), None)


@atexit.register
def sign_pending_now(engine: Engine | None = None) -> None:
    """Sign now every head a batch timer would sign later (of ``engine``, or all), or
    wait for a timer already signing one.

    Called at exit, before a database goes away (``Workspace.close``) and before this
    process verifies its own log (not inside a transaction: the timer's may wait on it).
    """
    for checkpointer, bound in list(_PENDING_TIMERS.values()):
        if engine is not None and bound is not engine:
            continue
        timer = checkpointer._batch.timer
        if timer is not None:
            timer.cancel()
        _sign_pending(checkpointer, bound)


@event.listens_for(Session, "after_rollback")
def _forget_unsigned(session: Session) -> None:
    session.info.pop(_UNSIGNED_HEAD, None)


_INSERT_CHECKPOINT = insert(cast(Table, AuditCheckpoint.__table__))


def _sign(session: Session, checkpointer: Checkpointer, size: int, head: str) -> str:
    """Sign (size, head) in this transaction; the file and witness lines follow the commit."""
    session.info.pop(_UNSIGNED_HEAD, None)
    note = sign_checkpoint(
        Checkpoint(checkpointer.origin, size, head), checkpointer.private_key, checkpointer.origin
    )
    at = canonical_at(datetime.now(UTC))
    session.connection().execute(
        _INSERT_CHECKPOINT, {"size": size, "head_hash": head, "at": at, "note": note}
    )
    _after_commit_append(session, checkpointer, {"at": at, "note": note})
    return note


def create_checkpoint(session: Session, checkpointer: Checkpointer) -> AuditCheckpoint | None:
    """Sign the current head in the caller's transaction; the file line follows the commit.

    Returns the checkpoint (an existing one if the head is already signed), or
    None when the log is empty.
    """
    lock_chain(session)
    size, head = chain_head(session)
    if size == 0:
        return None
    session.flush()  # rows the ORM still holds must be in the database before we read
    existing = session.get(AuditCheckpoint, size)
    if existing is not None:
        session.info.pop(_UNSIGNED_HEAD, None)
        return existing
    _sign(session, checkpointer, size, head)
    row = session.get(AuditCheckpoint, size)
    assert row is not None
    return row


def _after_commit_append(
    session: Session, checkpointer: Checkpointer, line: dict[str, Any]
) -> None:
    # The file and the witnesses must only ever hold checkpoints that were committed: a
    # rolled-back checkpoint there would later look like a rewritten chain.
    if checkpointer.log_path is None and not checkpointer.witnesses:
        return
    pending: list[tuple[Checkpointer, dict[str, Any]]] = session.info.setdefault(_PENDING_NOTES, [])
    pending.append((checkpointer, line))


@event.listens_for(Session, "after_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING_NOTES, None)
    if not pending:
        return
    for checkpointer, line in pending:
        if checkpointer.log_path is None:
            continue
        try:
            append_checkpoint_line(checkpointer.log_path, line)
        except OSError as exc:
            # The change is committed: raising now would report a failure that did not
            # happen. The row in audit_checkpoint holds the checkpoint; say it loudly.
            message = (
                f"warning: checkpoint not written to {checkpointer.log_path} ({exc}); it is "
                "in the database. Free space or fix the file's permissions; `audit verify` "
                "lists checkpoints missing from the file"
            )
            LOG.warning(message)
            print(message, file=sys.stderr)
    # Witnesses get the newest checkpoint of this commit only: it commits to every
    # event before it, so one line per commit proves as much as one per checkpoint.
    checkpointer, line = pending[-1]
    deliver_to_witnesses(checkpointer.witnesses, checkpointer.origin, line)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING_NOTES, None)


def event_of(record: AuditRecord) -> AuditEvent:
    """A stored event as an :class:`AuditEvent`."""
    return AuditEvent(
        action=record.action,
        actor=record.actor,
        outcome=Outcome(record.outcome),
        area=record.area,
        dataset=record.dataset,
        subject=record.subject,
        details=record.details,
        at=record.at,
    )


def _utc_text(value: datetime | str, name: str) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                f"{name} {value!r} is not a date or time",
                hint="use ISO format, e.g. 2026-01-31 or 2026-01-31T09:00",
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # naive times on the command line mean UTC
    return canonical_at(value)


def query_events(
    session: Session,
    *,
    actor: str | None = None,
    area: str | None = None,
    action: str | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    limit: int | None = None,
    person: str | None = None,
    subject: str | None = None,
    dataset: str | None = None,
    newest_first: bool = False,
) -> list[AuditRecord]:
    """Stored events matching every given filter, in chain order (or newest first).

    ``person`` matches the actor or the subject; ``action`` ending in ``*``
    matches a prefix (``grant.*``); ``since`` is inclusive, ``until`` exclusive.
    """
    query = select(AuditRecord)
    if actor is not None:
        query = query.where(AuditRecord.actor == actor)
    if subject is not None:
        query = query.where(AuditRecord.subject == subject)
    if person is not None:
        query = query.where(or_(AuditRecord.actor == person, AuditRecord.subject == person))
    if area is not None:
        query = query.where(AuditRecord.area == area)
    if dataset is not None:
        query = query.where(AuditRecord.dataset == dataset)
    if action is not None:
        if action.endswith("*"):
            prefix = action[:-1]
            query = query.where(func.substr(AuditRecord.action, 1, len(prefix)) == prefix)
        else:
            query = query.where(AuditRecord.action == action)
    if since is not None:
        query = query.where(AuditRecord.at_text >= _utc_text(since, "since"))
    if until is not None:
        query = query.where(AuditRecord.at_text < _utc_text(until, "until"))
    query = query.order_by(AuditRecord.seq.desc() if newest_first else AuditRecord.seq)
    if limit is not None:
        if limit < 1:
            raise ValidationError(f"limit must be at least 1, got {limit}", hint="give --limit N")
        query = query.limit(limit)
    return list(session.scalars(query))


__all__ = [
    "CHECKPOINTER",
    "Checkpointer",
    "VerifyReport",
    "append_checkpoint_line",
    "append_event",
    "chain_head",
    "create_checkpoint",
    "event_of",
    "lock_chain",
    "query_events",
    "read_checkpoint_file",
    "sign_pending_now",
    "verify_chain",
]
