"""``table protect --dataset AREA/NAME``: tabulate a registered, encrypted dataset through
the audited access decision, and refuse with every reason when access is denied."""

from __future__ import annotations

import csv
import json
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from fivesafes.cli.main import cli
from fivesafes.outputs import OutputRules, Session

SPEC = """
[table]
name = "pay_by_region"
response = "pay"
contributor = "person"

[[dimension]]
name = "region"

[rules]
threshold = 3

[suppression]
method = "none"
"""


def _run(home: Path, user: str | None, *args: str) -> Result:
    env = {"FIVESAFES_HOME": str(home)}
    if user:
        env["FIVESAFES_USER"] = user
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _ok(home: Path, user: str | None, *args: str) -> Result:
    result = _run(home, user, *args)
    assert result.exit_code == 0, (args, result.output, result.stderr)
    return result


MANDATORY = "Responsible for information"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    home = tmp_path / "ws"
    _ok(home, None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root")
    today = datetime.now(UTC).date().isoformat()
    _ok(home, "root", "people", "add", "iris", "--name", "Iris", "--role", "iao")
    _ok(home, "root", "people", "add", "ada", "--name", "Ada", "--role", "analyst")
    _ok(home, "root", "people", "add", "bob", "--name", "Bob", "--role", "analyst")
    _ok(home, "root", "area", "create", "earnings", "--owner", "iris")
    _ok(home, "iris", "dataset", "add", "pay", "--area", "earnings", "--source", "survey",
        "--lawful-basis", "SRSA 2007")  # fmt: skip
    declaration = tmp_path / "declaration.txt"
    declaration.write_text("I will keep confidential data confidential.\n", encoding="utf-8")
    _ok(home, "root", "declaration", "publish", str(declaration))
    _ok(home, "ada", "declaration", "sign", "--version", "1")
    for login in ("ada", "iris"):  # the owner decides on access: trained and signed too
        _ok(
            home,
            "root",
            "training",
            "record",
            login,
            "Responsible for information",
            "--date",
            today,
        )
    _ok(home, "iris", "declaration", "sign", "--version", "1")
    made = _ok(home, "ada", "grant", "request", "ada", "earnings", "--justification", "t", "--json")
    _ok(home, "iris", "grant", "approve", str(json.loads(made.stdout)["id"]))
    data = tmp_path / "pay.csv"
    rows = [("N", f"p{i}", 100 + i) for i in range(6)] + [("S", "p9", 999)]
    with data.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["region", "person", "pay"])
        w.writerows(rows)
    _ok(home, "iris", "dataset", "ingest", "earnings", str(data), "--name", "pay")
    (tmp_path / "pay.toml").write_text(SPEC, encoding="utf-8")
    return home


def test_an_authorised_analyst_protects_the_dataset_and_it_stays_in_the_area(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # anything written "here" would be found below
    spec = workspace.parent / "pay.toml"
    made = _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay",
               "--name", "pay-2026", "--json")  # fmt: skip
    (summary,) = json.loads(made.stdout)["tables"]
    assert summary["output"] == "earnings/pay-2026" and summary["source"] == "pay:pay"
    assert summary["by_status"]["primary"] == 1 and summary["cells"] == 3
    # Counts only: neither S's value (999, primary) nor the total (1614) is printed.
    shown = {k: v for k, v in summary.items() if k not in ("object_id", "spec_sha256")}
    assert "999" not in json.dumps(shown) and "1614" not in json.dumps(shown)
    assert not list(tmp_path.rglob("cells.csv")) and not list(tmp_path.rglob("report.json"))
    text = _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay")
    assert "stored encrypted as output earnings/t-" in text.stdout
    assert "fivesafes release submit --output earnings/t-" in text.stdout
    counts = [line for line in text.stdout.splitlines() if "earnings/t-" not in line]
    assert counts and not any("999" in line or "1614" in line for line in counts)
    stored = _ok(workspace, "iris", "dataset", "stored", "earnings", "--json")
    outputs = [o for o in json.loads(stored.stdout) if o["kind"] == "output"]
    assert {o["source"] for o in outputs} == {"pay:pay"} and len(outputs) == 2
    log = _ok(workspace, "root", "audit", "log", "--action", "table.protect", "--json")
    assert '"ada"' in log.stdout and '"spec_sha256"' in log.stdout


