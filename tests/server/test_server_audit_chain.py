"""`audit verify` and `audit checkpoint` through a real server: the same output and exit
statuses as in process; the caller's own verifier state stays out of the server's reach."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from server_helpers import RunningServer

from fivesafes.app import App
from fivesafes.cli.main import cli
from fivesafes.errors import IdentityError
from fivesafes.server import operations


def _remote(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--server", server.address, *args])


def _local(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"FIVESAFES_HOME": str(server.home)})


def _same(remote: Result, local: Result) -> None:
    assert remote.exception is None or isinstance(remote.exception, SystemExit), remote.exception
    assert (remote.exit_code, remote.stdout, remote.stderr) == (
        local.exit_code,
        local.stdout,
        local.stderr,
    )


@pytest.mark.parametrize("args", [[], ["--json"]], ids=["text", "json"])
def test_verify_prints_the_same_through_the_server(server: RunningServer, args: list[str]) -> None:
    remote = _remote(server, "audit", "verify", *args)
    assert remote.exit_code == 0, remote.output
    _same(remote, _local(server, "audit", "verify", *args))


def test_verify_with_the_callers_copy_of_the_public_key(
    server: RunningServer, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    copy = tmp_path / "offline.pub"
    copy.write_bytes((server.home / "keys" / "workspace-signing.pub").read_bytes())
    assert _remote(server, "audit", "verify", "--public-key", str(copy)).exit_code == 0
    other = Ed25519PrivateKey.generate().public_key()
    copy.write_bytes(other.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    remote = _remote(server, "audit", "verify", "--public-key", str(copy))
    assert remote.exit_code == 7 and "no valid signature" in remote.stdout
    _same(remote, _local(server, "audit", "verify", "--public-key", str(copy)))
    copy.write_text("not a key")
    bad = _remote(server, "audit", "verify", "--public-key", str(copy))
    assert bad.exit_code == 7 and f"public key file {copy} is unreadable" in bad.stderr
    _same(bad, _local(server, "audit", "verify", "--public-key", str(copy)))


def test_the_verifiers_state_and_witnesses_are_refused_through_the_server(
    server: RunningServer, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    result = _remote(server, "audit", "verify", "--state", str(state))
    assert result.exit_code == 2, result.output
    assert "--state and --witness are not available through the server" in result.stderr
    assert not state.exists()


def test_checkpoint_through_the_server(server: RunningServer) -> None:
    remote = _remote(server, "audit", "checkpoint", "--json")
    assert remote.exit_code == 0, remote.output
    signed = json.loads(remote.stdout)
    local = _local(server, "audit", "checkpoint", "--json")
    assert local.exit_code == 0, local.output
    assert {k: v for k, v in json.loads(local.stdout).items() if k != "note"} == {
        "size": signed["size"],
        "head_hash": signed["head_hash"],
    }
    lines = (server.home / "audit-checkpoints.log").read_text().splitlines()
    assert json.loads(lines[-1])["note"] == json.loads(local.stdout)["note"]
    assert signed["note"] in [json.loads(line)["note"] for line in lines]
    text = _remote(server, "audit", "checkpoint")
    assert text.exit_code == 0 and text.stdout.startswith(f"checkpoint at event {signed['size']}:")


def test_checkpoint_refuses_a_login_that_is_no_registered_person(server: RunningServer) -> None:
    with App.open(server.home) as app, pytest.raises(IdentityError):
        operations.run(app, "mallory", "audit.checkpoint", {})
    with App.open(server.home) as app, pytest.raises(IdentityError):
        operations.run(app, "mallory", "audit.verify", {})


def test_a_broken_chain_fails_the_same_through_the_server(server: RunningServer) -> None:
    # last in this module: it breaks the module's server's log on purpose
    with sqlite3.connect(server.home / "fivesafes.db") as db:
        db.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    remote = _remote(server, "audit", "verify")
    assert remote.exit_code == 7 and "first bad event: 2" in remote.stdout
    _same(remote, _local(server, "audit", "verify"))
