"""The CLI through the server prints what it prints in process: same output, errors, statuses."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from server_helpers import RunningServer

from fivesafes.cli.main import cli

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


def test_a_command_not_yet_routed_says_so_and_opens_nothing(server: RunningServer) -> None:
    result = CliRunner().invoke(cli, ["--server", server.address, "release", "reconcile"])
    assert result.exit_code == 2
    assert "`fivesafes release reconcile` is not yet available through the server" in result.stderr


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
