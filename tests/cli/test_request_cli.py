"""``fivesafes request`` end to end on a demo-identity workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import Shell

MARKER = "Quentin Marker-9Z"  # personal data to scan for


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    sh = Shell(tmp_path / "ws")
    sh.ok(None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root")
    sh.ok("root", "people", "add", "iris", "--name", "Iris", "--role", "iao")
    sh.ok("root", "people", "add", "fiona", "--name", "Fiona", "--role", "foi")
    sh.ok("root", "people", "add", "fred", "--name", "Fred", "--role", "foi")
    sh.ok("root", "people", "add", "ada", "--name", "Ada", "--role", "analyst")
    sh.ok("root", "area", "create", "requests", "--owner", "iris")
    return sh


def _open(sh: Shell, received: str = "2026-03-07", kind: str = "foi") -> dict[str, object]:
    out = sh.ok(
        "fiona",
        "request", "open", "--kind", kind, "--received", received,
        "--requester", MARKER, "--summary", "Earnings by region", "--json",
    )  # fmt: skip
    return dict(json.loads(out.stdout))


def test_open_prints_id_and_due_date(shell: Shell) -> None:
    case = _open(shell)
    assert case["id"] == 1
    assert case["due"] == "2026-04-08"  # received on a Saturday; St Patrick's Day and Easter
    sar = _open(shell, "2026-01-31", "sar")
    assert sar["due"] == "2026-03-02"  # no 31 February; 28th is a Saturday


def test_a_case_from_receipt_to_complaint(shell: Shell) -> None:
    _open(shell)
    shell.ok("fiona", "request", "assign", "1", "fred", "--on", "2026-03-09")
    stopped = json.loads(
        shell.ok("fred", "request", "clarify", "1", "--on", "2026-03-10", "--json").stdout
    )
    assert stopped["state"] == "clarifying" and stopped["due"] is None
    shell.ok("fred", "request", "clarified", "1", "--on", "2026-03-12")
    extended = json.loads(
        shell.ok(
            "fred", "request", "extend", "1", "--reason", "s43 PIT", "--on", "2026-03-13", "--json"
        ).stdout
    )
    assert extended["extended"] is True
    shell.ok("fred", "request", "close", "1", "--outcome", "granted", "--on", "2026-04-01")
    shell.ok("fred", "request", "review", "1", "--on", "2026-04-05")
    shell.ok("fred", "request", "review-decided", "1", "--result", "upheld")
    shell.ok("fred", "request", "complaint", "1")
    done = shell.ok("fred", "request", "complaint-decided", "1", "--result", "not upheld", "--json")
    assert json.loads(done.stdout)["state"] == "complaint-decided"
    report = json.loads(shell.ok("fred", "request", "timeliness", "--json").stdout)
    assert report[0]["quarter"] == "2026-Q1" and report[0]["on_time"] == 1


def test_requester_only_to_the_case_officers_and_never_in_the_log(shell: Shell) -> None:
    _open(shell)
    assert shell.ok("fiona", "request", "requester", "1").stdout.strip() == MARKER
    refused = shell.run("fred", "request", "requester", "1")
    assert refused.exit_code != 0 and MARKER not in refused.output + refused.stderr
    shown = shell.ok("fiona", "request", "show", "1").stdout
    listed = shell.ok("fred", "request", "list").stdout
    log = shell.ok("root", "audit", "log", "--json").stdout
    for text in (shown, listed, log):
        assert MARKER not in text
    assert "request.requester_read" in log
    # Nor anywhere in the workspace's files (the database included) in plain text.
    for path in shell.home.rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path


def test_overdue_and_refusals(shell: Shell) -> None:
    _open(shell, "2025-01-06")
    out = json.loads(shell.ok("fred", "request", "overdue", "--json").stdout)
    assert [c["id"] for c in out] == [1]
    denied = shell.run("ada", "request", "open", "--kind", "foi", "--received", "2026-01-05",
                       "--requester", MARKER, "--summary", "x")  # fmt: skip
    assert denied.exit_code != 0 and "foi_officer" in denied.stderr
    assert MARKER not in denied.stderr
    bad = shell.run("fiona", "request", "close", "1", "--outcome", "granted")
    assert bad.exit_code != 0 and "open cannot close" in bad.stderr


def test_exempt_and_refusal_notice(shell: Shell) -> None:
    _open(shell)
    shell.ok("fiona", "request", "assign", "1", "fiona")
    refused = shell.run("fiona", "request", "exempt", "1", "--part", "turnover", "--code", "s43")
    assert refused.exit_code != 0 and "public-interest" in refused.stderr
    shell.ok("fiona", "request", "exempt", "1", "--part", "turnover of the largest firm",
             "--code", "s43", "--public-interest", "harm to the firm outweighs")  # fmt: skip
    shell.ok("fiona", "request", "close", "1", "--outcome", "part-withheld")
    notice = shell.ok("fiona", "request", "refusal-notice", "1").stdout
    assert "withholding it in part" in notice and "s43" in notice and MARKER not in notice


def test_figure_through_the_gate(shell: Shell, tmp_path: Path) -> None:
    from cli_helpers import qualify

    text = tmp_path / "declaration.txt"
    text.write_text("I will protect confidential data.\n")
    shell.ok("root", "declaration", "publish", str(text))
    qualify(shell, "iris", "fiona")
    shell.ok("root", "area", "create", "earnings", "--owner", "iris")
    shell.ok("iris", "dataset", "add", "ashe", "--area", "earnings", "--source", "survey",
             "--lawful-basis", "SRSA 2007")  # fmt: skip
    rows = ["area,person,pay"] + [f"a1,p{i},3" for i in range(8)] + ["a3,q1,2"]
    data = tmp_path / "ashe.csv"
    data.write_text("\n".join(rows) + "\n")
    shell.ok("iris", "dataset", "ingest", "earnings", str(data), "--name", "ashe")
    shell.ok("fiona", "grant", "request", "fiona", "earnings", "--justification", "FOI")
    shell.ok("iris", "grant", "approve", "1")
    shell.ok("root", "rules", "set", "standard", "--threshold", "7")
    _open(shell)
    shell.ok("fiona", "request", "assign", "1", "fiona")
    args = ("request", "figure", "1", "--dataset", "earnings/ashe", "--measure", "pay",
            "--contributor", "person", "--json")  # fmt: skip
    ok = json.loads(shell.ok("fiona", *args, "--cell", "area=a1").stdout)
    assert ok["approved"] is True and ok["value"] == 24.0
    refused = shell.run("fiona", *args, "--cell", "area=a3")
    assert refused.exit_code == 3
    out = json.loads(refused.stdout)
    assert out["approved"] is False and out["value"] is None and "threshold" in out["reasons"][0]


def test_disclosure_log_files_hold_no_personal_data(shell: Shell, tmp_path: Path) -> None:
    _open(shell)
    shell.ok("fiona", "request", "assign", "1", "fiona")
    shell.ok("fiona", "request", "close", "1", "--outcome", "granted")
    out = tmp_path / "log"
    done = json.loads(
        shell.ok("fiona", "request", "disclosure-log", "--out", str(out), "--json").stdout
    )
    assert done["entries"] == 1
    for name in ("disclosure-log.csv", "disclosure-log.html"):
        text = (out / name).read_text()
        assert "FOI-1" in text and "Earnings by region" in text and MARKER not in text


def test_disclosure_log_is_never_written_through_a_link(shell: Shell, tmp_path: Path) -> None:
    # it was written to OUT/.disclosure-log.csv.partial, a fixed name, following a link
    # left there; now to a fresh temporary file (0600), and a link at the log is refused
    _open(shell)
    out, victim = tmp_path / "log", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_text("someone else's")
    (out / ".disclosure-log.csv.partial").symlink_to(victim)
    shell.ok("fiona", "request", "disclosure-log", "--out", str(out))
    assert victim.read_text() == "someone else's"
    for name in ("disclosure-log.csv", "disclosure-log.html"):
        assert (out / name).stat().st_mode & 0o777 == 0o600
    (out / "disclosure-log.csv").unlink()
    (out / "disclosure-log.csv").symlink_to(victim)
    refused = shell.run("fiona", "request", "disclosure-log", "--out", str(out))
    assert refused.exit_code == 2 and "symbolic link" in refused.stderr
    assert victim.read_text() == "someone else's"


def test_erase_and_rectify_a_subjects_records(shell: Shell, tmp_path: Path) -> None:
    from cli_helpers import qualify

    text = tmp_path / "declaration.txt"
    text.write_text("I will protect confidential data.\n")
    shell.ok("root", "declaration", "publish", str(text))
    qualify(shell, "iris", "fiona")
    shell.ok("root", "area", "create", "crm", "--owner", "iris")
    shell.ok("iris", "dataset", "add", "contacts", "--area", "crm", "--source", "mailing",
             "--lawful-basis", "UK GDPR Art 6(1)(e)")  # fmt: skip
    shell.ok("iris", "dataset", "add", "survey", "--area", "crm", "--source", "survey",
             "--lawful-basis", "SRSA 2007")  # fmt: skip
    for name in ("contacts", "survey"):
        data = tmp_path / f"{name}.csv"
        data.write_text("ref,town\nP-1,Leeds\nP-2,York\nP-3,Hull\n")
        shell.ok("iris", "dataset", "ingest", "crm", str(data), "--name", name)
    _open(shell, kind="sar")
    shell.ok("fiona", "request", "assign", "1", "fiona")
    found = shell.ok(
        "fiona", "request", "subject-search", "1", "--identifier", "P-2", "--column", "ref"
    )
    assert (
        "2 dataset(s) searched" in found.stdout and "crm/contacts: 1 row(s) (ref)" in found.stdout
    )
    fixed = shell.ok(
        "fiona", "request", "rectify", "1", "--identifier", "P-2", "--column", "ref",
        "--set", "town=Ripon",
    )  # fmt: skip
    assert "crm/contacts: 1 row(s), done" in fixed.stdout
    assert "crm/survey: 1 row(s), refused" in fixed.stdout and "para 27" in fixed.stdout
    erased = json.loads(
        shell.ok(
            "fiona", "request", "erase", "1", "--identifier", "P-2", "--column", "ref", "--json"
        ).stdout
    )
    assert {(o["dataset"], o["done"]) for o in erased} == {("contacts", True), ("survey", False)}
    log = shell.ok("root", "audit", "log", "--json").stdout
    assert "request.erase" in log and "request.rectify" in log
    assert "P-2" not in log and "Ripon" not in log and MARKER not in log
    bad = shell.run("fiona", "request", "rectify", "1", "--identifier", "P-1", "--set", "town")
    assert bad.exit_code != 0 and "COLUMN=VALUE" in bad.output + bad.stderr
