"""Append to, query and verify the audit log in the database.

:func:`append_event` runs in the caller's transaction and never commits: the
event is stored if and only if the change it records is. Appends are serialised
per database (SQLite: the transaction already holds the write lock, see
``store/db.py``; PostgreSQL: a transaction-scoped advisory lock), so concurrent
writers from many processes still build one chain without gaps.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, Table, event, func, insert, or_, select, text
from sqlalchemy.orm import Session

from fivesafes.audit.chain import (
    GENESIS_HASH,
    ChainProblem,
    ChainResult,
    StoredRow,
    canonical_at,
    entry_for,
    entry_hash,
    verify_rows,
)
from fivesafes.audit.checkpoint import Checkpoint, parse_checkpoint, sign_checkpoint
from fivesafes.audit.checkpoint import verify_checkpoint as verify_note
from fivesafes.audit.events import AuditEvent
from fivesafes.errors import IntegrityError, ValidationError
from fivesafes.store.models.audit import AuditCheckpoint, AuditRecord

# Keys in Session.info (set by Workspace.sessions()).
CHECKPOINTER = "fivesafes.audit.checkpointer"
_PENDING_NOTES = "fivesafes.audit.pending_notes"

_SELECT_ROWS = (
    "SELECT seq, at, action, actor, outcome, area, dataset, subject, details, prev_hash, hash "
    "FROM audit_log ORDER BY seq"
)


@dataclass(frozen=True)
class Checkpointer:
    """How to sign checkpoints: the key, its name (the origin), how often, and the file."""

    private_key: Ed25519PrivateKey = field(repr=False)
    origin: str
    every: int
    log_path: Path | None = None


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
    if isinstance(checkpointer, Checkpointer) and record.seq % checkpointer.every == 0:
        create_checkpoint(session, checkpointer)
    return record


def create_checkpoint(session: Session, checkpointer: Checkpointer) -> AuditCheckpoint | None:
    """Sign the current head in the caller's transaction; the file line follows the commit.

    Returns the checkpoint (an existing one if the head is already signed), or
    None when the log is empty.
    """
    lock_chain(session)
    size, head = chain_head(session)
    if size == 0:
        return None
    existing = session.get(AuditCheckpoint, size)
    if existing is not None:
        return existing
    note = sign_checkpoint(
        Checkpoint(checkpointer.origin, size, head), checkpointer.private_key, checkpointer.origin
    )
    at = canonical_at(datetime.now(UTC))
    row = AuditCheckpoint(size=size, head_hash=head, at_text=at, note=note)
    session.add(row)
    session.flush()
    if checkpointer.log_path is not None:
        _after_commit_append(session, checkpointer.log_path, {"at": at, "note": note})
    return row


def _after_commit_append(session: Session, path: Path, line: dict[str, Any]) -> None:
    # The file must only ever hold checkpoints that were committed: a rolled-back
    # checkpoint in the file would later look like a rewritten chain.
    pending: list[tuple[Path, dict[str, Any]]] | None = session.info.get(_PENDING_NOTES)
    if pending is None:
        pending = []
        session.info[_PENDING_NOTES] = pending
        event.listen(session, "after_commit", _write_pending)
        event.listen(session, "after_rollback", _drop_pending)
    pending.append((path, line))


def _write_pending(session: Session) -> None:
    pending = session.info.get(_PENDING_NOTES) or []
    for path, line in pending:
        append_checkpoint_line(path, line)
    pending.clear()


def _drop_pending(session: Session) -> None:
    pending = session.info.get(_PENDING_NOTES)
    if pending:
        pending.clear()


def append_checkpoint_line(path: Path, line: dict[str, Any]) -> None:
    """Append one JSON line to the checkpoint file and fsync it (the file is append-only)."""
    data = (json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoint_file(path: Path) -> tuple[list[str], list[str]]:
    """The signed notes in the checkpoint file, and warnings about unreadable lines."""
    notes: list[str] = []
    warnings: list[str] = []
    if not path.exists():
        return notes, warnings
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            note = json.loads(raw)["note"]
            if not isinstance(note, str):
                raise TypeError
            notes.append(note)
        except (ValueError, KeyError, TypeError):
            warnings.append(f"{path.name} line {number} is not a checkpoint record (skipped)")
    return notes, warnings


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


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of verifying the chain and its checkpoints."""

    events: int
    head_seq: int
    head_hash: str
    problems: tuple[ChainProblem, ...]
    problem_count: int
    checkpoints_verified: int
    signatures_checked: bool
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the chain and every checkpoint are intact."""
        return self.problem_count == 0

    @property
    def first_bad(self) -> ChainProblem | None:
        """The earliest problem in the chain, if any."""
        return min(self.problems, key=lambda p: p.seq) if self.problems else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        first = self.first_bad
        return {
            "ok": self.ok,
            "events": self.events,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "checkpoints_verified": self.checkpoints_verified,
            "signatures_checked": self.signatures_checked,
            "problem_count": self.problem_count,
            "first_bad": None
            if first is None
            else {"seq": first.seq, "kind": first.kind, "message": first.message},
            "problems": [
                {"seq": p.seq, "kind": p.kind, "message": p.message}
                for p in sorted(self.problems, key=lambda p: p.seq)
            ],
            "warnings": list(self.warnings),
        }

    def raise_if_bad(self) -> None:
        """Raise IntegrityError naming the first bad event when anything is wrong."""
        first = self.first_bad
        if first is None:
            return
        raise IntegrityError(
            f"the audit log has been tampered with or corrupted: {first.message} "
            f"({self.problem_count} problem(s) in all)",
            hint="do not append further; restore the database from a backup taken before "
            f"event {first.seq} and compare, and report it to the information asset owner",
        )


@dataclass(frozen=True)
class _CheckpointSource:
    note: str
    origin_label: str  # "database" or the file name


def _driver_rows(
    connection: Connection, lo: int | None = None, hi: int | None = None
) -> Iterator[StoredRow]:
    # Straight from the driver: 1 million rows through the ORM would take minutes.
    raw = connection.connection.driver_connection
    assert raw is not None
    pg = connection.dialect.name == "postgresql"
    sql, params = _SELECT_ROWS, ()
    if lo is not None and hi is not None:
        mark = "%s" if pg else "?"
        sql = _SELECT_ROWS.replace("ORDER BY", f"WHERE seq >= {mark} AND seq < {mark} ORDER BY")
        params = (lo, hi)  # type: ignore[assignment]
    if pg:
        with raw.cursor(name="fivesafes_audit_verify") as cursor:
            cursor.itersize = 20_000
            cursor.execute(sql, params)
            yield from cursor
    else:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, params)
            yield from cursor
        finally:
            cursor.close()


PARALLEL_FROM = 200_000  # events; below this, starting worker processes costs more


def _verify_range(url: str, lo: int, hi: int, sizes: frozenset[int]) -> ChainResult:
    """Verify the events with lo <= seq < hi (run in a worker process)."""
    from fivesafes.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.execution_options(sqlite_begin="DEFERRED").connect() as connection:
            before = connection.execute(
                select(AuditRecord.seq, AuditRecord.hash)
                .where(AuditRecord.seq < lo)
                .order_by(AuditRecord.seq.desc())
                .limit(1)
            ).first()
            after_seq, after_hash = (0, GENESIS_HASH) if before is None else before
            return verify_rows(
                _driver_rows(connection, lo, hi),
                sizes=sizes,
                after_seq=int(after_seq),
                after_hash=str(after_hash),
            )
    finally:
        engine.dispose()


def _executor(workers: int) -> Executor:
    import multiprocessing

    # spawn, not fork: a forked child would share the parent's open database connection.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def _verify_parallel(connection: Connection, sizes: frozenset[int]) -> ChainResult | None:
    """The chain verified by seq ranges in worker processes, when it is large and intact.

    Each event's checks need only its own row and the stored hash before it, so
    ranges are independent. If any range finds a problem, None: the caller
    walks the whole chain in one pass for an exact, ordered report.
    """
    workers = min(os.cpu_count() or 1, 4)
    url = connection.engine.url
    if workers < 2 or url.database in (None, "", ":memory:"):
        return None
    low, high, count = connection.execute(
        select(func.min(AuditRecord.seq), func.max(AuditRecord.seq), func.count())
    ).one()
    if count is None or count < PARALLEL_FROM:
        return None
    step = (high - low) // workers + 1
    bounds = [(low + k * step, min(low + (k + 1) * step, high + 1)) for k in range(workers)]
    with _executor(workers) as pool:
        target = url.render_as_string(hide_password=False)
        n = len(bounds)
        los, his = [a for a, _ in bounds], [b for _, b in bounds]
        parts = list(pool.map(_verify_range, [target] * n, los, his, [sizes] * n))
    if any(not part.ok for part in parts):
        return None
    recomputed: dict[int, str] = {}
    for part in parts:
        recomputed.update(part.recomputed_at)
    last = parts[-1]
    return ChainResult(
        events=sum(p.events for p in parts),
        head_seq=last.head_seq,
        head_hash=last.head_hash,
        problems=(),
        problem_count=0,
        recomputed_at=recomputed,
    )


def verify_chain(
    session_or_engine: Session | Engine | Connection,
    *,
    public_key: Ed25519PublicKey | None = None,
    key_name: str | None = None,
    checkpoint_file: Path | None = None,
    parallel: bool = False,
) -> VerifyReport:
    """Check every event's hash and link and every checkpoint (table and file).

    ``public_key`` and ``key_name`` (the workspace origin) let signatures be
    checked; without them the checkpoints are still compared with the chain.
    ``parallel=True`` verifies large chains in several processes (worth it only
    on an otherwise idle multi-core machine: see bench/RESULTS.md).
    """
    if isinstance(session_or_engine, Engine):
        with session_or_engine.execution_options(sqlite_begin="DEFERRED").connect() as conn:
            return _verify(conn, public_key, key_name, checkpoint_file, parallel)
    if isinstance(session_or_engine, Session):
        return _verify(
            session_or_engine.connection(), public_key, key_name, checkpoint_file, parallel
        )
    return _verify(session_or_engine, public_key, key_name, checkpoint_file, parallel)


def _verify(
    connection: Connection,
    public_key: Ed25519PublicKey | None,
    key_name: str | None,
    checkpoint_file: Path | None,
    parallel: bool,
) -> VerifyReport:
    # Order matters under concurrent appends: file, then table, then chain, so
    # every checkpoint read is of a chain prefix the chain read will include.
    warnings: list[str] = []
    sources: list[_CheckpointSource] = []
    file_notes: list[str] = []
    if checkpoint_file is not None:
        file_notes, file_warnings = read_checkpoint_file(checkpoint_file)
        warnings.extend(file_warnings)
        sources.extend(_CheckpointSource(n, checkpoint_file.name) for n in file_notes)
    db_rows = connection.execute(
        select(AuditCheckpoint.size, AuditCheckpoint.head_hash, AuditCheckpoint.note)
    ).all()
    sources.extend(_CheckpointSource(str(r.note), "database") for r in db_rows)

    problems: list[ChainProblem] = []
    signatures_checked = public_key is not None and key_name is not None
    parsed: list[tuple[Checkpoint, _CheckpointSource]] = []
    for source in sources:
        try:
            if signatures_checked:
                assert public_key is not None and key_name is not None
                checkpoint = verify_note(source.note, public_key, key_name)
            else:
                checkpoint = parse_checkpoint(source.note)[0]
        except IntegrityError as exc:
            size = _size_hint(source.note)
            problems.append(
                ChainProblem(size, "checkpoint", f"{source.origin_label}: {exc.message}")
            )
            continue
        if key_name is not None and checkpoint.origin != key_name:
            problems.append(
                ChainProblem(
                    checkpoint.size,
                    "checkpoint",
                    f"{source.origin_label}: checkpoint at size {checkpoint.size} is for "
                    f"another log ({checkpoint.origin})",
                )
            )
            continue
        parsed.append((checkpoint, source))
    for row in db_rows:
        note_cp = parse_checkpoint(str(row.note))[0] if row.note else None
        if note_cp is not None and (note_cp.size, note_cp.head_hash) != (
            int(row.size),
            str(row.head_hash),
        ):
            problems.append(
                ChainProblem(
                    int(row.size),
                    "checkpoint",
                    f"database: checkpoint row {row.size} does not match its signed note",
                )
            )
    if checkpoint_file is not None:
        in_db = {int(r.size) for r in db_rows}
        in_file = {cp.size for cp, src in parsed if src.origin_label != "database"}
        for size in sorted(in_file - in_db):
            problems.append(
                ChainProblem(
                    size,
                    "checkpoint",
                    f"checkpoint at size {size} is in {checkpoint_file.name} but missing from "
                    "the database (the checkpoint table was altered)",
                )
            )
        missing_in_file = sorted(in_db - in_file)
        if missing_in_file:
            warnings.append(
                f"{len(missing_in_file)} checkpoint(s) in the database are not in "
                f"{checkpoint_file.name} (first: size {missing_in_file[0]}); expected only "
                "after a crash right after a commit"
            )

    sizes = frozenset(cp.size for cp, _ in parsed)
    result = (parallel and _verify_parallel(connection, sizes)) or verify_rows(
        _driver_rows(connection), sizes=sizes
    )
    problems.extend(result.problems)
    count = result.problem_count + len(problems) - len(result.problems)
    verified: set[int] = set()
    for checkpoint, source in sorted(parsed, key=lambda item: item[0].size):
        if checkpoint.size > result.head_seq:
            problems.append(
                ChainProblem(
                    result.head_seq + 1,
                    "missing",
                    f"events {result.head_seq + 1}..{checkpoint.size} missing: the chain ends "
                    f"at {result.head_seq} but a checkpoint ({source.origin_label}) signed "
                    f"{checkpoint.size} events",
                )
            )
            count += 1
        elif checkpoint.size not in result.recomputed_at or (
            result.problems and result.problems[0].seq <= checkpoint.size
        ):
            # The event it signed is gone, or an earlier break of the chain (already
            # reported where it happened) explains why the hashes no longer agree.
            continue
        elif result.recomputed_at[checkpoint.size] != checkpoint.head_hash:
            # The earlier checkpoints still match, so the change lies after the last of them.
            start = max((v for v in verified if v < checkpoint.size), default=0) + 1
            problems.append(
                ChainProblem(
                    start,
                    "checkpoint",
                    f"the chain no longer hashes to the checkpoint signed at size "
                    f"{checkpoint.size} ({source.origin_label}): one of events "
                    f"{start}..{checkpoint.size} was changed and the chain rehashed after it",
                )
            )
            count += 1
        else:
            verified.add(checkpoint.size)
    if not signatures_checked and sources:
        warnings.append("checkpoint signatures not checked (no public key given)")
    return VerifyReport(
        events=result.events,
        head_seq=result.head_seq,
        head_hash=result.head_hash,
        problems=tuple(problems),
        problem_count=count,
        checkpoints_verified=len(verified),
        signatures_checked=signatures_checked,
        warnings=tuple(warnings),
    )


def _size_hint(note: str) -> int:
    try:
        return parse_checkpoint(note)[0].size
    except IntegrityError:
        return 0