def test_progress_of_a_stored_table_goes_to_stderr_unless_quiet(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fivesafes.cli.progress.SHOW_AFTER", 0.0)  # every stage leaves a line
    spec = workspace.parent / "pay.toml"
    made = _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay",
               "--json")  # fmt: skip
    lines = made.stderr.splitlines()
    assert any(line.startswith("read dataset earnings/pay") for line in lines)
    assert any(line.startswith("tabulate: 3 cells") for line in lines)
    assert any(line.startswith("store outputs (encrypted): 1 output(s)") for line in lines)
    assert not any("999" in line or "1614" in line for line in lines)  # no value on stderr
    assert json.loads(made.stdout)["tables"]  # stdout stays JSON
    quiet = _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay",
                "--quiet")  # fmt: skip
    # only the demo identity's notice is left
    assert [line for line in quiet.stderr.splitlines() if not line.startswith("notice:")] == []


def test_out_is_refused_with_dataset_and_changes_nothing(workspace: Path) -> None:
    spec = workspace.parent / "pay.toml"
    out = workspace.parent / "out"
    refused = _run(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay",
                   "--out", str(out))  # fmt: skip
    assert refused.exit_code == 2 and "--out is refused with --dataset" in refused.stderr
    assert "release submit --output" in refused.stderr and not out.exists()
    log = _ok(workspace, "root", "audit", "log", "--action", "access.decide", "--json")
    assert '"ada"' not in log.stdout  # refused before the dataset was opened


def _scan(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_no_plaintext_marker_on_disk_after_protecting_a_dataset(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    marker = f"MARKER{secrets.token_hex(6)}"
    _ok(workspace, "iris", "dataset", "add", "marked", "--area", "earnings", "--source", "s",
        "--lawful-basis", "SRSA 2007")  # fmt: skip
    data = tmp_path / "marked.csv"
    rows = [(f"{marker}{i % 3}", f"p{i}", 100 + i) for i in range(10)]
    with data.open("w", newline="") as fh:
        csv.writer(fh).writerows([("region", "person", "pay"), *rows])
    _ok(workspace, "iris", "dataset", "ingest", "earnings", str(data), "--name", "marked")
    data.unlink()
    spec = workspace.parent / "pay.toml"
    made = _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/marked")
    assert "stored encrypted as output" in made.stdout and marker not in made.stdout
    assert _scan(tmp_path, marker.encode()) == []


def test_the_stored_table_is_submitted_with_its_verified_source(workspace: Path) -> None:
    spec = workspace.parent / "pay.toml"
    _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay",
        "--name", "pay-2026")  # fmt: skip
    other = _run(workspace, "ada", "release", "submit", "--output", "earnings/pay-2026",
                 "--purpose", "bulletin", "--source", "other:pay")  # fmt: skip
    assert other.exit_code == 2 and "contradicts the provenance" in other.stderr
    sub = _ok(workspace, "ada", "release", "submit", "--output", "earnings/pay-2026",
              "--purpose", "bulletin", "--json")  # fmt: skip
    view = json.loads(sub.stdout)
    assert view["source"] == "pay:pay" and view["source_verified"] is True
    checks = {c["name"]: c["verdict"] for c in view["versions"][0]["checks"]}
    assert checks["source"] == "pass"
    shown = _ok(workspace, "ada", "release", "show", str(view["id"]))
    assert "source pay:pay: verified" in shown.stdout
    missing = _run(workspace, "ada", "release", "submit", "--output", "earnings/nothing",
                   "--purpose", "bulletin")  # fmt: skip
    assert missing.exit_code == 4 and "no stored output" in missing.stderr


def test_a_person_without_a_grant_is_refused_with_reasons_and_it_is_audited(
    workspace: Path,
) -> None:
    spec = workspace.parent / "pay.toml"
    refused = _run(workspace, "bob", "table", "protect", str(spec), "--dataset", "earnings/pay")
    assert refused.exit_code != 0
    assert "grant" in refused.stderr and "declaration" in refused.stderr
    stored = _ok(workspace, "iris", "dataset", "stored", "earnings", "--json")
    assert [o["kind"] for o in json.loads(stored.stdout)] == ["dataset"]
    log = _ok(workspace, "root", "audit", "log", "--action", "access.decide", "--json")
    assert '"bob"' in log.stdout and "denied" in log.stdout


def test_data_and_dataset_are_exclusive(workspace: Path) -> None:
    spec = workspace.parent / "pay.toml"
    both = _run(workspace, "ada", "table", "protect", str(spec), "--data", "x.csv",
                "--dataset", "earnings/pay")  # fmt: skip
    assert both.exit_code == 2 and "exactly one of --data" in both.stderr
    named = _run(workspace, "ada", "table", "protect", str(spec), "--data", "x.csv",
                 "--name", "t1")  # fmt: skip
    assert named.exit_code == 2 and "--name names a stored output" in named.stderr


def test_the_summary_says_which_releases_the_table_was_protected_with(workspace: Path) -> None:
    spec = workspace.parent / "pay.toml"
    made = _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay",
               "--json")  # fmt: skip
    (summary,) = json.loads(made.stdout)["tables"]
    assert summary["with_releases"] and summary["published_releases"] == []
    text = _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay")
    assert "published releases: none of this source yet" in text.stdout
    alone = _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay",
                "--ignore-published")  # fmt: skip
    assert "not taken into account (--ignore-published)" in alone.stdout
    assert "differencing check still compares it" in alone.stdout
    log = _ok(workspace, "root", "audit", "log", "--action", "table.protect", "--json")
    events = [json.loads(line) for line in log.stdout.splitlines() if line.strip()]
    assert [e["details"]["with_releases"] for e in events][-3:] == [True, True, False]
    with_data = _run(workspace, "ada", "table", "protect", str(spec), "--data", "x.csv",
                     "--ignore-published")  # fmt: skip
    assert with_data.exit_code == 2 and "--ignore-published needs --dataset" in with_data.stderr


