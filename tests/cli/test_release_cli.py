"""``fivesafes release`` and ``fivesafes rules`` end to end on a demo-identity workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import Shell, qualify
from click.testing import CliRunner

from fivesafes.cli.main import cli
from fivesafes.release.bundle import verify_bundle

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    sh = Shell(tmp_path / "ws")
    sh.ok(None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root")
    sh.ok("root", "people", "add", "iris", "--name", "Iris", "--role", "iao")
    sh.ok("root", "people", "add", "ada", "--name", "Ada", "--role", "analyst")
    for login in ("olga", "oscar"):
        sh.ok("root", "people", "add", login, "--name", login, "--role", "output_checker")
    # Whoever decides on access, sees hidden values or takes an output out of an area
    # (the submitter) is trained and has signed the declaration.
    text = tmp_path / "declaration.txt"
    text.write_text("I will protect confidential data.\n")
    sh.ok("root", "declaration", "publish", str(text))
    qualify(sh, "iris", "olga", "oscar", "ada")
    sh.ok("root", "area", "create", "earnings", "--owner", "iris")
    sh.ok("iris", "dataset", "add", "survey", "--area", "earnings", "--source", "survey",
          "--lawful-basis", "SRSA 2007")  # fmt: skip
    sh.ok("ada", "grant", "request", "ada", "earnings", "--justification", "bulletin")
    sh.ok("iris", "grant", "approve", "1")
    return sh


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("protected") / "out"
    result = CliRunner().invoke(
        cli,
        [
            "table",
            "protect",
            str(EXAMPLES / "turnover.toml"),
            "--data",
            str(EXAMPLES / "survey.csv"),
            "--out",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out


def test_submit_review_publish_with_json(shell: Shell, protected: Path) -> None:
    shell.ok("root", "rules", "set", "standard", "--threshold", "3", "--note", "policy")
    rules = json.loads(shell.ok("root", "rules", "list", "--json").stdout)
    assert rules[0]["version"] == 1 and rules[0]["parameters"]["threshold"] == 3
    sub = shell.ok(
        "ada",
        "release",
        "submit",
        str(protected),
        "--area",
        "earnings",
        "--purpose",
        "Annual bulletin",
        "--dataset",
        "survey",
        "--source",
        "survey:turnover",
        "--json",
    )
    view = json.loads(sub.stdout)
    rid = str(view["id"])
    checks = {c["name"]: c["verdict"] for c in view["versions"][0]["checks"]}
    # a folder's source is declared by the author: the reviewers are told so
    assert checks == {
        "source": "review",
        "rules": "pass",
        "audit": "pass",
        "differencing": "pass",
        "regime": "pass",
    }
    assert view["source_verified"] is False
    denied = shell.run("ada", "release", "approve", rid)
    assert denied.exit_code != 0 and "own request" in denied.output
    shell.ok("olga", "release", "review", rid, "--vote", "approve", "--comment", "ok")
    blinded = json.loads(shell.ok("oscar", "release", "show", rid, "--json").stdout)
    assert blinded["reviews"] == [] and blinded["reviews_in"] == 1
    waits = shell.run("oscar", "release", "approve", rid)
    assert waits.exit_code == 2 and "asset owner (iris) has not confirmed" in waits.stderr
    shell.ok("iris", "release", "confirm-source", rid, "--note", "made from the survey")
    shell.ok("oscar", "release", "approve", rid)
    done = json.loads(shell.ok("ada", "release", "publish", rid, "--json").stdout)
    verify_bundle(Path(done["bundle_path"]))
    assert Path(done["bundle_path"]).parent == shell.home / "releases"
    # Nothing half-done: the staged bundle was renamed into place after the commit.
    assert json.loads(shell.ok("root", "release", "reconcile", "--json").stdout) == []
    assert [p for p in (shell.home / "releases" / ".staging").iterdir() if p.is_dir()] == []
    listed = json.loads(shell.ok("root", "release", "list", "--json").stdout)
    assert listed[0]["state"] == "released"
    register = json.loads(shell.ok("root", "release", "published", "--json").stdout)
    assert register[0]["cells"] == done["cells"] > 0


def test_weaker_rules_are_refused_with_a_reason(shell: Shell, protected: Path) -> None:
    shell.ok("root", "rules", "set", "standard", "--threshold", "7")
    sub = shell.ok("ada", "release", "submit", str(protected), "--area", "earnings",
                   "--purpose", "x", "--source", "survey:turnover")  # fmt: skip
    assert "threshold 3 is weaker than 7" in sub.stdout
    assert "source survey:turnover: source declared by the author, not verified" in sub.stdout
    refused = shell.run("olga", "release", "approve", "1")
    assert refused.exit_code != 0 and "threshold 3 is weaker than 7" in refused.output


def test_show_tells_the_checks_in_force_after_the_rule_set_changed(
    shell: Shell, protected: Path
) -> None:
    # Submitted under rules the table does not meet, then the rule set changes: both
    # approvals re-run the checks and pass. The record must say so, not the old FAIL.
    shell.ok("root", "rules", "set", "standard", "--threshold", "7")
    sub = shell.ok("ada", "release", "submit", str(protected), "--area", "earnings",
                   "--purpose", "x", "--source", "survey:turnover", "--json")  # fmt: skip
    rid = str(json.loads(sub.stdout)["id"])
    assert json.loads(sub.stdout)["blocked_by"]
    shell.ok("root", "rules", "set", "standard", "--threshold", "3", "--note", "revised")
    shell.ok("iris", "release", "confirm-source", rid, "--note", "made from the survey")
    shell.ok("olga", "release", "approve", rid)
    shell.ok("oscar", "release", "approve", rid)
    for when in ("approved", "released"):
        view = json.loads(shell.ok("root", "release", "show", rid, "--json").stdout)
        assert view["state"] == when and view["blocked_by"] == []
        in_force = {c["name"]: c for c in view["versions"][-1]["checks"]}
        assert in_force["rules"]["verdict"] == "pass"
        assert in_force["rules"]["rule_set"] == "standard v2"
        assert in_force["rules"]["stage"] == ("vote" if when == "approved" else "publication")
        history = view["versions"][-1]["check_history"]
        first = next(c for c in history if c["name"] == "rules")
        assert (first["verdict"], first["stage"], first["rule_set"]) == (
            "fail",
            "submission",
            "standard v1",
        )
        text = shell.ok("root", "release", "show", rid).stdout
        assert "check rules: PASS" in text and "rule set standard v2" in text
        assert "check rules: FAIL" not in text and "BLOCKED" not in text
        if when == "approved":
            shell.ok("ada", "release", "publish", rid)


def test_a_folder_needs_a_registered_source_of_its_own_measure(
    shell: Shell, protected: Path
) -> None:
    base = ("release", "submit", str(protected), "--area", "earnings", "--purpose", "x")
    none = shell.run("ada", *base)
    assert none.exit_code == 2 and "--source DATASET:MEASURE" in none.stderr
    unknown = shell.run("ada", *base, "--source", "elsewhere:turnover")
    assert unknown.exit_code == 4 and "no registered dataset 'elsewhere'" in unknown.stderr
    measure = shell.run("ada", *base, "--source", "survey:count")
    assert measure.exit_code == 2 and "use --source survey:turnover" in measure.stderr
    both = shell.run("ada", *base, "--output", "earnings/x")
    assert both.exit_code == 2 and "exactly one of PATH or --output" in both.stderr
    assert json.loads(shell.ok("root", "release", "list", "--json").stdout) == []


def test_a_folder_of_part_of_the_units_is_sent_with_every_value_of_its_filter(
    shell: Shell, tmp_path: Path
) -> None:
    # report.json names the kept values only; the check needs every value of the column,
    # which table protect writes to population.json and the CLI sends with the folder
    text = (EXAMPLES / "turnover.toml").read_text()
    for name in ("region", "industry"):
        text = text.replace(f'"{name}.csv"', json.dumps(str(EXAMPLES / f"{name}.csv")))
    spec = tmp_path / "small.toml"
    spec.write_text(text.replace("[table]\n", '[table]\nwhere = { size_band = ["0-49"] }\n', 1))
    out = tmp_path / "out"
    data = str(EXAMPLES / "survey.csv")
    shell.ok(None, "table", "protect", str(spec), "--data", data, "--out", str(out), "--quiet")
    assert "domains" not in json.loads((out / "report.json").read_text())["population"]
    base = ("release", "submit", str(out), "--area", "earnings", "--purpose", "x")
    source = ("--source", "survey:turnover")
    (out / "population.json").rename(tmp_path / "population.json")
    missing = shell.run("ada", *base, *source)
    assert missing.exit_code != 0 and "has no population.json" in missing.stderr
    (tmp_path / "population.json").rename(out / "population.json")
    view = json.loads(shell.ok("ada", *base, *source, "--json").stdout)
    checks = {c["name"]: c["verdict"] for c in view["versions"][0]["checks"]}
    assert checks["differencing"] == "pass"


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    for group, commands in (
        (
            "release",
            [
                "submit",
                "list",
                "show",
                "review",
                "approve",
                "reject",
                "confirm-source",
                "reconcile",
                "resolve",
                "withdraw",
                "publish",
                "published",
            ],
        ),
        ("rules", ["set", "list"]),
    ):
        for name in commands:
            out = runner.invoke(cli, [group, name, "--help"]).output
            assert "Example" in out and f"fivesafes {group} {name}" in out, (group, name)
