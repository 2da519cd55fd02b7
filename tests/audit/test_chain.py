"""The hash chain: canonical form, hashing and detection of every kind of tampering."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.audit.chain import (
    GENESIS_HASH,
    ChainEntry,
    StoredRow,
    build_chain,
    canonical_at,
    canonical_text,
    entry_for,
    entry_hash,
    fast_canonical_text,
    verify_rows,
)
from fivesafes.audit.events import AuditEvent, Outcome
from fivesafes.errors import ValidationError

# any unicode, quotes and control characters included; but not blank (refused, tested below)
text = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() != "")
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
events = st.builds(
    AuditEvent,
    action=text,
    actor=text,
    outcome=st.sampled_from(list(Outcome)),
    area=st.none() | text,
    dataset=st.none() | text,
    subject=st.none() | text,
    details=st.dictionaries(st.text(max_size=5), json_value, max_size=4),
    at=st.datetimes(timezones=st.just(UTC)),
)

# The machine is shared: a slow example is load, not a bug (no timing assertions).
SLOW_OK = [HealthCheck.too_slow]

# Lighter events for the tampering properties: the chain logic, not the JSON, is under test.
small = st.text(alphabet='ab"\\é\n', min_size=1, max_size=4).filter(lambda s: s.strip() != "")
light_events = st.builds(
    AuditEvent,
    action=small,
    actor=small,
    area=st.none() | small,
    details=st.dictionaries(st.sampled_from("abc"), st.integers(), max_size=2),
)


def rows_of(chain: list[tuple[ChainEntry, str]]) -> list[StoredRow]:
    return [
        (
            e.seq,
            e.at,
            e.action,
            e.actor,
            e.outcome,
            e.area,
            e.dataset,
            e.subject,
            e.details,
            e.prev_hash,
            h,
        )
        for e, h in chain
    ]


@settings(deadline=None, suppress_health_check=SLOW_OK)
@given(
    st.builds(
        ChainEntry,
        st.integers(1, 10**12),
        text,
        text,
        text,
        text,
        st.none() | text,
        st.none() | text,
        st.none() | text,
        st.dictionaries(st.text(max_size=5), json_value, max_size=4).map(
            lambda d: json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        ),
        st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    )
)
def test_fast_serialisation_equals_the_reference(entry: ChainEntry) -> None:
    fast = fast_canonical_text(
        entry.seq, entry.at, entry.action, entry.actor, entry.outcome, entry.area,
        entry.dataset, entry.subject, entry.details, entry.prev_hash,
    )  # fmt: skip
    assert fast == canonical_text(entry)
    assert json.loads(fast)["seq"] == entry.seq


def test_hash_is_sha256_of_sorted_compact_json() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    entry = entry_for(
        AuditEvent("grant.approve", "alice", subject="bob", details={"b": 1, "a": [1.5]}, at=at),
        seq=1,
        prev_hash=GENESIS_HASH,
    )
    expected = json.dumps(
        {
            "action": "grant.approve",
            "actor": "alice",
            "area": None,
            "at": "2026-01-02T03:04:05.000006+00:00",
            "dataset": None,
            "details": {"a": [1.5], "b": 1},
            "outcome": "done",
            "prev_hash": GENESIS_HASH,
            "seq": 1,
            "subject": "bob",
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    assert entry_hash(entry) == hashlib.sha256(expected.encode()).hexdigest()


def test_event_time_is_normalised_to_utc_with_microseconds() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert canonical_at(datetime(2026, 5, 1, 12, 0, tzinfo=plus_two)) == (
        "2026-05-01T10:00:00.000000+00:00"
    )
    with pytest.raises(ValidationError, match="time zone"):
        canonical_at(datetime(2026, 5, 1, 12, 0))


@pytest.mark.parametrize(
    "event",
    [
        AuditEvent("", "alice"),
        AuditEvent("x.y", " "),
        AuditEvent("x.y", "alice", details={"bad": float("nan")}),
        AuditEvent("x.y", "alice", details={"bad": object()}),
        AuditEvent("x.y", "alice", outcome="maybe"),  # type: ignore[arg-type]
    ],
)
def test_bad_events_are_refused(event: AuditEvent) -> None:
    with pytest.raises(ValidationError) as info:
        entry_for(event, seq=1, prev_hash=GENESIS_HASH)
    assert info.value.hint


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW_OK)
@given(st.lists(events, min_size=1, max_size=5))
def test_an_untouched_chain_verifies(evs: list[AuditEvent]) -> None:
    chain = build_chain(evs)
    # the hashes are those of the reference serialisation, which the verifier accepts
    for entry, digest in chain:
        assert digest == hashlib.sha256(canonical_text(entry).encode()).hexdigest()
    result = verify_rows(rows_of(chain), sizes={len(evs)})
    assert result.ok and result.problems == ()
    assert result.events == result.head_seq == len(evs)
    assert result.head_hash == chain[-1][1]
    assert result.recomputed_at == {len(evs): chain[-1][1]}


TAMPER_FIELDS = {"action": 2, "actor": 3, "area": 5, "details": 8, "at": 1}


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(
    st.lists(light_events, min_size=2, max_size=8),
    st.data(),
    st.sampled_from(sorted(TAMPER_FIELDS)),
)
def test_any_modified_event_is_named(evs: list[AuditEvent], data: st.DataObject, name: str) -> None:
    rows = rows_of(build_chain(evs))
    i = data.draw(st.integers(0, len(rows) - 1))
    row = list(rows[i])
    column = TAMPER_FIELDS[name]
    row[column] = '{"forged":true}' if name == "details" else f"{row[column]}X"
    rows[i] = tuple(row)  # type: ignore[assignment]
    result = verify_rows(rows)
    assert not result.ok
    assert result.problems[0].seq == i + 1
    assert result.problems[0].kind == "modified"
    assert result.problem_count == 1  # named once, not at every later event


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(st.lists(light_events, min_size=3, max_size=8), st.data())
def test_a_modified_event_with_a_recomputed_hash_breaks_the_next_link(
    evs: list[AuditEvent], data: st.DataObject
) -> None:
    chain = build_chain(evs)
    i = data.draw(st.integers(0, len(chain) - 2))
    entry, _ = chain[i]
    forged = replace(entry, actor=entry.actor + "X")
    chain[i] = (forged, entry_hash(forged))
    result = verify_rows(rows_of(chain), sizes={len(chain)})
    assert [p.seq for p in result.problems] == [i + 2]
    assert result.problems[0].kind == "broken_link"
    # the content-only recomputation no longer reaches the stored head
    assert result.recomputed_at[len(chain)] != chain[-1][1]


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(st.lists(light_events, min_size=2, max_size=8), st.data())
def test_a_deleted_event_is_named(evs: list[AuditEvent], data: st.DataObject) -> None:
    rows = rows_of(build_chain(evs))
    i = data.draw(st.integers(0, len(rows) - 2))  # the last one needs a checkpoint
    del rows[i]
    result = verify_rows(rows)
    assert result.problems[0].seq == i + 1
    assert result.problems[0].kind == "missing"


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(st.lists(light_events, min_size=2, max_size=8), st.data())
def test_deleted_and_renumbered_events_are_detected(
    evs: list[AuditEvent], data: st.DataObject
) -> None:
    rows = rows_of(build_chain(evs))
    i = data.draw(st.integers(0, len(rows) - 2))
    del rows[i]
    rows = [(k + 1, *r[1:]) for k, r in enumerate(rows)]  # type: ignore[misc]
    result = verify_rows(rows)
    assert not result.ok
    assert result.problems[0].seq == i + 1


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(st.lists(light_events, min_size=1, max_size=8), light_events, st.data())
def test_an_inserted_event_is_detected(
    evs: list[AuditEvent], extra: AuditEvent, data: st.DataObject
) -> None:
    chain = build_chain(evs)
    i = data.draw(st.integers(0, len(chain) - 1))
    # The forger chains the new event correctly after event i and renumbers the rest.
    prev = chain[i - 1][1] if i else GENESIS_HASH
    forged = entry_for(extra, seq=i + 1, prev_hash=prev)
    rows = rows_of(chain)
    renumbered = [(r[0] + 1, *r[1:]) for r in rows[i:]]
    rows = [*rows[:i], *rows_of([(forged, entry_hash(forged))]), *renumbered]  # type: ignore[list-item]
    result = verify_rows(rows)
    assert not result.ok
    assert result.problems[0].seq == i + 2  # the first original event that no longer fits


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(st.lists(light_events, min_size=2, max_size=8), st.data())
def test_reordered_events_are_detected(evs: list[AuditEvent], data: st.DataObject) -> None:
    rows = rows_of(build_chain(evs))
    i = data.draw(st.integers(0, len(rows) - 2))
    j = data.draw(st.integers(i + 1, len(rows) - 1))
    # swap the contents, keeping seq in place (what a reorder in a table looks like)
    a, b = rows[i], rows[j]
    rows[i], rows[j] = (a[0], *b[1:]), (b[0], *a[1:])  # type: ignore[assignment]
    result = verify_rows(rows)
    assert not result.ok
    assert result.problems[0].seq == i + 1


def test_problems_are_capped_but_counted() -> None:
    evs = [AuditEvent("x.y", "a") for _ in range(150)]
    rows = [(r[0], r[1], "forged", *r[3:]) for r in rows_of(build_chain(evs))]
    result = verify_rows(rows)  # type: ignore[arg-type]
    assert result.problem_count == 150
    assert len(result.problems) == 100
