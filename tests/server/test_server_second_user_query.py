"""A second OS account's query through the server: refused without a grant (audited under
its own login), and with a grant given aggregates but never rows (real accounts, root only)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest
from server_helpers import ADMIN, RunningServer, cli_as, http_as

from fivesafes.app import App
from fivesafes.server import operations

MANDATORY = "Responsible for information"
AREA = "wages"


def _ok(server: RunningServer, op: str, /, **body: object) -> object:
    answer = server.call(op, **body)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def _as(login: str, server: RunningServer, op: str, **body: object) -> object:
    """An operation run by a registered person without an OS account (the area's owner)."""
    with App.open(server.home) as app:
        return operations.run(app, login, op, body)


@pytest.fixture(scope="module")
def bob(
    server: RunningServer, os_users: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, str]:
    """(login, marker): a trained, declared analyst with an OS account; area wages owned by
    olive holds dataset pay whose every identifier carries the marker."""
    login = os_users[0]
    today = datetime.now(UTC).date().isoformat()
    _ok(server, "people.add", login=login, name="Bob Second", roles=["analyst"])
    _ok(server, "people.add", login="olive", name="Olive Owner", roles=["iao"])
    _ok(server, "people.roles", login=ADMIN, add=["analyst"])
    _ok(server, "area.create", name=AREA, owner="olive")
    # each test module has a server of its own (conftest): nothing is published yet
    _ok(server, "declaration.publish", text="I will keep confidential data confidential.")
    version = _ok(server, "declaration.show")["version"]  # type: ignore[index]
    for who in (ADMIN, "olive", login):
        _ok(server, "training.record", login=who, course=MANDATORY, completed=today)
    _ok(server, "declaration.sign", version=version)
    _as("olive", server, "declaration.sign", version=version)
    status, body = http_as(login, server.socket, "declaration.sign", {"version": version})
    assert status == 200, body
    # the administrator stores the data (granted for that), bob has no grant yet
    made = _ok(server, "grant.request", login=ADMIN, area=AREA, justification="ingest")
    _as("olive", server, "grant.approve", grant_id=made["id"])  # type: ignore[index]
    mark = f"MARK{secrets.token_hex(6)}"
    src: Path = tmp_path_factory.mktemp("pay") / "pay.csv"
    src.write_text(
        "nino,region,pay\n" + "".join(f"{mark}{i},{'NS'[i % 2]},{100 + i}\n" for i in range(40))
    )
    _ok(server, "dataset.add", name="pay", area=AREA, source="ASHE", lawful_basis="SRSA 2007")
    from click.testing import CliRunner

    from fivesafes.cli.main import cli

    stored = CliRunner().invoke(
        cli, ["--server", server.address, "dataset", "ingest", AREA, str(src), "--name", "pay"]
    )
    assert stored.exit_code == 0, stored.output
    return login, mark


def test_without_a_grant_the_query_is_refused_and_audited_under_its_own_login(
    server: RunningServer, bob: tuple[str, str]
) -> None:
    login, mark = bob
    done = cli_as(login, ["--server", server.address, "query", AREA, "SELECT count(*) FROM pay"])
    assert done.returncode == 6, done.stderr
    assert done.stderr.startswith("error [denied]:") and mark not in done.stdout + done.stderr
    events = _ok(server, "audit.log", actor=login, limit=100)
    assert any(
        e["outcome"] == "denied" and AREA in str(e)  # type: ignore[index]
        for e in events  # type: ignore[union-attr]
    ), events


def test_with_a_grant_it_gets_aggregates_but_not_rows(
    server: RunningServer, bob: tuple[str, str]
) -> None:
    login, mark = bob
    status, made = http_as(
        login, server.socket, "grant.request", {"login": login, "area": AREA, "justification": "t"}
    )
    assert status == 200, made
    _as("olive", server, "grant.approve", grant_id=made["result"]["id"])
    summary = cli_as(
        login,
        ["--server", server.address, "query", AREA,
         "SELECT region, count(*) AS n FROM pay GROUP BY region ORDER BY region"],
    )  # fmt: skip
    assert summary.returncode == 0, summary.stderr
    assert ["N", "20"] in [line.split() for line in summary.stdout.splitlines()]
    for sql in ("SELECT * FROM pay", "SELECT nino FROM pay"):
        rows = cli_as(login, ["--server", server.address, "query", AREA, sql, "--show", "1000"])
        assert rows.returncode == 0, rows.stderr
        assert mark not in rows.stdout + rows.stderr
        assert "not shown" in rows.stderr
    shown = [
        e
        for e in _ok(server, "audit.log", actor=login, action="area.query", limit=100)  # type: ignore[union-attr]
        if e["outcome"] == "done"  # type: ignore[index]
    ]
    assert [bool(e["details"]["withheld"]) for e in shown][-3:] == [False, True, True]  # type: ignore[index]