def test_a_session_finalised_in_the_area_is_submitted_verified_and_a_changed_one_refused(
    workspace: Path,
) -> None:
    # the researcher's rows, as the area gives them (the file ingested as earnings/pay)
    rows = [("N", f"p{i}", 100 + i) for i in range(6)] + [("S", "p9", 999)]
    df = pd.DataFrame(rows, columns=["region", "person", "pay"])
    s = Session(suppress=True, rules=OutputRules(safe_threshold=3), area="earnings", dataset="pay")
    s.pivot_table(df, values="pay", index="region", aggfunc="count")
    folder = s.finalise(str(workspace.parent / "session")) / "tables" / "output_0"
    changed = workspace.parent / "changed"
    shutil.copytree(folder, changed)
    (changed / "table.csv").write_text("region,pay\nN,7\n")
    refused = _run(workspace, "ada", "release", "submit", str(changed), "--purpose", "bulletin")
    assert refused.exit_code == 7 and "changed since the session finalised it" in refused.stderr
    sub = _ok(workspace, "ada", "release", "submit", str(folder), "--purpose", "bulletin", "--json")
    view = json.loads(sub.stdout)
    assert view["source"] == "pay:count" and view["source_verified"] is True
    checks = {c["name"]: c for c in view["versions"][0]["checks"]}
    assert checks["source"]["verdict"] == "pass"
    assert "computed again from dataset earnings/pay" in checks["source"]["summary"]


def test_a_derived_dataset_is_protected_with_its_family_membership(workspace: Path) -> None:
    """A dataset derived from 'pay' (the North's people) is protected as its family's
    releases see it: with its membership of 'pay', said in the summary and the audit."""
    _ok(workspace, "iris", "dataset", "add", "pay-north", "--area", "earnings", "--source",
        "survey", "--lawful-basis", "SRSA 2007", "--derived-from", "pay",
        "--unit", "person")  # fmt: skip
    north = workspace.parent / "north.csv"
    with north.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["region", "person", "pay"])
        w.writerows(("N", f"p{i}", 100 + i) for i in range(6))
    _ok(workspace, "iris", "dataset", "ingest", "earnings", str(north), "--name", "pay-north")
    spec = workspace.parent / "pay.toml"
    made = _ok(workspace, "ada", "table", "protect", str(spec), "--dataset",
               "earnings/pay-north", "--json")  # fmt: skip
    (summary,) = json.loads(made.stdout)["tables"]
    assert summary["membership"] == {"membership of pay": ["pay-north"]}
    text = _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay-north")
    assert "published releases: none of this source or its family yet" in text.stdout
    parent = _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay",
                 "--json")  # fmt: skip
    (whole,) = json.loads(parent.stdout)["tables"]
    assert whole["membership"] == {"membership of pay": ["(none)", "pay-north"]}
    log = _ok(workspace, "root", "audit", "log", "--action", "table.protect", "--json")
    events = [json.loads(line) for line in log.stdout.splitlines() if line.strip()]
    assert events[-3]["details"]["membership"] == {"membership of pay": ["pay-north"]}
