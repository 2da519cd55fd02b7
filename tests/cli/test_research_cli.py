"""``fivesafes researcher`` and ``fivesafes project`` through click's CliRunner."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from cli_helpers import research_world
from click.testing import CliRunner, Result

from fivesafes.cli.main import cli
from fivesafes.workspace import Workspace

TODAY = date.today()


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    with workspace.transaction() as session:
        research_world().build(session, today=TODAY)
    return workspace


def run(monkeypatch: pytest.MonkeyPatch, user: str, *args: str) -> Result:
    monkeypatch.setenv("FIVESAFES_USER", user)
    return CliRunner().invoke(cli, list(args))


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def as_json(result: Result) -> object:
    return json.loads(ok(result))


ACCREDIT = ["researcher", "accredit", "rita", "--body", "UKSA", "--reference", "DEA-1"]


def test_accredit_list_and_show(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    out = ok(run(monkeypatch, "admin", *ACCREDIT, "--level", "full"))
    assert "accredited rita" in out and "valid" in out
    listed = as_json(run(monkeypatch, "admin", "researcher", "list", "--json"))
    assert isinstance(listed, list) and listed[0]["login"] == "rita" and listed[0]["accredited"]
    shown = as_json(run(monkeypatch, "sam", "researcher", "show", "rita", "--json"))
    assert isinstance(shown, dict)
    assert (
        shown["current"]["expires"]
        == (TODAY.replace(year=TODAY.year + 5) - timedelta(days=1)).isoformat()
    )
    assert "safe researcher training: valid" in ok(
        run(monkeypatch, "sam", "researcher", "show", "rita")
    )


@pytest.mark.parametrize(
    ("user", "extra", "status", "message"),
    [
        ("admin", ["--level", "provisional"], 2, "needs a named supervisor"),
        ("admin", ["--level", "gold"], 2, "unknown accreditation level"),
        ("rita", ["--level", "full"], 6, "may not record their own accreditation"),
        ("admin", ["--level", "full", "--expires", "2000-01-01"], 2, "before it was granted"),
    ],
)
def test_accredit_errors_say_what_to_do(
    ws: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    user: str,
    extra: list[str],
    status: int,
    message: str,
) -> None:
    result = run(monkeypatch, user, *ACCREDIT, *extra)
    assert result.exit_code == status, result.output
    assert message in result.stderr and "what to do:" in result.stderr
    assert (
        as_json(run(monkeypatch, "admin", "researcher", "show", "rita", "--json"))["history"] == []
    )  # type: ignore[index]


def test_unknown_researcher(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, "admin", "researcher", "show", "ghost")
    assert result.exit_code == 4 and "ghost" in result.stderr


def _propose(monkeypatch: pytest.MonkeyPatch, *extra: str) -> Result:
    return run(
        monkeypatch,
        "rita",
        "project",
        "propose",
        "PRJ-1",
        "--title",
        "Earnings by region",
        "--purpose",
        "Regional earnings distributions",
        "--public-benefit",
        "Better local statistics",
        "--dataset",
        "ashe",
        "--start",
        (TODAY - timedelta(days=1)).isoformat(),
        *extra,
    )


END = (TODAY + timedelta(days=200)).isoformat()


def test_project_life_cycle(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ok(run(monkeypatch, "admin", *ACCREDIT, "--level", "full"))
    assert "proposed PRJ-1" in ok(_propose(monkeypatch, "--end", END, "--member", "sam"))
    approved = as_json(run(monkeypatch, "hana", "project", "approve", "PRJ-1", "--json"))
    assert isinstance(approved, dict) and approved["status"] == "active"
    new_end = (TODAY + timedelta(days=400)).isoformat()
    change = as_json(
        run(
            monkeypatch,
            "rita",
            "project",
            "request-change",
            "PRJ-1",
            "--kind",
            "extend",
            "--new-end",
            new_end,
            "--reason",
            "fieldwork delayed",
            "--json",
        )
    )
    assert isinstance(change, dict) and change["status"] == "requested"
    decided = ok(run(monkeypatch, "hana", "project", "decide-change", str(change["id"]), "approve"))
    assert "approved" in decided
    shown = ok(run(monkeypatch, "sam", "project", "show", "PRJ-1"))
    assert new_end in shown and "extend" in shown and "fieldwork delayed" in shown
    assert "PRJ-1" in ok(run(monkeypatch, "sam", "project", "list", "--status", "active"))
    closed = ok(run(monkeypatch, "hana", "project", "close", "PRJ-1", "--reason", "done"))
    assert "closed" in closed
    again = run(
        monkeypatch,
        "rita",
        "project",
        "request-change",
        "PRJ-1",
        "--kind",
        "extend",
        "--new-end",
        (TODAY + timedelta(days=900)).isoformat(),
        "--reason",
        "more",
    )
    assert again.exit_code == 2 and "closed" in again.stderr


def test_project_denials_and_validation(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ok(run(monkeypatch, "admin", *ACCREDIT, "--level", "full"))
    early = run(
        monkeypatch,
        "rita",
        "project",
        "propose",
        "X-1",
        "--title",
        "t",
        "--purpose",
        "p",
        "--public-benefit",
        "b",
        "--dataset",
        "ashe",
        "--start",
        END,
        "--end",
        TODAY.isoformat(),
    )
    assert early.exit_code == 2 and "not after its start" in early.stderr
    ok(_propose(monkeypatch, "--end", END))
    own = run(monkeypatch, "rita", "project", "approve", "PRJ-1")
    assert own.exit_code == 6 and "leads project PRJ-1" in own.stderr
    stray = run(
        monkeypatch,
        "hana",
        "project",
        "request-change",
        "PRJ-1",
        "--kind",
        "extend",
        "--add-member",
        "sam",
        "--reason",
        "x",
    )
    assert stray.exit_code == 2 and "do not belong" in stray.stderr
    missing = run(monkeypatch, "hana", "project", "show", "NOPE")
    assert missing.exit_code == 4


@pytest.mark.parametrize(
    "command",
    [
        ["researcher"],
        ["researcher", "accredit"],
        ["project"],
        ["project", "propose"],
        ["project", "request-change"],
        ["project", "decide-change"],
        ["project", "close"],
    ],
)
def test_help_has_examples(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output
