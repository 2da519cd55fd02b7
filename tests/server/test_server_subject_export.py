"""`request subject-export` through a real server: the server hands the case's officer the
files' contents (audited), the CLI writes them into a private folder on the caller's
machine, as in process; nobody else gets them and the server writes nothing."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from server_helpers import RunningServer

from fivesafes.app import App
from fivesafes.cli.main import cli
from fivesafes.errors import AccessDenied
from fivesafes.governance.training import MANDATORY_COURSE
from fivesafes.server import operations

WHO = "P-2"


def _remote(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--server", server.address, *args])


def _local(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"FIVESAFES_HOME": str(server.home)})


def _ok(server: RunningServer, *args: str) -> Result:
    result = _remote(server, *args)
    assert result.exit_code == 0, (args, result.output, result.stderr)
    return result


@pytest.fixture(scope="module")
def case(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A subject access case, assigned to the server's administrator, with records found."""
    tmp = tmp_path_factory.mktemp("subject")
    login = str(server.call("whoami").json()["result"]["login"])
    server.call("people.roles", login=login, add=["foi", "iao"]).raise_for_status()
    text = tmp / "declaration.txt"
    text.write_text("I will protect confidential data.\n")
    _ok(server, "declaration", "publish", str(text))
    today = datetime.now(UTC).date().isoformat()
    _ok(server, "training", "record", login, MANDATORY_COURSE, "--date", today, "--evidence", "t")
    _ok(server, "declaration", "sign", "--version", "1")
    _ok(server, "area", "create", "requests", "--owner", login)
    _ok(server, "area", "create", "crm", "--owner", login)
    _ok(server, "dataset", "add", "contacts", "--area", "crm", "--source", "mailing",
        "--lawful-basis", "UK GDPR Art 6(1)(e)")  # fmt: skip
    data = tmp / "contacts.csv"
    data.write_text(f"ref,town\nP-1,Leeds\n{WHO},=York\nP-3,Hull\n")
    _ok(server, "dataset", "ingest", "crm", str(data), "--name", "contacts")
    opened = _ok(server, "request", "open", "--kind", "sar", "--received", "2026-03-07",
                 "--requester", "Sam Subject", "--summary", "My records", "--json")  # fmt: skip
    number = str(json.loads(opened.stdout)["id"])
    _ok(server, "request", "assign", number, login)
    _ok(server, "request", "subject-search", number, "--identifier", WHO, "--column", "ref")
    return number


def test_the_export_is_written_by_the_caller_as_in_process(
    server: RunningServer, case: str, tmp_path: Path
) -> None:
    remote, local = tmp_path / "remote", tmp_path / "local"
    sent = _remote(server, "request", "subject-export", case, "--out", str(remote), "--json")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout) == {"files": [str(remote / "crm__contacts.csv")]}
    here = _local(server, "request", "subject-export", case, "--out", str(local), "--json")
    assert here.exit_code == 0, here.output
    assert here.stdout == sent.stdout.replace(str(remote), str(local))
    text = _remote(server, "request", "subject-export", case, "--out", str(tmp_path / "t"))
    assert text.stdout == f"request #{case}: 1 file(s) in {tmp_path / 't'} for the subject\n"
    assert stat.S_IMODE(remote.stat().st_mode) == 0o700
    written = (remote / "crm__contacts.csv").read_bytes()
    assert written == (local / "crm__contacts.csv").read_bytes()
    assert written == f"ref,town\r\n{WHO},'=York\r\n".encode()  # no formula for the spreadsheet
    assert not any(server.home.rglob("crm__contacts.csv")), "the server wrote the export"
    events = server.call("audit.log", action="request.subject_export").json()["result"]
    assert [(e["subject"], e["outcome"]) for e in events] == [(case, "done")] * 3
    assert WHO not in json.dumps(events)


def test_only_the_cases_officer_gets_the_records(server: RunningServer, case: str) -> None:
    server.call("people.add", login="nina", name="Nina", roles=["foi"]).raise_for_status()
    with App.open(server.home) as app, pytest.raises(AccessDenied):
        operations.run(app, "nina", "request.subject_export", {"case_id": int(case)})
    missing = ["request", "subject-export", "999", "--out", "never"]
    remote, local = _remote(server, *missing), _local(server, *missing)
    assert remote.exit_code == 4, remote.output
    assert (remote.exit_code, remote.stdout, remote.stderr) == (
        local.exit_code,
        local.stdout,
        local.stderr,
    )
    assert not Path("never").exists()
