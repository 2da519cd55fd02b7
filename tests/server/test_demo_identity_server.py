"""The demo-user header: honoured only by a demo-identity workspace's server, and only
from the server's own account; ignored everywhere else."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import ADMIN, RunningServer, http_as

from fivesafes.demo.served import DemoServer, demo_server
from fivesafes.errors import FivesafesError
from fivesafes.server.client import DEMO_USER_HEADER
from fivesafes.services.setup import init_workspace


def test_a_real_server_ignores_the_demo_header(server: RunningServer) -> None:
    with server.client() as client:
        answer = client.post("/api/v1/whoami", headers={DEMO_USER_HEADER: "someone-else"})
    assert answer.status_code == 200
    assert answer.json()["result"]["login"] == ADMIN


@pytest.fixture(scope="module")
def demo(reachable: Path) -> Iterator[DemoServer]:
    home = reachable / "demo-ws"
    init_workspace(home, "demo-admin", "Demo Admin", demo_identity=True)[0].close()
    with demo_server(home, reachable / "demo-out") as running:
        yield running
    assert not running.socket.exists(), "the demo's server left its socket behind"


def test_a_demo_server_acts_as_the_named_person_for_its_own_account(demo: DemoServer) -> None:
    assert demo.call("demo-admin", "whoami")["login"] == "demo-admin"
    with pytest.raises(FivesafesError, match="is not a registered person"):
        demo.call("nobody-registered", "whoami")


def test_another_account_cannot_use_the_demo_header(
    demo: DemoServer, os_users: tuple[str, str]
) -> None:
    os.chmod(demo.socket.parent, 0o755)
    status, body = http_as(os_users[1], demo.socket, "whoami", None)
    # without the header honoured it is its own (unregistered) login: refused
    assert status == 403 and body["error"]["code"] == "identity"


def test_the_demo_server_is_gone_after_the_block(reachable: Path) -> None:
    home = reachable / "demo-ws2"
    init_workspace(home, "demo-admin", "Demo Admin", demo_identity=True)[0].close()
    with pytest.raises(RuntimeError, match="boom"), demo_server(home, reachable / "o2") as s:
        sock = s.socket
        raise RuntimeError("boom")
    assert not sock.exists()  # the server removes its socket only once it has stopped
    shutil.rmtree(home, ignore_errors=True)
