"""``fivesafes review access|report|list`` through click's CliRunner."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from cli_helpers import research_world
from click.testing import CliRunner, Result

from fivesafes.cli.main import cli
from fivesafes.workspace import Workspace

TODAY = date.today()


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    world = research_world()
    with workspace.transaction() as session:
        w = world.build(session, today=TODAY)
        # sam's grant ends in 10 days; hana's ended 3 days ago; lee left but holds one
        world.grant(
            session, w.sam, w.earnings, TODAY - timedelta(days=100), TODAY + timedelta(days=10)
        )
        world.grant(
            session, w.hop, w.earnings, TODAY - timedelta(days=100), TODAY - timedelta(days=3)
        )
        lee = world.person(session, "lee", "statistician", status="leaver")
        world.grant(session, lee, w.earnings, TODAY - timedelta(days=5), TODAY + timedelta(days=90))
    return workspace


def run(monkeypatch: pytest.MonkeyPatch, user: str, *args: str) -> Result:
    monkeypatch.setenv("FIVESAFES_USER", user)
    return CliRunner().invoke(cli, list(args))


def test_review_access_json_lists_each_kind(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, "sam", "review", "access", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["as_of"] == TODAY.isoformat() and data["within_days"] == 30
    counts = data["counts"]
    assert counts["grant_due"] == 1 and counts["grant_overdue"] == 1
    assert counts["leaver_with_grant"] == 1
    assert data["worst"] == "urgent" and data["findings"][0]["category"] == "leaver_with_grant"
    assert counts["accreditation_lapsed"] == 1  # rita holds the role but no accreditation
    narrow = json.loads(
        run(monkeypatch, "sam", "review", "access", "--within", "5", "--json").stdout
    )
    assert narrow["counts"]["grant_due"] == 0


def test_review_access_text_and_as_of(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    text = run(monkeypatch, "sam", "review", "access").stdout
    assert "Leavers still holding grants (1)" in text and "what to do:" in text
    later = (TODAY + timedelta(days=20)).isoformat()
    result = run(monkeypatch, "sam", "review", "access", "--as-of", later, "--json")
    assert json.loads(result.stdout)["counts"]["grant_overdue"] == 2


def test_review_window_out_of_range(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, "sam", "review", "access", "--within", "-1")
    assert result.exit_code == 2 and "--within" in result.stderr


def test_review_report_writes_both_files_and_records_them(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "reviews"
    result = run(monkeypatch, "admin", "review", "report", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    rec = json.loads(result.stdout)
    md, html = Path(rec["markdown_path"]), Path(rec["html_path"])
    assert md.parent == out and md.name == f"review-{TODAY.isoformat()}.md"
    assert hashlib.sha256(html.read_bytes()).hexdigest() == rec["html_sha256"]
    assert "<svg" in html.read_text() and "Leavers still holding grants" in md.read_text()
    listed = json.loads(run(monkeypatch, "sam", "review", "list", "--json").stdout)
    assert [r["markdown_sha256"] for r in listed] == [rec["markdown_sha256"]]
    log = run(monkeypatch, "admin", "audit", "log", "--action", "review.record")
    assert log.exit_code == 0 and "review.record" in log.output


def test_review_report_default_dir_and_denial(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    denied = run(monkeypatch, "rita", "review", "report")
    assert denied.exit_code == 6 and "what to do:" in denied.stderr
    assert not (ws.home / "reviews").exists()
    done = run(monkeypatch, "hana", "review", "report")
    assert done.exit_code == 0, done.output
    assert (ws.home / "reviews" / f"review-{TODAY.isoformat()}.html").is_file()


def test_review_report_refuses_a_symbolic_link_for_out(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # writing through it would put the review (people's names) wherever it points
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "reviews"
    out.symlink_to(elsewhere)
    result = run(monkeypatch, "admin", "review", "report", "--out", str(out), "--json")
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "output" and "symbolic link" in error["message"]
    assert list(elsewhere.iterdir()) == []
    assert json.loads(run(monkeypatch, "sam", "review", "list", "--json").stdout) == []


def test_review_report_refuses_a_symbolic_link_where_its_file_goes(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a dangling link at review-DATE.md: replaced by the rename, someone's link was lost
    out = tmp_path / "reviews"
    out.mkdir()
    link = out / f"review-{TODAY.isoformat()}.md"
    link.symlink_to(tmp_path / "nowhere.md")
    result = run(monkeypatch, "admin", "review", "report", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert "error [output]" in result.stderr and "symbolic link" in result.stderr
    assert link.is_symlink() and not (tmp_path / "nowhere.md").exists()
    assert sorted(p.name for p in out.iterdir()) == [link.name]
    # refused before the review was recorded
    assert json.loads(run(monkeypatch, "sam", "review", "list", "--json").stdout) == []


@pytest.mark.parametrize(
    "command", [["review"], ["review", "access"], ["review", "report"], ["review", "list"]]
)
def test_help_has_examples(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output
