"""``fivesafes request`` through a real server socket: the same output as in process, and the
requester's personal data nowhere but in `request requester` to the case's officer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from server_helpers import RunningServer

from fivesafes.cli.main import cli

MARKER = "Quentin Marker-7Q"


@pytest.fixture(scope="module")
def officer(server: RunningServer) -> str:
    """The server's administrator, made an FOI officer, with the requests area created."""
    login = str(server.call("whoami").json()["result"]["login"])
    server.call("people.add", login="iris", name="Iris", roles=["iao"]).raise_for_status()
    server.call("people.roles", login=login, add=["foi"]).raise_for_status()
    made = server.call("area.create", name="requests", owner="iris")
    assert made.status_code == 200, made.text
    return login


def _remote(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--server", server.address, *args])


def _local(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"FIVESAFES_HOME": str(server.home)})


def test_a_case_runs_through_the_server(server: RunningServer, officer: str) -> None:
    opened = _remote(
        server, "request", "open", "--kind", "foi", "--received", "2026-03-07",
        "--requester", MARKER, "--summary", "Earnings by region", "--json",
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    case = json.loads(opened.stdout)
    assert case["due"] == "2026-04-08" and MARKER not in opened.stdout
    number = str(case["id"])
    assigned = _remote(server, "request", "assign", number, officer, "--on", "2026-03-09")
    assert assigned.exit_code == 0 and f"officer {officer}" in assigned.stdout
    extended = _remote(
        server, "request", "extend", number, "--reason", "s43 PIT", "--on", "2026-03-10", "--json"
    )
    assert json.loads(extended.stdout)["extended"] is True
    exempt = _remote(server, "request", "exempt", number, "--part", "firm", "--code", "s41")
    assert exempt.exit_code == 0 and "exemptions s41" in exempt.stdout
    who = _remote(server, "request", "requester", number)
    assert who.exit_code == 0 and who.stdout.strip() == MARKER
    closed = _remote(
        server, "request", "close", number, "--outcome", "part-withheld", "--on", "2026-04-01"
    )
    assert closed.exit_code == 0 and "part-withheld" in closed.stdout
    shredded = json.loads(_remote(server, "request", "shred", "--json").stdout)
    assert shredded == {"shredded": [], "subject_records": []}  # retention not over
    log = server.call("audit.log").json()
    assert MARKER not in json.dumps(log)


@pytest.mark.parametrize(
    "args",
    [
        ["request", "list"],
        ["request", "list", "--json"],
        ["request", "show", "1", "--json"],
        ["request", "overdue"],
        ["request", "timeliness", "--json"],
        ["request", "refusal-notice", "1"],
        ["request", "show", "999"],  # not found: exit status 4 either way
        ["request", "assign", "999", "nobody"],
        ["request", "close", "1", "--outcome", "granted"],  # already closed: refused
    ],
    ids=" ".join,
)
def test_the_same_through_the_server_and_in_process(
    server: RunningServer, officer: str, args: list[str]
) -> None:
    if not json.loads(_remote(server, "request", "list", "--json").stdout):
        test_a_case_runs_through_the_server(server, officer)
    remote, local = _remote(server, *args), _local(server, *args)
    assert (remote.exit_code, remote.stdout, remote.stderr) == (
        local.exit_code,
        local.stdout,
        local.stderr,
    )
    assert MARKER not in remote.output + remote.stderr


def test_the_disclosure_log_is_written_by_the_caller(
    server: RunningServer, officer: str, tmp_path: Path
) -> None:
    if not json.loads(_remote(server, "request", "list", "--json").stdout):
        test_a_case_runs_through_the_server(server, officer)
    remote, local = tmp_path / "remote", tmp_path / "local"
    done = _remote(server, "request", "disclosure-log", "--out", str(remote), "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {
        "entries": 1,
        "files": [str(remote / "disclosure-log.csv"), str(remote / "disclosure-log.html")],
    }
    here = _local(server, "request", "disclosure-log", "--out", str(local))
    assert here.exit_code == 0, here.output
    csv = (remote / "disclosure-log.csv").read_text()
    assert csv == (local / "disclosure-log.csv").read_text() and "Earnings by region" in csv
    assert MARKER not in csv + (remote / "disclosure-log.html").read_text()
    assert not any(server.home.rglob("disclosure-log.*")), "the server wrote the log"
