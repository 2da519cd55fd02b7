"""``fivesafes release`` and ``fivesafes rules`` end to end on a demo-identity workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fivesafes.cli.main import cli
from fivesafes.release.bundle import verify_bundle

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Shell:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.runner = CliRunner()

    def run(self, user: str | None, *args: str) -> Result:
        env = {"FIVESAFES_HOME": str(self.home)}
        if user:
            env["FIVESAFES_USER"] = user
        return self.runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    def ok(self, user: str | None, *args: str) -> Result:
        result = self.run(user, *args)
        assert result.exit_code == 0, (args, result.output)
        return result


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    sh = Shell(tmp_path / "ws")
    sh.ok(None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root")
    sh.ok("root", "people", "add", "iris", "--name", "Iris", "--role", "iao")
    sh.ok("root", "people", "add", "ada", "--name", "Ada", "--role", "analyst")
    for login in ("olga", "oscar"):
        sh.ok("root", "people", "add", login, "--name", login, "--role", "output_checker")
    sh.ok("root", "area", "create", "earnings", "--owner", "iris")
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
        "--json",
    )
    view = json.loads(sub.stdout)
    rid = str(view["id"])
    checks = {c["name"]: c["verdict"] for c in view["versions"][0]["checks"]}
    assert checks == {"rules": "pass", "audit": "pass", "differencing": "pass"}
    denied = shell.run("ada", "release", "approve", rid)
    assert denied.exit_code != 0 and "own request" in denied.output
    shell.ok("olga", "release", "review", rid, "--vote", "approve", "--comment", "ok")
    blinded = json.loads(shell.ok("oscar", "release", "show", rid, "--json").stdout)
    assert blinded["reviews"] == [] and blinded["reviews_in"] == 1
    shell.ok("oscar", "release", "approve", rid)
    done = json.loads(shell.ok("ada", "release", "publish", rid, "--json").stdout)
    verify_bundle(Path(done["bundle_path"]))
    assert Path(done["bundle_path"]).parent == shell.home / "releases"
    listed = json.loads(shell.ok("root", "release", "list", "--json").stdout)
    assert listed[0]["state"] == "released"
    register = json.loads(shell.ok("root", "release", "published", "--json").stdout)
    assert register[0]["cells"] == done["cells"] > 0


def test_weaker_rules_are_refused_with_a_reason(shell: Shell, protected: Path) -> None:
    shell.ok("root", "rules", "set", "standard", "--threshold", "7")
    sub = shell.ok(
        "ada", "release", "submit", str(protected), "--area", "earnings", "--purpose", "x"
    )
    assert "threshold 3 is weaker than 7" in sub.stdout
    refused = shell.run("olga", "release", "approve", "1")
    assert refused.exit_code != 0 and "threshold 3 is weaker than 7" in refused.output


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
