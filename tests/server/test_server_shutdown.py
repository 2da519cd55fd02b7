"""SIGTERM: the server stops accepting, finishes what it started, answers it, and exits 0."""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from server_helpers import server_init, start_server

from fivesafes.cli.main import cli

CLIENTS = 8


# httpcore leaves each refused Unix socket unclosed (garbage collected later, with a
# ResourceWarning): refusals are expected here, once the server has stopped listening
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_sigterm_answers_every_request_it_ran(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    server_init(home)
    sock_dir = Path(tempfile.mkdtemp(prefix="fivesafes-stop-"))
    running = start_server(home, sock_dir)
    answered: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def client(k: int) -> None:
        i = 0
        while not stop.is_set():
            subject = f"stop-{k}-{i}"
            i += 1
            try:
                with running.client() as c:  # a new connection per request
                    answer = c.post("/api/v1/audit/log", json={"limit": 1, "subject": subject})
            except httpx.TransportError:
                continue  # not accepted (or reset before it was read): never run
            if answer.status_code == 200:
                with lock:
                    answered.add(subject)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(2.0)
        running.process.send_signal(signal.SIGTERM)
        status = running.process.wait(timeout=60)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        if running.process.stdout is not None:
            running.process.stdout.close()
        shutil.rmtree(sock_dir, ignore_errors=True)
    assert status == 0
    assert answered, "no request ran before the signal"
    # every request the server ran (its audited read is in the log) was answered: none
    # was cut off by the shutdown
    done = CliRunner().invoke(
        cli,
        ["audit", "log", "--action", "audit.read", "--limit", "100000", "--json"],
        env={"FIVESAFES_HOME": str(home)},
    )
    assert done.exit_code == 0, done.output
    ran = {
        json.loads(line)["details"]["filters"].get("subject") for line in done.stdout.splitlines()
    }
    ran = {s for s in ran if s and s.startswith("stop-")}
    assert ran == answered
    verified = CliRunner().invoke(cli, ["audit", "verify"], env={"FIVESAFES_HOME": str(home)})
    assert verified.exit_code == 0, verified.output
