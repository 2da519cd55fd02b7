"""The periodic reviews (T6.5) through a real server socket: the same output as in process,
the report written where the caller asked (never by the server), and a refusal's status."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from server_helpers import ADMIN, RunningServer

from fivesafes.app import App
from fivesafes.cli.main import cli
from fivesafes.server import operations


def _remote(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--server", server.address, *args])


def _local(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"FIVESAFES_HOME": str(server.home)})


@pytest.mark.parametrize(
    "args",
    [
        ("review", "access"),
        ("review", "access", "--within", "60", "--json"),
        ("review", "access", "--as-of", "2031-01-01", "--json"),
        ("review", "access", "--within", "-1"),  # out of range: exit status 2 either way
    ],
    ids=" ".join,
)
def test_review_access_prints_what_it_prints_in_process(
    server: RunningServer, args: tuple[str, ...]
) -> None:
    remote, local = _remote(server, *args), _local(server, *args)
    assert (remote.exit_code, remote.stdout, remote.stderr) == (
        local.exit_code,
        local.stdout,
        local.stderr,
    )


def test_review_report_is_written_by_the_caller_and_recorded_by_the_server(
    server: RunningServer, tmp_path: Path
) -> None:
    out = tmp_path / "reviews"
    done = _remote(server, "review", "report", "--out", str(out), "--json")
    assert done.exit_code == 0, done.output
    rec = json.loads(done.stdout)
    md, html = Path(rec["markdown_path"]), Path(rec["html_path"])
    assert md.parent == out and html.parent == out
    assert hashlib.sha256(md.read_bytes()).hexdigest() == rec["markdown_sha256"]
    assert hashlib.sha256(html.read_bytes()).hexdigest() == rec["html_sha256"]
    assert not (server.home / "reviews").exists(), "the server wrote a report file"
    again = _remote(server, "review", "report", "--out", str(out))  # never overwrites
    assert again.exit_code == 0, again.output
    assert len(list(out.glob("*.md"))) == 2
    listed = _remote(server, "review", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.stdout)][-1] == rec["id"]
    assert json.loads(listed.stdout)[-1]["location"] == str(out.resolve())
    assert _remote(server, "review", "list").stdout == _local(server, "review", "list").stdout


def test_a_refused_review_report_exits_as_in_process_and_writes_nothing(
    server: RunningServer, tmp_path: Path
) -> None:
    with App.open(server.home) as app:
        operations.run(app, ADMIN, "people.add", {"login": "rita", "name": "Rita"})
    out = tmp_path / "refused"
    body = {"within": 30}
    with App.open(server.home) as app:
        try:
            operations.run(app, "rita", "review.report", body)
        except Exception as exc:  # the same refusal the CLI turns into exit status 6
            assert "may not carry out the periodic review" in str(exc)
        else:
            raise AssertionError("rita carried out a review")
    answer = server.call("review.report", within=-5)
    assert answer.status_code in (400, 422), answer.text
    result = _remote(server, "review", "report", "--out", str(out), "--within", "-5")
    assert result.exit_code == 2 and "out of range" in result.stderr
    assert not out.exists()
