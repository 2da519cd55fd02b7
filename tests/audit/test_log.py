"""The audit log in the database, on SQLite and PostgreSQL: append, query, verify, tamper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from fivesafes.audit.chain import GENESIS_HASH, build_chain
from fivesafes.audit.events import AuditEvent, Outcome
from fivesafes.audit.log import (
    CHECKPOINTER,
    Checkpointer,
    append_event,
    create_checkpoint,
    event_of,
    query_events,
    read_checkpoint_file,
    verify_chain,
)
from fivesafes.errors import IntegrityError, ValidationError
from fivesafes.store.db import session_factory, transaction

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ORIGIN = "fivesafes/test"


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def checkpointer(key: Ed25519PrivateKey, tmp_path: Path) -> Checkpointer:
    # every_transaction=False: these tests are about the every-N rule alone.
    return Checkpointer(
        key, ORIGIN, every=3, log_path=tmp_path / "checkpoints.log", every_transaction=False
    )


def event(i: int, **kw: object) -> AuditEvent:
    base: dict[str, object] = {
        "action": "test.step",
        "actor": "alice",
        "details": {"i": i},
        "at": T0 + timedelta(minutes=i),
    }
    base.update(kw)
    return AuditEvent(**base)  # type: ignore[arg-type]


def append_many(engine: Engine, n: int, checkpointer: Checkpointer | None = None) -> None:
    info = {CHECKPOINTER: checkpointer} if checkpointer else {}
    for i in range(n):
        with transaction(session_factory(engine, **info)) as session:
            append_event(session, event(i))


def verify(  # type: ignore[no-untyped-def]
    engine: Engine,
    key: Ed25519PrivateKey | None = None,
    file: Path | None = None,
    parallel: bool = False,
):
    return verify_chain(
        engine,
        public_key=key.public_key() if key else None,
        key_name=ORIGIN if key else None,
        checkpoint_file=file,
        parallel=parallel,
    )


def tamper(engine: Engine, *statements: str) -> None:
    """Change stored rows as an attacker with direct database access would."""
    with engine.begin() as connection:
        pg = connection.dialect.name == "postgresql"
        if pg:  # the table owner can switch the append-only triggers off
            for table in ("audit_log", "audit_checkpoint"):
                connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for statement in statements:
            connection.exec_driver_sql(statement)
        if pg:
            for table in ("audit_log", "audit_checkpoint"):
                connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def test_appends_build_a_linked_chain(engine: Engine) -> None:
    with transaction(engine) as session:
        first = append_event(session, event(0))
        second = append_event(session, event(1, outcome=Outcome.DENIED, area="census"))
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash
    expected = [
        h for _, h in build_chain([event(0), event(1, outcome=Outcome.DENIED, area="census")])
    ]
    assert [first.hash, second.hash] == expected
    with session_factory(engine)() as session:
        stored = query_events(session)
        assert [event_of(r) for r in stored] == [
            event(0),
            event(1, outcome=Outcome.DENIED, area="census"),
        ]
    report = verify(engine)
    assert report.ok and report.events == 2 and report.head_hash == second.hash


def test_append_never_commits_on_its_own(engine: Engine) -> None:
    with pytest.raises(RuntimeError), transaction(engine) as session:
        append_event(session, event(0))
        raise RuntimeError("the service's change failed")
    with session_factory(engine)() as session:
        assert query_events(session) == []


def test_a_bad_event_writes_nothing(engine: Engine) -> None:
    append_many(engine, 1)
    with pytest.raises(ValidationError), transaction(engine) as session:
        append_event(session, event(1, details={"x": float("inf")}))
    with session_factory(engine)() as session:
        assert len(query_events(session)) == 1


def test_query_filters(engine: Engine) -> None:
    with transaction(engine) as session:
        append_event(session, event(0, action="grant.request", actor="alice", subject="bob"))
        append_event(
            session, event(1, action="grant.approve", actor="carol", subject="bob", area="census")
        )
        append_event(
            session, event(2, action="access.decide", actor="bob", area="census", dataset="c21")
        )
        append_event(session, event(3, action="access.decide", actor="dave", area="trade"))
    with session_factory(engine)() as session:

        def seqs(**kw: object) -> list[int]:
            return [r.seq for r in query_events(session, **kw)]  # type: ignore[arg-type]

        assert seqs(person="bob") == [1, 2, 3]
        assert seqs(actor="bob") == [3]
        assert seqs(subject="bob") == [1, 2]
        assert seqs(area="census") == [2, 3]
        assert seqs(dataset="c21") == [3]
        assert seqs(action="access.decide") == [3, 4]
        assert seqs(action="grant.*") == [1, 2]
        assert seqs(since=T0 + timedelta(minutes=1)) == [2, 3, 4]
        assert seqs(until=T0 + timedelta(minutes=1)) == [1]
        assert seqs(since="2026-03-01T09:01", until="2026-03-01T09:03") == [2, 3]
        assert seqs(limit=2, newest_first=True) == [4, 3]
        assert seqs(person="nobody") == []
        with pytest.raises(ValidationError, match="not a date"):
            query_events(session, since="yesterday")


def test_automatic_checkpoints_every_n_events(
    engine: Engine, checkpointer: Checkpointer, key: Ed25519PrivateKey
) -> None:
    append_many(engine, 7, checkpointer)
    with engine.connect() as connection:
        sizes = [
            r[0]
            for r in connection.execute(text("SELECT size FROM audit_checkpoint ORDER BY size"))
        ]
    assert sizes == [3, 6]
    assert checkpointer.log_path is not None
    notes, warnings = read_checkpoint_file(checkpointer.log_path)
    assert len(notes) == 2 and warnings == []
    report = verify(engine, key, checkpointer.log_path)
    assert report.ok, report.problems
    assert report.checkpoints_verified == 2 and report.signatures_checked


def test_a_rolled_back_checkpoint_leaves_no_trace(
    engine: Engine, checkpointer: Checkpointer
) -> None:
    append_many(engine, 2, checkpointer)
    with (
        pytest.raises(RuntimeError),
        transaction(session_factory(engine, **{CHECKPOINTER: checkpointer})) as session,
    ):
        append_event(session, event(2))  # the third event triggers a checkpoint...
        raise RuntimeError("...but the transaction fails")
    assert checkpointer.log_path is not None and not checkpointer.log_path.exists()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_checkpoint")).scalar() == 0


def test_on_demand_checkpoint_is_idempotent(engine: Engine, checkpointer: Checkpointer) -> None:
    with transaction(engine) as session:
        assert create_checkpoint(session, checkpointer) is None  # empty log
    append_many(engine, 1)
    with transaction(engine) as session:
        first = create_checkpoint(session, checkpointer)
    with transaction(engine) as session:
        again = create_checkpoint(session, checkpointer)
    assert first is not None and again is not None and first.size == again.size == 1


def test_modified_event_is_named(
    engine: Engine, checkpointer: Checkpointer, key: Ed25519PrivateKey
) -> None:
    append_many(engine, 8, checkpointer)
    tamper(engine, "UPDATE audit_log SET details = '{\"i\":99}' WHERE seq = 5")
    report = verify(engine, key, checkpointer.log_path)
    assert not report.ok
    assert report.first_bad is not None and report.first_bad.seq == 5
    assert report.first_bad.kind == "modified"
    with pytest.raises(IntegrityError, match="event 5"):
        report.raise_if_bad()


def test_deleted_event_is_named(engine: Engine) -> None:
    append_many(engine, 6)
    tamper(engine, "DELETE FROM audit_log WHERE seq = 4")
    report = verify(engine)
    assert report.first_bad is not None
    assert (report.first_bad.seq, report.first_bad.kind) == (4, "missing")


def test_swapped_events_are_named(engine: Engine) -> None:
    append_many(engine, 6)
    tamper(
        engine,
        "UPDATE audit_log SET seq = -1 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = -1",
    )
    report = verify(engine)
    assert report.first_bad is not None and report.first_bad.seq == 2


def test_deleted_tail_is_caught_by_a_checkpoint(
    engine: Engine, checkpointer: Checkpointer, key: Ed25519PrivateKey
) -> None:
    append_many(engine, 6, checkpointer)
    tamper(engine, "DELETE FROM audit_log WHERE seq >= 5")
    report = verify(engine, key, checkpointer.log_path)
    assert report.first_bad is not None
    assert (report.first_bad.seq, report.first_bad.kind) == (5, "missing")


def test_rewriting_the_whole_chain_is_caught_by_the_checkpoints(
    engine: Engine, checkpointer: Checkpointer, key: Ed25519PrivateKey
) -> None:
    append_many(engine, 6, checkpointer)
    # The attacker rebuilds a valid chain with one event changed, and also deletes
    # the database checkpoints (without the key they cannot sign new ones).
    forged = [event(i) for i in range(6)]
    forged[1] = event(1, actor="mallory")
    statements = ["DELETE FROM audit_log", "DELETE FROM audit_checkpoint"]
    for entry, digest in build_chain(forged):
        statements.append(
            "INSERT INTO audit_log (seq, at, action, actor, outcome, area, dataset, subject, "
            f"details, prev_hash, hash) VALUES ({entry.seq}, '{entry.at}', '{entry.action}', "
            f"'{entry.actor}', '{entry.outcome}', NULL, NULL, NULL, '{entry.details}', "
            f"'{entry.prev_hash}', '{digest}')"
        )
    tamper(engine, *statements)
    assert verify(engine).ok  # the chain alone looks fine...
    report = verify(engine, key, checkpointer.log_path)  # ...the file outside the database does not
    assert not report.ok
    assert {p.kind for p in report.problems} == {"checkpoint"}
    assert report.first_bad is not None and report.first_bad.seq == 1
    assert "events 1..3" in report.first_bad.message


def test_a_forged_checkpoint_is_refused(
    engine: Engine, checkpointer: Checkpointer, key: Ed25519PrivateKey
) -> None:
    append_many(engine, 2)
    mallory = Checkpointer(Ed25519PrivateKey.generate(), ORIGIN, every=100)
    with transaction(engine) as session:
        create_checkpoint(session, mallory)
    report = verify(engine, key)
    assert not report.ok and report.first_bad is not None
    assert (
        report.first_bad.kind == "checkpoint" and "no valid signature" in report.first_bad.message
    )


def test_unchecked_signatures_are_reported_as_a_warning(
    engine: Engine, checkpointer: Checkpointer
) -> None:
    append_many(engine, 3, checkpointer)
    report = verify(engine)
    assert report.ok and not report.signatures_checked
    assert any("not checked" in w for w in report.warnings)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'mallory'",
        "DELETE FROM audit_log WHERE seq = 1",
        "TRUNCATE audit_log",
        "UPDATE audit_checkpoint SET head_hash = 'x'",
        "DELETE FROM audit_checkpoint",
        "TRUNCATE audit_checkpoint",
    ],
)
def test_postgres_triggers_refuse_changes(
    pg_url: str, statement: str, checkpointer: Checkpointer
) -> None:
    from sqlalchemy.exc import DBAPIError

    from fivesafes.store.db import make_engine, migrate

    engine = make_engine(pg_url)
    try:
        migrate(engine)
        append_many(engine, 3, checkpointer)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.exec_driver_sql(statement)
        assert verify(engine).ok and verify(engine).events == 3
    finally:
        engine.dispose()


def test_parallel_verification_agrees_with_one_pass(
    engine: Engine,
    checkpointer: Checkpointer,
    key: Ed25519PrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from fivesafes.audit import verify as audit_verify

    append_many(engine, 12, checkpointer)
    one_pass = verify(engine, key, checkpointer.log_path)
    monkeypatch.setattr(audit_verify, "PARALLEL_FROM", 5)
    monkeypatch.setattr(audit_verify.os, "cpu_count", lambda: 3)
    # threads stand in for the worker processes (the same function runs in each)
    monkeypatch.setattr(audit_verify, "_executor", lambda n: ThreadPoolExecutor(n))
    parallel = verify(engine, key, checkpointer.log_path, parallel=True)
    assert parallel == one_pass and parallel.ok and parallel.checkpoints_verified == 4
    # a problem in any range falls back to one pass, for an exact report
    tamper(engine, "DELETE FROM audit_log WHERE seq = 9")
    report = verify(engine, key, checkpointer.log_path, parallel=True)
    assert report.first_bad is not None and report.first_bad.seq == 9


def test_parallel_verification_in_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fivesafes.audit import verify as audit_verify
    from fivesafes.store.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        migrate(engine)
        append_many(engine, 8)
        monkeypatch.setattr(audit_verify, "PARALLEL_FROM", 5)
        monkeypatch.setattr(audit_verify.os, "cpu_count", lambda: 2)
        with engine.connect() as connection:
            result = audit_verify._verify_parallel(connection, frozenset({8}))
        assert result is not None and result.ok and result.events == 8
        assert result.recomputed_at[8] == verify(engine).head_hash
    finally:
        engine.dispose()


def test_a_malformed_checkpoint_row_is_reported_not_raised(
    engine: Engine, checkpointer: Checkpointer, key: Ed25519PrivateKey
) -> None:
    append_many(engine, 6, checkpointer)
    tamper(engine, "UPDATE audit_checkpoint SET note = 'garbage' WHERE size = 3")
    report = verify(engine, key, checkpointer.log_path)
    assert not report.ok and report.first_bad is not None
    assert report.first_bad.kind == "checkpoint" and "malformed" in report.first_bad.message


def test_a_checkpoint_file_that_cannot_be_written_does_not_fail_the_commit(
    engine: Engine, key: Ed25519PrivateKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # every_transaction=True (the workspace default): signed at the commit
    signer = Checkpointer(key, ORIGIN, every=1000, log_path=tmp_path / "no-such-dir" / "c.log")
    append_many(engine, 2, signer)
    assert "checkpoint not written" in capsys.readouterr().err
    report = verify(engine, key)
    assert report.ok and report.checkpoints_verified == 2


def test_every_commit_that_appended_is_signed_and_a_rollback_signs_nothing(
    engine: Engine, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    signer = Checkpointer(key, ORIGIN, every=1000, log_path=tmp_path / "c.log")
    factory = session_factory(engine, **{CHECKPOINTER: signer})
    with transaction(factory) as session:  # two events, one commit: one checkpoint
        append_event(session, event(0))
        append_event(session, event(1))
    with transaction(factory) as session:  # no event: nothing to sign
        pass
    with pytest.raises(RuntimeError), transaction(factory) as session:
        append_event(session, event(2))
        raise RuntimeError("rolled back")
    append_many(engine, 1, signer)
    with engine.connect() as connection:
        sizes = [r[0] for r in connection.execute(text("SELECT size FROM audit_checkpoint"))]
    assert sorted(sizes) == [2, 3]
    assert len(read_checkpoint_file(tmp_path / "c.log")[0]) == 2
    tamper(engine, "DELETE FROM audit_log WHERE seq = 3")  # the tail cut
    report = verify(engine, key, tmp_path / "c.log")
    assert report.first_bad is not None and report.first_bad.kind == "missing"
