"""A second OS account acts only through the server, only as itself (real accounts, root only)."""

from __future__ import annotations

import json
import pwd

import pytest
from server_helpers import ADMIN, RunningServer, as_user, cli_as, http_as


@pytest.fixture(scope="module")
def alice(server: RunningServer, os_users: tuple[str, str]) -> str:
    """The first new account, registered as a statistician by the administrator."""
    login = os_users[0]
    answer = server.call("people.add", login=login, name="Alice Second", roles=["statistician"])
    assert answer.status_code == 200, answer.text
    return login


def _events(server: RunningServer, **filters: str) -> list[dict[str, object]]:
    answer = server.call("audit.log", limit=1000, **filters)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["result"])


def test_the_second_account_cannot_read_the_workspace_keys_or_database(
    server: RunningServer, alice: str
) -> None:
    home = server.home
    probe = f"""
import os, sys
home = {str(home)!r}
for path in (home + "/fivesafes.db", home + "/keys/workspace-signing.key", home + "/config.toml"):
    try:
        open(path, "rb").read(1)
    except PermissionError:
        continue
    sys.exit("read " + path)
try:
    os.listdir(home)
except PermissionError:
    sys.exit(0)
sys.exit("listed the workspace")
"""
    done = as_user(alice, probe)
    assert done.returncode == 0, done.stderr + done.stdout
    # ...and the same probe run by the owner reads them all (the probe can fail)
    assert as_user(ADMIN, probe).returncode != 0


def test_the_second_account_acts_as_itself_through_the_socket(
    server: RunningServer, alice: str
) -> None:
    status, body = http_as(alice, server.socket, "whoami")
    assert status == 200 and body["result"]["login"] == alice


def test_fivesafes_user_is_ignored_by_the_server(server: RunningServer, alice: str) -> None:
    done = cli_as(
        alice,
        ["--server", server.address, "server", "whoami", "--json"],
        env={"FIVESAFES_USER": ADMIN},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["login"] == alice
    # as herself she may not register people: refused with the usual message and status,
    # and the refusal is audited under her own login, not the administrator's
    refused = cli_as(
        alice,
        ["--server", server.address, "people", "add", "mallory", "--name", "M"],
        env={"FIVESAFES_USER": ADMIN},
    )
    assert refused.returncode == 6, refused.stderr
    assert refused.stderr.startswith("error [denied]:"), refused.stderr
    assert "Traceback" not in refused.stderr
    # reading the audit log (administrators and auditors only) is refused too, and that
    # decision is audited under her own login
    read = cli_as(
        alice, ["--server", server.address, "audit", "log"], env={"FIVESAFES_USER": ADMIN}
    )
    assert read.returncode == 6 and read.stderr.startswith("error [denied]:"), read.stderr
    denied = _events(server, actor=alice, action="audit.read")
    assert [e["outcome"] for e in denied] == ["denied"]


def test_an_unregistered_account_is_refused_and_audited(
    server: RunningServer, os_users: tuple[str, str]
) -> None:
    stranger = os_users[1]
    status, body = http_as(stranger, server.socket, "people.list")
    assert status == 403 and body["error"]["code"] == "identity"
    assert body["error"]["exit_status"] == 6 and body["error"]["hint"]
    events = _events(server, action="server.identity", actor=stranger)
    assert events and events[-1]["outcome"] == "denied"


def test_an_unknown_uid_is_refused_and_audited(server: RunningServer, os_users: object) -> None:
    uid = next(u for u in range(54321, 60000) if not _has_login(u))
    status, body = http_as(uid, server.socket, "whoami")
    assert status == 403 and body["error"]["code"] == "identity"
    assert str(uid) in body["error"]["message"]
    events = _events(server, action="server.identity", actor=f"uid:{uid}")
    assert events and events[-1]["details"]["uid"] == uid


def _has_login(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True
