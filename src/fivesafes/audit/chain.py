"""The hash chain of the audit log: canonical serialisation, hashing, verification.

Pure functions, no database. Each event's hash is SHA-256 over the compact,
sorted-key JSON of its fields (seq, at, action, actor, outcome, area, dataset,
subject, details, prev_hash); ``prev_hash`` is the previous event's hash, so
changing, removing, inserting or swapping any event breaks the chain at that
point. The first event's ``prev_hash`` is :data:`GENESIS_HASH`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring  # the C-accelerated escaper json.dumps uses
from typing import Any

from fivesafes.audit.events import AuditEvent, Outcome
from fivesafes.errors import ValidationError

GENESIS_HASH = "0" * 64
MAX_PROBLEMS = 100  # enough to see a pattern; the count of all problems is kept

# One stored event as the database returns it, in this column order.
StoredRow = tuple[int, str, str, str, str, str | None, str | None, str | None, str, str, str]
ROW_COLUMNS = (
    "seq",
    "at",
    "action",
    "actor",
    "outcome",
    "area",
    "dataset",
    "subject",
    "details",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class ChainEntry:
    """The hashed fields of one event, already in canonical text form."""

    seq: int
    at: str
    action: str
    actor: str
    outcome: str
    area: str | None
    dataset: str | None
    subject: str | None
    details: str  # canonical JSON text of the details object
    prev_hash: str


def canonical_at(at: datetime) -> str:
    """The event time as UTC ISO 8601 with microseconds; naive times are refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError(
            f"audit event time {at!r} has no time zone",
            hint="build the event time with datetime.now(UTC) or another aware datetime",
        )
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_details(details: Mapping[str, Any]) -> str:
    """The details object as compact sorted-key JSON (no NaN, no infinities)."""
    try:
        return json.dumps(
            details,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"audit event details are not plain JSON: {exc}",
            hint="pass only str, int, finite float, bool, None, lists and str-keyed dicts",
        ) from None


def _check_text(name: str, value: str | None, *, required: bool) -> None:
    if value is None:
        if required:
            raise ValidationError(f"audit event {name} is missing", hint=f"give the {name}")
        return
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationError(
            f"audit event {name} must be a non-empty string, got {value!r}",
            hint=f"give the {name} as text",
        )


def entry_for(event: AuditEvent, *, seq: int, prev_hash: str) -> ChainEntry:
    """The chain entry of ``event`` placed at ``seq`` after ``prev_hash``; validates the event."""
    _check_text("action", event.action, required=True)
    _check_text("actor", event.actor, required=True)
    for name in ("area", "dataset", "subject"):
        _check_text(name, getattr(event, name), required=False)
    if not isinstance(event.details, Mapping):
        raise ValidationError("audit event details must be a dict", hint="pass a dict")
    try:
        outcome = Outcome(event.outcome).value
    except ValueError:
        raise ValidationError(
            f"unknown audit outcome {event.outcome!r}",
            hint="use one of " + ", ".join(o.value for o in Outcome),
        ) from None
    details = canonical_details(event.details)
    return ChainEntry(
        seq=seq,
        at=canonical_at(event.at),
        action=event.action,
        actor=event.actor,
        outcome=outcome,
        area=event.area,
        dataset=event.dataset,
        subject=event.subject,
        details=details,
        prev_hash=prev_hash,
    )


