"""TCP: no identity without signing in; passwords set only through the socket; all audited."""

from __future__ import annotations

import json
import os
import stat

import httpx
import pytest
from click.testing import CliRunner
from server_helpers import ADMIN, RunningServer

from fivesafes.cli.main import cli

PASSWORD = "correct horse battery staple"


def _tcp(server: RunningServer, token: str | None = None) -> httpx.Client:
    assert server.http is not None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=f"http://{server.http}", headers=headers, timeout=60)


def _events(server: RunningServer, **filters: str) -> list[dict[str, object]]:
    answer = server.call("audit.log", limit=1000, **filters)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["result"])


@pytest.fixture(scope="module")
def password(server: RunningServer) -> str:
    answer = server.call("auth.password", password=PASSWORD)
    assert answer.status_code == 200, answer.text
    return PASSWORD


def test_tcp_without_a_token_is_refused(server: RunningServer) -> None:
    with _tcp(server) as client:
        answer = client.post("/api/v1/whoami", json={})
        forged = client.post("/api/v1/whoami", json={}, headers={"X-Fivesafes-User": ADMIN})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "identity"
    assert forged.status_code == 401


def test_signing_in_gives_a_token_that_acts_as_that_person(
    server: RunningServer, password: str
) -> None:
    with _tcp(server) as client:
        signed = client.post("/api/v1/auth/token", json={"login": ADMIN, "password": password})
    assert signed.status_code == 200, signed.text
    token = signed.json()["token"]
    with _tcp(server, token) as client:
        me = client.post("/api/v1/whoami", json={})
    assert me.status_code == 200 and me.json()["result"]["login"] == ADMIN
    with _tcp(server, token + "x") as client:
        assert client.post("/api/v1/whoami", json={}).status_code == 403
    # the CLI over TCP: FIVESAFES_SERVER=http://..., the token in FIVESAFES_TOKEN
    env = {"FIVESAFES_SERVER": f"http://{server.http}", "FIVESAFES_TOKEN": token}
    result = CliRunner().invoke(cli, ["server", "whoami", "--json"], env=env)
    assert result.exit_code == 0 and json.loads(result.stdout)["login"] == ADMIN, result.output
    allowed = [e for e in _events(server, action="server.signin") if e["outcome"] == "allowed"]
    assert allowed and allowed[-1]["details"] == {"via": "tcp"}
    # only a hash of the token is stored: the database file does not contain it
    assert token.encode() not in (server.home / "fivesafes.db").read_bytes()


def test_wrong_passwords_are_refused_audited_and_throttled(
    server: RunningServer, password: str
) -> None:
    with _tcp(server) as client:
        answers = [
            client.post("/api/v1/auth/token", json={"login": ADMIN, "password": f"wrong{i}"})
            for i in range(6)
        ]
        # once throttled, even the right password is refused for a while
        after = client.post("/api/v1/auth/token", json={"login": ADMIN, "password": password})
    assert all(a.status_code == 403 for a in answers)
    assert after.status_code == 403 and "too many" in after.json()["error"]["reasons"][0]
    denied = [e for e in _events(server, action="server.signin") if e["outcome"] == "denied"]
    assert len(denied) >= 7


def test_a_password_cannot_be_set_over_tcp(server: RunningServer) -> None:
    with _tcp(server) as client:
        answer = client.post("/api/v1/auth/password", json={"password": "x" * 20})
    assert answer.status_code in (401, 403)


def test_server_init_leaves_nothing_readable_by_others(server: RunningServer) -> None:
    for folder, dirs, files in os.walk(server.home):
        for name in dirs:
            mode = stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode)
            assert mode == 0o700, (folder, name, oct(mode))
        for name in files:
            mode = stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode)
            assert mode == 0o600, (folder, name, oct(mode))
    assert stat.S_IMODE(server.home.stat().st_mode) == 0o700
    assert stat.S_IMODE(server.socket.stat().st_mode) == 0o666
