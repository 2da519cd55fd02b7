"""``table protect --dataset AREA/NAME``: tabulate a registered, encrypted dataset through
the audited access decision, and refuse with every reason when access is denied."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fivesafes.cli.main import cli

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
    _ok(home, "root", "training", "record", "ada", "Responsible for information", "--date", today)
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


def test_an_authorised_analyst_tabulates_the_encrypted_dataset(workspace: Path) -> None:
    spec = workspace.parent / "pay.toml"
    out = workspace.parent / "out"
    _ok(workspace, "ada", "table", "protect", str(spec), "--dataset", "earnings/pay",
        "--out", str(out))  # fmt: skip
    with (out / "cells.csv").open() as fh:
        cells = {r["region"]: r for r in csv.DictReader(fh)}
    assert cells["S"]["status"] == "primary" and cells["N"]["status"] == "safe"
    assert float(cells["Total"]["value"]) == sum(100 + i for i in range(6)) + 999
    log = _ok(workspace, "root", "audit", "log", "--action", "access.decide", "--json")
    assert '"ada"' in log.stdout and "allowed" in log.stdout


def test_a_person_without_a_grant_is_refused_with_reasons_and_it_is_audited(
    workspace: Path,
) -> None:
    spec = workspace.parent / "pay.toml"
    refused = _run(workspace, "bob", "table", "protect", str(spec), "--dataset", "earnings/pay",
                   "--out", str(workspace.parent / "out-bob"))  # fmt: skip
    assert refused.exit_code != 0
    assert "grant" in refused.stderr and "declaration" in refused.stderr
    assert not (workspace.parent / "out-bob").exists()
    log = _ok(workspace, "root", "audit", "log", "--action", "access.decide", "--json")
    assert '"bob"' in log.stdout and "denied" in log.stdout


def test_data_and_dataset_are_exclusive(workspace: Path) -> None:
    spec = workspace.parent / "pay.toml"
    both = _run(workspace, "ada", "table", "protect", str(spec), "--data", "x.csv",
                "--dataset", "earnings/pay")  # fmt: skip
    assert both.exit_code == 2 and "exactly one of --data" in both.stderr
