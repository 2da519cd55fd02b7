"""Verify the stored audit chain and its signed checkpoints (table and file).

The chain logic is pure (``fivesafes.audit.chain.verify_rows``); this module
reads the rows straight from the driver, in one pass or, for large chains and
on request, by seq ranges in worker processes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from fivesafes.audit.chain import GENESIS_HASH, ChainProblem, ChainResult, StoredRow, verify_rows
from fivesafes.audit.checkpoint import Checkpoint
from fivesafes.audit.checkpoint_checks import (
    SKIP,
    CheckpointSource,
    VerifyArgs,
    check_note,
    compare_checkpoint,
    parsed_or_none,
    read_outside,
    trust_checks,
)
from fivesafes.errors import IntegrityError
from fivesafes.store.models.audit import AuditCheckpoint, AuditRecord

_SELECT_ROWS = (
    "SELECT seq, at, action, actor, outcome, area, dataset, subject, details, prev_hash, hash "
    "FROM audit_log ORDER BY seq"
)


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
    # The signed note of the largest checkpoint verified (for the verifier's state).
    last_checkpoint_note: str | None = None

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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerifyReport:
        """The report back from ``to_dict`` (as the server sends it)."""
        return cls(
            events=data["events"],
            head_seq=data["head_seq"],
            head_hash=data["head_hash"],
            problems=tuple(
                ChainProblem(p["seq"], p["kind"], p["message"]) for p in data["problems"]
            ),
            problem_count=data["problem_count"],
            checkpoints_verified=data["checkpoints_verified"],
            signatures_checked=data["signatures_checked"],
            warnings=tuple(data["warnings"]),
        )

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
    require_signed: bool = False,
    witness_files: Sequence[Path] = (),
    seen: Checkpoint | None = None,
) -> VerifyReport:
    """Check every event's hash and link and every checkpoint (table, file, witnesses).

    ``public_key`` and ``key_name`` (the workspace origin) let signatures be
    checked; without them the checkpoints are still compared with the chain.
    ``require_signed`` makes a log without a valid signed checkpoint, or with events
    after the last one, a problem (a workspace signs every transaction's head).
    ``witness_files`` are copies of the checkpoints kept outside the workspace;
    ``seen`` is the last checkpoint this verifier verified before (its own state):
    the log must still contain it. ``parallel=True`` verifies large chains in several
    processes (worth it only on an otherwise idle multi-core machine: bench/RESULTS.md).
    """
    args = VerifyArgs(
        public_key, key_name, checkpoint_file, parallel, require_signed, tuple(witness_files), seen
    )
    if isinstance(session_or_engine, Engine):
        with session_or_engine.execution_options(sqlite_begin="DEFERRED").connect() as conn:
            return _verify(conn, args)
    if isinstance(session_or_engine, Session):
        return _verify(session_or_engine.connection(), args)
    return _verify(session_or_engine, args)


def _verify(connection: Connection, args: VerifyArgs) -> VerifyReport:
    # Order matters under concurrent appends: outside copies, then table, then chain,
    # so every checkpoint read is of a chain prefix the chain read will include.
    warnings: list[str] = []
    sources: list[CheckpointSource] = []
    outside = read_outside(args, warnings)
    for label, notes in outside:
        sources.extend(CheckpointSource(n, label) for n in notes)
    db_rows = connection.execute(
        select(AuditCheckpoint.size, AuditCheckpoint.head_hash, AuditCheckpoint.note)
    ).all()
    sources.extend(CheckpointSource(str(r.note), "database") for r in db_rows)

    problems: list[ChainProblem] = []
    signatures_checked = args.public_key is not None and args.key_name is not None
    parsed: list[tuple[Checkpoint, CheckpointSource]] = []
    for source in sources:
        checkpoint = check_note(source, args, problems)
        if checkpoint is not None:
            parsed.append((checkpoint, source))
    for row in db_rows:
        note_cp = parsed_or_none(str(row.note)) if row.note else None
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
    in_db = {int(r.size) for r in db_rows}
    for label, _notes in outside:
        in_copy = {cp.size for cp, src in parsed if src.origin_label == label}
        for size in sorted(in_copy - in_db):
            problems.append(
                ChainProblem(
                    size,
                    "checkpoint",
                    f"checkpoint at size {size} is in {label} but missing from "
                    "the database (the checkpoint table was altered)",
                )
            )
        if label == (args.checkpoint_file.name if args.checkpoint_file else None):
            missing_in_file = sorted(in_db - in_copy)
            if missing_in_file:
                warnings.append(
                    f"{len(missing_in_file)} checkpoint(s) in the database are not in "
                    f"{label} (first: size {missing_in_file[0]}); expected only "
                    "after a crash right after a commit"
                )

    seen = args.seen
    sizes = frozenset({cp.size for cp, _ in parsed} | ({seen.size} if seen else set()))
    result = (args.parallel and _verify_parallel(connection, sizes)) or verify_rows(
        _driver_rows(connection), sizes=sizes
    )
    problems.extend(result.problems)
    count = result.problem_count + len(problems) - len(result.problems)
    verified: dict[int, Checkpoint] = {}
    signed_notes: dict[int, str] = {}
    for checkpoint, source in sorted(parsed, key=lambda item: item[0].size):
        found = compare_checkpoint(checkpoint, source.origin_label, result, verified)
        if found is None:
            verified[checkpoint.size] = checkpoint
            signed_notes[checkpoint.size] = source.note
        elif found is not SKIP:
            problems.append(found)
            count += 1
    cut = any(cp.size > result.head_seq for cp, _ in parsed)
    extra = trust_checks(
        connection, args, result, verified, signed_notes, signatures_checked and not cut
    )
    problems.extend(extra)
    count += len(extra)
    if not signatures_checked and sources:
        warnings.append("checkpoint signatures not checked (no public key given)")
    last = max(verified, default=None)
    return VerifyReport(
        events=result.events,
        head_seq=result.head_seq,
        head_hash=result.head_hash,
        problems=tuple(problems),
        problem_count=count,
        checkpoints_verified=len(verified),
        signatures_checked=signatures_checked,
        warnings=tuple(warnings),
        last_checkpoint_note=None if last is None else signed_notes[last],
    )
