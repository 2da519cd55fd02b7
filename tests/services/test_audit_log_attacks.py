"""The audit log under attack (issue 14), on SQLite and PostgreSQL, through verify_log.

Each test reproduces an attack that passed on the old code: a tail cut by SQL, a
re-hashed chain with every checkpoint deleted, events appended without a signature,
a cut hidden by deleting the checkpoints too (caught by the verifier's state and by a
witness), and a rewritten genesis event that switched a real workspace to demo identity.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from audit_tampering import (
    append_unsigned,
    drop_checkpoint_lines,
    rehash,
    stored_events,
    tamper,
)
from sqlalchemy import text

from fivesafes.audit.events import AuditEvent
from fivesafes.audit.log import append_event
from fivesafes.errors import IdentityError, IntegrityError
from fivesafes.services.audit_log import verify_log
from fivesafes.workspace import Workspace, create_workspace
from fivesafes.workspace.identity import current_identity

TRANSACTIONS = 6


@pytest.fixture
def db_workspace(db_workspace: Workspace) -> Workspace:
    """The demo workspace, signing at every commit (no batching: exact checkpoint counts)."""
    return Workspace(db_workspace.home, {**db_workspace.config, "checkpoint_batch_ms": 0})


def _work(ws: Workspace, transactions: int = TRANSACTIONS) -> None:
    """Several service transactions, each appending two events."""
    for i in range(transactions):
        with ws.transaction() as session:
            for j in range(2):
                append_event(
                    session, AuditEvent("test.step", actor="alice", details={"i": i, "j": j})
                )


def _kinds(ws: Workspace, **kw: object) -> set[str]:
    report = verify_log(ws, **kw)  # type: ignore[arg-type]
    assert not report.ok
    return {p.kind for p in report.problems}


def test_an_intact_workspace_log_verifies(db_workspace: Workspace) -> None:
    _work(db_workspace)
    report = verify_log(db_workspace)
    assert report.ok, report.problems
    # one checkpoint per transaction: the creation and each of the six
    assert report.checkpoints_verified == TRANSACTIONS + 1
    assert report.head_seq == 1 + 2 * TRANSACTIONS


def test_a_tail_cut_by_sql_is_detected(db_workspace: Workspace) -> None:
    _work(db_workspace)
    n = 1 + 2 * TRANSACTIONS
    tamper(db_workspace.engine(), f"DELETE FROM audit_log WHERE seq > {n - 3}")
    report = verify_log(db_workspace)
    assert not report.ok and report.first_bad is not None
    assert (report.first_bad.seq, report.first_bad.kind) == (n - 2, "missing")


def test_a_rehashed_chain_without_any_checkpoint_is_detected(db_workspace: Workspace) -> None:
    _work(db_workspace)

    def forge(events: list[AuditEvent]) -> list[AuditEvent]:
        events[3] = replace(events[3], actor="mallory")
        return events

    rehash(db_workspace.engine(), forge, checkpoint_file=db_workspace.checkpoint_log_path)
    report = verify_log(db_workspace)
    assert not report.ok
    assert {p.kind for p in report.problems} == {"checkpoint", "genesis"}
    assert any("no valid signed checkpoint" in p.message for p in report.problems)
    with pytest.raises(IntegrityError, match="tampered"):
        report.raise_if_bad()


def test_events_appended_without_a_signature_are_detected(db_workspace: Workspace) -> None:
    _work(db_workspace, 2)
    append_unsigned(db_workspace.engine(), AuditEvent("grant.approve", actor="mallory"))
    assert _kinds(db_workspace) == {"unsigned"}


def _cut_with_checkpoints(ws: Workspace, keep: int) -> None:
    """Cut the tail and every checkpoint above it, in the table and the file."""
    tamper(
        ws.engine(),
        f"DELETE FROM audit_log WHERE seq > {keep}",
        f"DELETE FROM audit_checkpoint WHERE size > {keep}",
    )
    drop_checkpoint_lines(ws.checkpoint_log_path, keep)


def test_the_verifier_state_catches_a_cut_hidden_with_its_checkpoints(
    db_workspace: Workspace, tmp_path: Path
) -> None:
    state = tmp_path / "verifier" / "state.json"
    _work(db_workspace)
    first = verify_log(db_workspace, state_path=state)
    assert first.ok and any("pinned" in w for w in first.warnings)
    saved = json.loads(state.read_text())
    assert saved["origin"] == db_workspace.origin and state.stat().st_mode & 0o077 == 0
    _cut_with_checkpoints(db_workspace, keep=5)  # keep = the head after two transactions
    # Inside the workspace everything now agrees: only the verifier's memory shows the cut.
    assert verify_log(db_workspace).ok
    report = verify_log(db_workspace, state_path=state)
    assert not report.ok and report.first_bad is not None
    assert report.first_bad.kind == "missing" and "state file" in report.first_bad.message
    assert json.loads(state.read_text()) == saved  # a failed run does not move the state


def test_the_state_moves_forward_and_pins_the_key(db_workspace: Workspace, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    _work(db_workspace, 1)
    assert verify_log(db_workspace, state_path=state).ok
    _work(db_workspace, 1)
    assert verify_log(db_workspace, state_path=state).ok
    assert "\n5\n" in json.loads(state.read_text())["note"]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    with pytest.raises(IntegrityError, match="not the one pinned"):
        verify_log(
            db_workspace,
            state_path=state,
            public_key=Ed25519PrivateKey.generate().public_key(),
        )


def test_a_witness_catches_a_cut_hidden_with_its_checkpoints(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    witness = tmp_path / "witness"
    witness.mkdir()
    ws = create_workspace(tmp_path / "ws", demo_identity=True, database_url=db_url)
    ws = Workspace(
        ws.home, {**ws.config, "audit_witnesses": [str(witness)], "checkpoint_batch_ms": 0}
    )
    try:
        _work(ws)
        (copy,) = witness.iterdir()
        assert len(copy.read_text().splitlines()) == TRANSACTIONS
        assert verify_log(ws, witnesses=[witness]).ok
        _cut_with_checkpoints(ws, keep=5)
        assert verify_log(ws).ok  # nothing inside the workspace shows it
        report = verify_log(ws, witnesses=[witness])
        assert not report.ok and report.first_bad is not None
        assert report.first_bad.kind == "missing" and "witness" in report.first_bad.message
    finally:
        ws.close()


def test_a_command_witness_gets_every_commit(tmp_path: Path, db_url: str) -> None:
    out = tmp_path / "shipped.log"
    script = tmp_path / "ship.sh"
    script.write_text(f"#!/bin/sh\ncat >> {out}\n")
    script.chmod(0o700)
    ws = create_workspace(tmp_path / "ws", demo_identity=True, database_url=db_url)
    ws = Workspace(
        ws.home, {**ws.config, "audit_witnesses": [f"command:{script}"], "checkpoint_batch_ms": 0}
    )
    try:
        _work(ws, 3)
        assert len(out.read_text().splitlines()) == 3
        assert verify_log(ws, witnesses=[out]).ok
    finally:
        ws.close()


def test_a_failing_witness_does_not_undo_the_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = create_workspace(tmp_path / "ws", demo_identity=True)
    ws = Workspace(
        ws.home, {**ws.config, "audit_witnesses": ["command:false"], "checkpoint_batch_ms": 0}
    )
    try:
        _work(ws, 1)
        assert "witness false did not receive the checkpoint" in capsys.readouterr().err
        assert verify_log(ws).ok and verify_log(ws).head_seq == 3
    finally:
        ws.close()


def _make_demo(events: list[AuditEvent]) -> list[AuditEvent]:
    details = {**events[0].details, "demo_identity": True}
    events[0] = replace(events[0], details=details)
    return events


@pytest.mark.parametrize("delete_checkpoints", [True, False])
def test_a_rewritten_genesis_does_not_switch_a_real_workspace_to_demo_identity(
    db_url: str, tmp_path: Path, delete_checkpoints: bool
) -> None:
    ws = create_workspace(tmp_path / "real", database_url=db_url)
    ws = Workspace(ws.home, {**ws.config, "checkpoint_batch_ms": 0})
    try:
        _work(ws, 2)
        engine = ws.engine()
        if delete_checkpoints:
            rehash(engine, _make_demo, checkpoint_file=ws.checkpoint_log_path)
        else:  # keep the (now unmatched) checkpoints: a rewrite of event 1 alone
            events = _make_demo(stored_events(engine))
            with engine.connect() as connection:
                keep = connection.execute(text("SELECT * FROM audit_checkpoint")).all()
            rehash(engine, lambda _: events)
            with engine.begin() as connection:
                for row in keep:
                    connection.execute(
                        text("INSERT INTO audit_checkpoint VALUES (:a, :b, :c, :d)"),
                        dict(zip("abcd", row, strict=True)),
                    )
        with engine.connect() as connection:
            genesis = connection.execute(text("SELECT details FROM audit_log WHERE seq = 1"))
            assert json.loads(genesis.scalar_one())["demo_identity"]
        # ... and the attacker flips the config file too
        forged = Workspace(ws.home, {**ws.config, "demo_identity": True})
        with pytest.raises(IdentityError, match="was not created"):
            current_identity(forged, environ={"FIVESAFES_USER": "admin"})
        assert "genesis" in {p.kind for p in verify_log(ws).problems}
    finally:
        ws.close()


def test_a_genuine_demo_workspace_still_accepts_the_demo_identity(
    db_workspace: Workspace,
) -> None:
    _work(db_workspace, 1)
    identity = current_identity(db_workspace, environ={"FIVESAFES_USER": "alice"})
    assert identity.demo and identity.login == "alice"


def test_under_load_the_head_is_signed_at_most_every_interval_and_never_left_unsigned(
    db_url: str, tmp_path: Path
) -> None:
    ws = create_workspace(tmp_path / "ws", demo_identity=True, database_url=db_url)
    ws = Workspace(ws.home, {**ws.config, "checkpoint_batch_ms": 300})
    try:
        _work(ws, 10)  # ten commits within far less than... well, quickly
        report = verify_log(ws)  # waits for the timer once if the head is still unsigned
        assert report.ok, report.problems
        assert report.head_seq == 21
        # batched: fewer signatures than commits (creation + first commit + timer ones)
        assert report.checkpoints_verified < 11
    finally:
        ws.close()


@pytest.mark.parametrize(
    ("statements", "kind"),
    [
        (["UPDATE audit_log SET actor = 'mallory' WHERE seq = 4"], "modified"),  # edit
        (["DELETE FROM audit_log WHERE seq = 4"], "missing"),  # delete
        (  # insert: event 4's content placed again after event 3, the rest moved up one
            [
                "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 4",
                "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1004",
                "INSERT INTO audit_log SELECT 4, at, action, 'mallory', outcome, area, dataset, "
                "subject, details, prev_hash, hash FROM audit_log WHERE seq = 5",
            ],
            "modified",
        ),
        (  # reorder
            [
                "UPDATE audit_log SET seq = -1 WHERE seq = 4",
                "UPDATE audit_log SET seq = 4 WHERE seq = 5",
                "UPDATE audit_log SET seq = 5 WHERE seq = -1",
            ],
            "modified",
        ),
    ],
    ids=["edit", "delete", "insert", "reorder"],
)
def test_every_tamper_class_is_detected(
    db_workspace: Workspace, statements: list[str], kind: str
) -> None:
    _work(db_workspace)
    tamper(db_workspace.engine(), *statements)
    report = verify_log(db_workspace)
    assert not report.ok and report.first_bad is not None
    assert report.first_bad.seq == 4 and kind in {p.kind for p in report.problems}


def test_a_rewrite_resigned_with_a_new_key_fails_against_the_pinned_key(
    db_workspace: Workspace, tmp_path: Path
) -> None:
    """Without the workspace's key the attacker signs with a key of their own, and swaps
    the .pub in the workspace: only a key kept outside (state, offline copy) catches it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from fivesafes.audit.log import CHECKPOINTER, Checkpointer, create_checkpoint
    from fivesafes.store.db import session_factory
    from fivesafes.workspace.keys import public_key_fingerprint

    state = tmp_path / "state.json"
    offline = db_workspace.public_key()
    _work(db_workspace)
    assert verify_log(db_workspace, state_path=state).ok
    mallory = Ed25519PrivateKey.generate()

    def forge(events: list[AuditEvent]) -> list[AuditEvent]:
        fingerprint = public_key_fingerprint(mallory.public_key())
        details = {**events[0].details, "public_key_sha256": fingerprint}
        events[0] = replace(events[0], details=details)
        events[3] = replace(events[3], actor="mallory")
        return events

    rehash(db_workspace.engine(), forge, checkpoint_file=db_workspace.checkpoint_log_path)
    signer = Checkpointer(mallory, db_workspace.origin, every=1000)
    with session_factory(db_workspace.engine(), **{CHECKPOINTER: signer}).begin() as session:
        create_checkpoint(session, signer)
    db_workspace.public_key_path.write_bytes(
        mallory.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    assert verify_log(db_workspace).ok  # trusting the workspace's own key: fooled
    with_state = verify_log(db_workspace, state_path=state)
    assert not with_state.ok
    assert any("no valid signature" in p.message for p in with_state.problems)
    assert not verify_log(db_workspace, public_key=offline).ok