def canonical_text(entry: ChainEntry) -> str:
    """The reference canonical serialisation: sorted-key compact JSON of the hashed fields."""
    return json.dumps(
        {
            "seq": entry.seq,
            "at": entry.at,
            "action": entry.action,
            "actor": entry.actor,
            "outcome": entry.outcome,
            "area": entry.area,
            "dataset": entry.dataset,
            "subject": entry.subject,
            "details": json.loads(entry.details),
            "prev_hash": entry.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def fast_canonical_text(
    seq: int,
    at: str,
    action: str,
    actor: str,
    outcome: str,
    area: str | None,
    dataset: str | None,
    subject: str | None,
    details: str,
    prev_hash: str,
) -> str:
    """The same text as :func:`canonical_text`, assembled without re-parsing ``details``.

    Keys in sorted order; ``details`` must already be canonical JSON (it is, when
    written by :func:`entry_for`); a test checks both functions agree.
    """
    esc = encode_basestring
    return (
        f'{{"action":{esc(action)},"actor":{esc(actor)},'
        f'"area":{"null" if area is None else esc(area)},"at":{esc(at)},'
        f'"dataset":{"null" if dataset is None else esc(dataset)},"details":{details},'
        f'"outcome":{esc(outcome)},"prev_hash":{esc(prev_hash)},"seq":{seq},'
        f'"subject":{"null" if subject is None else esc(subject)}}}'
    )


def entry_hash(entry: ChainEntry) -> str:
    """SHA-256 (hex) of the entry's canonical serialisation."""
    text = fast_canonical_text(
        entry.seq,
        entry.at,
        entry.action,
        entry.actor,
        entry.outcome,
        entry.area,
        entry.dataset,
        entry.subject,
        entry.details,
        entry.prev_hash,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_chain(
    events: Iterable[AuditEvent], *, start_seq: int = 1, prev_hash: str = GENESIS_HASH
) -> list[tuple[ChainEntry, str]]:
    """Chain ``events`` after (start_seq - 1, prev_hash): entries with their hashes."""
    out: list[tuple[ChainEntry, str]] = []
    seq = start_seq
    for event in events:
        entry = entry_for(event, seq=seq, prev_hash=prev_hash)
        prev_hash = entry_hash(entry)
        out.append((entry, prev_hash))
        seq += 1
    return out


@dataclass(frozen=True)
class ChainProblem:
    """One thing wrong with the stored chain, at the event ``seq`` where it shows."""

    seq: int
    kind: str  # "modified", "missing", "broken_link", "order", "checkpoint"
    message: str


@dataclass(frozen=True)
class ChainResult:
    """What walking the stored chain found."""

    events: int
    head_seq: int
    head_hash: str
    problems: tuple[ChainProblem, ...]
    problem_count: int
    # Hash the chain *should* have at the requested sizes, recomputed from content
    # (not read from storage), so a checkpoint can be compared against it.
    recomputed_at: Mapping[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return self.problem_count == 0


def verify_rows(
    rows: Iterable[StoredRow],
    *,
    sizes: Collection[int] = (),
    after_seq: int = 0,
    after_hash: str = GENESIS_HASH,
) -> ChainResult:
    """Walk stored rows in seq order and report every break of the chain.

    Each event is checked on its own (its content hashes to its stored hash; its
    prev_hash is the stored hash of the event before; seq has no gap), so a
    single change is named once, at the event where it happened. ``after_seq``
    and ``after_hash`` start the walk in the middle of a chain (a range of it
    verified in parallel), after the event with that seq and stored hash.
    """
    wanted = set(sizes)
    recomputed: dict[int, str] = {}
    problems: list[ChainProblem] = []
    count = 0
    expected = after_seq + 1
    prev_stored = after_hash
    strict = after_hash  # the hash chain recomputed from content alone
    sha256 = hashlib.sha256
    esc = encode_basestring

    def report(problem: ChainProblem) -> None:
        nonlocal count
        count += 1
        if len(problems) < MAX_PROBLEMS:
            problems.append(problem)

    events = 0
    last_seq = after_seq
    for seq, at, action, actor, outcome, area, dataset, subject, details, prev, stored in rows:
        events += 1
        gap = False
        if seq != expected:
            if seq > expected:
                gap = True
                span = (
                    f"event {expected}" if seq == expected + 1 else f"events {expected}..{seq - 1}"
                )
                report(
                    ChainProblem(
                        expected, "missing", f"{span} missing: the chain jumps to event {seq}"
                    )
                )
            else:
                report(ChainProblem(seq, "order", f"event {seq} appears after event {last_seq}"))
        if prev != prev_stored and not gap:
            report(
                ChainProblem(
                    seq,
                    "broken_link",
                    f"event {seq} does not link to event {seq - 1}: an event was inserted, "
                    "removed or reordered before it, or its prev_hash was changed",
                )
            )
        # fast_canonical_text, inlined: this loop runs once per event (millions).
        head = (
            f'{{"action":{esc(action)},"actor":{esc(actor)},'
            f'"area":{"null" if area is None else esc(area)},"at":{esc(at)},'
            f'"dataset":{"null" if dataset is None else esc(dataset)},"details":{details},'
            f'"outcome":{esc(outcome)},"prev_hash":'
        )
        tail = f',"seq":{seq},"subject":{"null" if subject is None else esc(subject)}}}'
        computed = sha256(f"{head}{esc(prev)}{tail}".encode()).hexdigest()
        if computed != stored:
            report(
                ChainProblem(
                    seq,
                    "modified",
                    f"event {seq} ({action} by {actor} at {at}) was modified: "
                    "its content does not match its hash",
                )
            )
        if prev == strict:
            strict = computed
        else:
            strict = sha256(f"{head}{esc(strict)}{tail}".encode()).hexdigest()
        if seq in wanted:
            recomputed[seq] = strict
        prev_stored = stored
        last_seq = seq
        expected = seq + 1
    return ChainResult(
        events=events,
        head_seq=last_seq,
        head_hash=prev_stored,
        problems=tuple(problems),
        problem_count=count,
        recomputed_at=recomputed,
    )
