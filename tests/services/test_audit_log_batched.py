"""Verifying the log in the process whose batch timer still owes a signature.

A writer under load signs its head at most every ``checkpoint_batch_ms`` and leaves the
rest to a timer thread. The web server's evidence page verifies the log in that same
process: on a busy machine the timer thread may not have run (or may be half-way
through its transaction) when the page opens. The head is this process's own: the
verifier signs it or waits for it, and never reports an intact log as broken.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import fivesafes.audit.log as audit_log
from fivesafes.audit.events import AuditEvent
from fivesafes.audit.log import append_event
from fivesafes.services.audit_log import verify_log
from fivesafes.workspace import Workspace, create_workspace


class _StarvedTimer(threading.Timer):
    """A timer whose thread never gets the processor (as on a machine under load)."""

    def start(self) -> None:
        return None


def _two_commits(ws: Workspace) -> None:
    # the first commit signs (due); the second, within the batch time, leaves a timer
    for i in range(2):
        with ws.transaction() as session:
            append_event(session, AuditEvent("test.step", actor="alice", details={"i": i}))


def _batched(tmp_path: Path, db_url: str) -> Workspace:
    ws = create_workspace(tmp_path / "ws", demo_identity=True, database_url=db_url)
    return Workspace(ws.home, {**ws.config, "checkpoint_batch_ms": 1000})


def test_a_head_left_to_a_starved_timer_is_signed_by_the_verifier(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(threading, "Timer", _StarvedTimer)  # the one the writer starts
    ws = _batched(tmp_path, db_url)
    try:
        _two_commits(ws)
        report = verify_log(ws)
        assert report.ok, report.problems
        assert report.head_seq == 3
    finally:
        ws.close()


def test_a_signature_in_flight_is_waited_for(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timer has fired and is inside its transaction, slowly: the verifier waits."""
    entered = threading.Event()
    real = audit_log.create_checkpoint

    def slow(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            entered.set()
            # longer than the verifier's one retry (batch time + grace) would wait
            threading.Event().wait(3.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(audit_log, "create_checkpoint", slow)
    ws = _batched(tmp_path, db_url)
    try:
        _two_commits(ws)
        assert entered.wait(10.0), "the batch timer never fired"
        report = verify_log(ws)
        assert report.ok, report.problems
        assert report.head_seq == 3
    finally:
        ws.close()
