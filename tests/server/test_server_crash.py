"""kill -9 of a real server in the middle of a state change, then a restart.

The server runs in a subprocess; FIVESAFES_FAULT (fivesafes.faults, tests only) makes it
kill itself with SIGKILL at a chosen point, with no cleanup and no ``finally``. After the
restart nothing half-done may remain: no plain-text upload on disk, no object without
its register row, an audit log that verifies; and the operation can simply be retried.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from server_helpers import RunningServer, server_init, start_server
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from fivesafes.cli.main import cli
from fivesafes.server.private import check_private
from fivesafes.server.upload import UPLOADS_DIR, sweep_uploads
from fivesafes.services.audit_log import UNSIGNED_TAIL_ACTION
from fivesafes.store.models.audit import AuditCheckpoint, AuditRecord
from fivesafes.workspace.home import DATABASE_FILE


@pytest.fixture
def place() -> Iterator[tuple[Path, Path]]:
    """A new workspace (made with ``server init``) and a folder for the socket (short
    paths: a Unix socket's path is limited to 108 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="fs-crash-"))
    (folder / "run").mkdir()
    home = folder / "ws"
    server_init(home)
    yield home, folder / "run"
    shutil.rmtree(folder, ignore_errors=True)


def _remote(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--server", server.address, *args])


def _ok(server: RunningServer, op: str, /, **body: object) -> object:
    answer = server.call(op, **body)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def _killed(server: RunningServer) -> None:
    assert server.process.wait(timeout=60) == -signal.SIGKILL
    if server.process.stdout is not None:
        server.process.stdout.close()
    # The next server replaces the stale socket file itself (run.unix_socket); removed
    # here only so that start_server does not knock on it while the new one starts.
    server.socket.unlink()


def _stop(server: RunningServer) -> None:
    assert server.stop() == 0
    if server.process.stdout is not None:
        server.process.stdout.close()


def _events(home: Path, action: str) -> list[dict[str, Any]]:
    """The events of ``action`` (actor, seq, details), read from outside the server."""
    engine = create_engine(f"sqlite:///{home / DATABASE_FILE}")
    try:
        with Session(engine) as s:
            rows = s.scalars(select(AuditRecord).where(AuditRecord.action == action)).all()
            return [{"actor": r.actor, "seq": r.seq, "details": r.details} for r in rows]
    finally:
        engine.dispose()


def _unsigned(home: Path) -> bool:
    """Whether the log's head is past its last signed checkpoint (read from outside)."""
    engine = create_engine(f"sqlite:///{home / DATABASE_FILE}")
    try:
        with engine.connect() as c:
            head = c.execute(select(func.max(AuditRecord.seq))).scalar() or 0
            signed = c.execute(select(func.max(AuditCheckpoint.size))).scalar() or 0
            return bool(head > signed)
    finally:
        engine.dispose()


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [
        Path(d) / f
        for d, _dirs, files in os.walk(root)
        for f in files
        if needle in (Path(d) / f).read_bytes()
    ]


def test_an_ingest_killed_after_encrypting_leaves_no_plaintext_and_can_be_retried(
    place: tuple[Path, Path], tmp_path: Path
) -> None:
    home, run = place
    server = start_server(home, run)
    _ok(server, "people.add", login="iris", name="Iris", roles=["iao"])
    _ok(server, "area.create", name="earnings", owner="iris")
    added = _remote(server, "dataset", "add", "ashe", "--area", "earnings", "--source", "ASHE",
                    "--lawful-basis", "SRSA 2007")  # fmt: skip
    assert added.exit_code == 0, added.output
    _stop(server)

    mark = f"MARKER{secrets.token_hex(6)}"
    src = tmp_path / "ashe.csv"
    src.write_text("nino,region,pay\n" + "".join(f"{mark}{i},N,{i}\n" for i in range(50)))
    server = start_server(home, run, env={"FIVESAFES_FAULT": "ingest.stored"})
    dropped = _remote(server, "dataset", "ingest", "earnings", str(src), "--name", "ashe")
    assert dropped.exit_code != 0
    _killed(server)
    # What the kill left: the rows sent, in plain text in the uploads folder, and the
    # encrypted object in place without its register row.
    assert _files_holding(home / UPLOADS_DIR, mark.encode()), "the kill came too early"
    assert (home / "areas" / "earnings" / "datasets" / "ashe").is_dir()
    assert _events(home, "dataset.ingest") == []

    server = start_server(home, run)
    try:
        assert _files_holding(home, mark.encode()) == [], "plain-text rows outlived the crash"
        assert os.listdir(home / UPLOADS_DIR) == []
        again = _remote(server, "dataset", "ingest", "earnings", str(src), "--name", "ashe")
        assert again.exit_code == 0, again.output
        assert len(_events(home, "dataset.ingest")) == 1
        assert [e["details"]["name"] for e in _events(home, "vault.orphan_shred")] == ["ashe"]
        verified = _remote(server, "audit", "verify")
        assert verified.exit_code == 0, verified.output
    finally:
        _stop(server)
    # Whatever the crash and the recovery wrote (SQLite's -wal/-shm, locks, the area's
    # files, the emptied uploads folder) is the service account's alone, as at start.
    check_private(home)


def test_a_server_killed_before_signing_its_head_verifies_after_its_restart(
    place: tuple[Path, Path],
) -> None:
    home, run = place
    server = start_server(home, run)
    # Writes in a row: under load the head is signed at most every checkpoint_batch_ms,
    # the rest left to a timer. Kill the server while its head is unsigned.
    for i in range(50):
        _ok(server, "people.add", login=f"p{i}", name=f"P {i}", roles=["analyst"])
        if _unsigned(home):
            server.process.send_signal(signal.SIGKILL)
            break
    else:
        pytest.fail("every write was signed at once: checkpoint_batch_ms is not in force")
    _killed(server)
    assert _unsigned(home)

    server = start_server(home, run)
    try:
        verified = _remote(server, "audit", "verify")
        assert verified.exit_code == 0, verified.output
        (found,) = _events(home, UNSIGNED_TAIL_ACTION)
        assert found["actor"] == "system"
        assert found["details"]["first"] <= found["details"]["last"] == found["seq"] - 1
        assert not _unsigned(home)
        # The next start finds nothing to sign, and records nothing.
        _stop(server)
        server = start_server(home, run)
        assert len(_events(home, UNSIGNED_TAIL_ACTION)) == 1
    finally:
        _stop(server)


def test_the_sweep_removes_only_what_no_running_process_owns(tmp_path: Path) -> None:
    uploads = tmp_path / UPLOADS_DIR
    dead = subprocess.Popen(["true"])
    dead.wait()
    mine, alive, gone, old = (
        f"{os.getpid()}-a",
        "1-b",  # init, always running
        f"{dead.pid}-c",
        "tmpq3x9",  # a folder of a server from before folders were named after it
    )
    for name in (mine, alive, gone, old):
        (uploads / name).mkdir(parents=True)
        (uploads / name / "rows.csv").write_text("x\n")
    assert sweep_uploads(tmp_path) == sorted([gone, old])
    assert sorted(os.listdir(uploads)) == sorted([mine, alive])
