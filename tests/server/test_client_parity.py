"""The CLI through the server prints what it prints in process: same output, errors, statuses."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from server_helpers import RunningServer

from fivesafes.app import App
from fivesafes.cli.main import cli
from fivesafes.errors import AccessDenied
from fivesafes.server import operations

COMMANDS = [
    ["people", "list", "--json"],
    ["people", "list"],
    ["people", "show", "{admin}", "--json"],
    ["training", "courses"],
    ["training", "status", "--json"],
    ["grant", "list"],
    ["grant", "approve", "999"],  # not found: exit status 4 either way
    ["grant", "request", "{admin}", "nowhere", "--justification", "x"],
    ["people", "add", "bad login!", "--name", "X"],
    ["declaration", "show"],
    ["server", "whoami", "--json"],
    ["area", "create", "earnings", "--owner", "{admin}", "--course", "nope"],  # not found
    ["area", "list"],
    ["area", "show", "nowhere"],
]


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> str:
    return str(server.call("whoami").json()["result"]["login"])


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_the_same_through_the_server_and_in_process(
    server: RunningServer, admin: str, args: list[str]
) -> None:
    argv = [a.replace("{admin}", admin) for a in args]
    runner = CliRunner()
    remote = runner.invoke(cli, ["--server", server.address, *argv])
    local = runner.invoke(cli, argv, env={"FIVESAFES_HOME": str(server.home)})
    assert remote.exception is None or isinstance(remote.exception, SystemExit), remote.exception
    assert (remote.exit_code, remote.stdout, remote.stderr) == (
        local.exit_code,
        local.stdout,
        local.stderr,
    )


@pytest.mark.parametrize(
    "args",
    [["backup", "--to", "{tmp}/b.tar"], ["restore", "{tmp}/b.tar", "--home", "{tmp}/new"]],
    ids=lambda a: a[0],
)
def test_the_service_accounts_administration_is_refused_through_the_server(
    server: RunningServer, tmp_path: Path, args: list[str]
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(cli, ["--server", server.address, *argv])
    assert result.exit_code == 2, result.output
    assert f"`fivesafes {args[0]}` is the service account's own administration" in result.stderr
    assert "run it as the server's service account" in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing made


def test_release_reconcile_through_the_server(server: RunningServer, admin: str) -> None:
    runner = CliRunner()
    remote = runner.invoke(cli, ["--server", server.address, "release", "reconcile", "--json"])
    local = runner.invoke(cli, ["release", "reconcile"], env={"FIVESAFES_HOME": str(server.home)})
    assert remote.exit_code == 0, remote.output
    assert json.loads(remote.stdout) == []
    assert local.exit_code == 0 and local.stdout == "nothing to reconcile\n"
    # an administrator's: a person without the role is refused (as in process), exit 6
    runner.invoke(cli, ["--server", server.address, "people", "add", "nina", "--name", "Nina"])
    with App.open(server.home) as app, pytest.raises(AccessDenied):
        operations.run(app, "nina", "release.reconcile", {})
    assert AccessDenied.exit_status == 6


def test_a_server_that_is_not_there_is_a_clear_error(server: RunningServer) -> None:
    result = CliRunner().invoke(
        cli, ["people", "list"], env={"FIVESAFES_SERVER": f"unix:{server.socket}.missing"}
    )
    assert result.exit_code == 2 and "no fivesafes server socket at" in result.stderr


def test_a_stale_socket_file_is_a_clear_error(tmp_path: Path) -> None:
    stale = tmp_path / "api.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(stale))  # bound, never listening: connect() is refused
    result = CliRunner().invoke(cli, ["--server", f"unix:{stale}", "people", "list"])
    assert result.exit_code == 2 and "cannot reach the fivesafes server" in result.stderr
