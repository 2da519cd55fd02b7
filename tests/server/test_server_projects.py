"""Research projects and researchers through a real server socket: the same output and
exit statuses as in process, and the decisions taken by the server as the caller."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result
from server_helpers import ADMIN, RunningServer

from fivesafes.cli.main import cli

MANDATORY = "Responsible for information"


def _remote(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--server", server.address, *args])


def _local(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"FIVESAFES_HOME": str(server.home)})


def _same(server: RunningServer, *args: str) -> Result:
    remote, local = _remote(server, *args), _local(server, *args)
    assert remote.exception is None or isinstance(remote.exception, SystemExit), remote.exception
    assert (remote.exit_code, remote.stdout, remote.stderr) == (
        local.exit_code,
        local.stdout,
        local.stderr,
    )
    return remote


def _ok(server: RunningServer, *args: str) -> Result:
    done = _remote(server, *args)
    assert done.exit_code == 0, done.output
    return done


@pytest.fixture(scope="module")
def world(server: RunningServer) -> str:
    """Area health owned by the tests' account, dataset hes in it, and rob (a researcher)."""
    today = datetime.now(UTC).date().isoformat()
    for op, body in (
        ("declaration.publish", {"text": "I will keep confidential data confidential."}),
        ("training.record", {"login": ADMIN, "course": MANDATORY, "completed": today}),
        ("declaration.sign", {"version": 1}),
    ):
        assert server.call(op, **body).status_code == 200
    _ok(server, "people", "add", "rob", "--name", "Rob", "--role", "researcher")
    _ok(server, "people", "roles", ADMIN, "--add", "iao", "--add", "head_of_profession")
    _ok(server, "researcher", "accredit", "rob", "--body", "UKSA", "--reference", "DEA-1",
        "--level", "full")  # fmt: skip
    _ok(server, "area", "create", "health", "--owner", ADMIN)
    _ok(server, "dataset", "add", "hes", "--area", "health", "--source", "HES",
        "--lawful-basis", "SRSA 2007")  # fmt: skip
    return "hes"


def test_project_commands_through_the_server(server: RunningServer, world: str) -> None:
    _same(server, "project", "list")
    _same(server, "project", "show", "PRJ-NONE")  # not found: the same status and message
    proposed = _ok(
        server, "project", "propose", "PRJ-1", "--title", "Admissions", "--purpose",
        "Regional admissions", "--public-benefit", "Planning", "--dataset", world,
        "--start", "2026-01-01", "--end", "2099-12-31", "--lead", "rob", "--json",
    )  # fmt: skip
    assert json.loads(proposed.stdout)["status"] == "proposed"
    assert _ok(server, "project", "approve", "PRJ-1", "--note", "fine").stdout.startswith(
        "approved PRJ-1"
    )
    asked = _ok(server, "project", "request-change", "PRJ-1", "--kind", "extend",
                "--new-end", "2100-06-30", "--reason", "delay", "--json")  # fmt: skip
    change = json.loads(asked.stdout)["id"]
    decided = _ok(server, "project", "decide-change", str(change), "approve", "--note", "ok")
    assert decided.stdout.startswith(f"decided #{change}")
    for args in (
        ("project", "show", "PRJ-1"),
        ("project", "show", "PRJ-1", "--json"),
        ("project", "list", "--status", "active"),
        ("project", "list", "--json"),
        ("project", "approve", "PRJ-1"),  # already decided: refused either way
        ("project", "request-change", "PRJ-1", "--kind", "close", "--new-end", "2100-01-01",
         "--reason", "x"),  # stray option: exit status 2 before anything is sent
    ):  # fmt: skip
        _same(server, *args)
    closed = _ok(server, "project", "close", "PRJ-1", "--reason", "done")
    assert closed.stdout.startswith("closed PRJ-1")


def test_researcher_commands_through_the_server(server: RunningServer, world: str) -> None:
    for args in (
        ("researcher", "list"),
        ("researcher", "list", "--json"),
        ("researcher", "show", "rob"),
        ("researcher", "show", "rob", "--json"),
        ("researcher", "show", "nobody"),  # not found: the same status and message
        ("researcher", "accredit", "rob", "--body", "B", "--reference", "R", "--level", "gold"),
        ("researcher", "supervisor", "rob", "--supervisor", ADMIN),  # full: no supervisor
    ):
        _same(server, *args)
    _ok(server, "people", "add", "pip", "--name", "Pip", "--role", "approved_researcher")
    done = _ok(server, "researcher", "accredit", "pip", "--body", "UKSA", "--reference",
               "DEA-2", "--level", "provisional", "--supervisor", "rob", "--json")  # fmt: skip
    assert json.loads(done.stdout)["supervisor"] == "rob"
    moved = _ok(server, "researcher", "supervisor", "pip", "--supervisor", ADMIN)
    assert moved.stdout.startswith("supervisor of pip: provisional") and ADMIN in moved.stdout
    assert "pip" in _same(server, "researcher", "list").stdout
