"""The governance commands end to end with click's CliRunner on a demo-identity workspace."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from cli_helpers import Shell, qualify
from click.testing import CliRunner

from fivesafes.cli.main import cli
from fivesafes.workspace.identity import os_login


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    sh = Shell(tmp_path / "ws")
    out = sh.ok(
        None,
        "init",
        "--demo-identity",
        "--admin-login",
        "root",
        "--admin-name",
        "Root Admin",
        "--json",
    )
    assert json.loads(out.stdout)["administrator"] == "root"
    return sh


def test_whole_flow_allowed_then_denied_with_reasons(shell: Shell, tmp_path: Path) -> None:
    today = datetime.now(UTC).date().isoformat()
    shell.ok("root", "people", "add", "iris", "--name", "Iris", "--role", "iao")
    shell.ok("root", "people", "add", "ada", "--name", "Ada", "--role", "analyst")
    shell.ok("root", "training", "add-course", "Earnings data", "--validity-months", "24")
    shell.ok("root", "area", "create", "earnings", "--owner", "iris", "--course", "Earnings data")
    shell.ok(
        "iris", "dataset", "add", "ashe", "--area", "earnings", "--source", "ASHE",
        "--lawful-basis", "SRSA 2007", "--privacy-notice", "PN-1",
    )  # fmt: skip
    text = tmp_path / "declaration.txt"
    text.write_text("I will keep confidential data confidential.\n", encoding="utf-8")
    shell.ok("root", "declaration", "publish", str(text))
    signed = shell.ok("ada", "declaration", "sign", "--version", "1", "--json")
    assert len(json.loads(signed.stdout)["text_hash"]) == 64
    for course in ("Responsible for information", "Earnings data"):
        shell.ok("root", "training", "record", "ada", course, "--date", today, "--evidence", "c1")
    # The owner decides on access: she passes the same people checks.
    qualify(shell, "iris", courses=("Responsible for information", "Earnings data"))
    made = json.loads(
        shell.ok(
            "ada", "grant", "request", "ada", "earnings", "--justification", "tables", "--json"
        ).stdout
    )
    assert made["state"] == "requested"
    approved = shell.ok("iris", "grant", "approve", str(made["id"]), "--json")
    assert json.loads(approved.stdout)["state"] == "approved"

    summary = json.loads(shell.ok("ada", "people", "show", "ada", "--json").stdout)
    assert summary["signed_declarations"] == [1] and summary["grants"][0]["state"] == "approved"
    assert "v1 signed" in shell.ok("ada", "people", "show", "ada").stdout

    allowed = shell.run("ada", "access", "check", "ada", "ashe", "--purpose", "statistical")
    assert allowed.exit_code == 0 and allowed.stdout.startswith("ALLOWED")
    assert "FIVESAFES_USER" in allowed.stderr  # the demo-identity notice, on every command

    denied = shell.run("ada", "access", "check", "ada", "ashe", "--purpose", "marketing", "--json")
    assert denied.exit_code == 6
    payload = json.loads(denied.stdout)
    assert payload["allowed"] is False
    assert [r["code"] for r in payload["reasons"]] == ["purpose_not_statistical"]

    shell.ok("root", "people", "leave", "ada", "--reason", "left")
    gone = shell.run("root", "access", "check", "ada", "ashe", "--purpose", "statistical")
    assert gone.exit_code == 6 and "leaver" in gone.stdout
    grants = json.loads(shell.ok("root", "grant", "list", "--json").stdout)
    assert grants[0]["state"] == "revoked"


def test_unknown_login_is_told_to_ask_an_administrator(shell: Shell) -> None:
    result = shell.run("mallory", "people", "list")
    assert result.exit_code == 6
    assert "not a registered person" in result.stderr
    assert "ask an administrator" in result.stderr


def test_bad_input_prints_error_and_hint_and_changes_nothing(shell: Shell) -> None:
    before = shell.ok("root", "people", "list", "--json").stdout
    result = shell.run("root", "people", "add", "x", "--name", "X", "--role", "king")
    assert result.exit_code == 2 and "unknown role" in result.stderr
    assert "what to do" in result.stderr
    result = shell.run("root", "grant", "request", "root", "nowhere", "--justification", "j")
    assert result.exit_code == 4 and "nowhere" in result.stderr
    assert shell.ok("root", "people", "list", "--json").stdout == before


def test_a_zero_course_validity_is_refused_not_replaced_by_the_default(shell: Shell) -> None:
    # regression: `--validity-months 0` registered the course with the 12-month default
    result = shell.run("root", "training", "add-course", "Zero", "--validity-months", "0")
    assert result.exit_code == 2 and "out of range" in result.stderr
    courses = json.loads(shell.ok("root", "training", "courses", "--json").stdout)
    assert "Zero" not in {c["name"] for c in courses}


def test_unknown_dataset_access_is_an_audited_denial(shell: Shell) -> None:
    result = shell.run("root", "access", "check", "nobody", "nothing", "--purpose", "statistical")
    assert result.exit_code == 6
    assert "nobody is not a registered person" in result.stdout
    assert "dataset nothing is not registered" in result.stdout


def test_init_without_demo_identity_is_only_for_the_os_login(tmp_path: Path) -> None:
    sh = Shell(tmp_path / "real")
    me = os_login()
    refused = sh.run(None, "init", "--admin-login", me + "x", "--admin-name", "Someone")
    assert refused.exit_code == 6 and not (tmp_path / "real").exists()
    sh.ok(None, "init", "--admin-name", "Me")
    assert me in sh.ok(None, "people", "list").stdout
    # FIVESAFES_USER is refused on a workspace without demo identity.
    assert sh.run("root", "people", "list").exit_code == 6


def _commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    # every command of the CLI, not only the register's: the README promises examples in
    # every --help (request and server had none)
    out: list[tuple[str, ...]] = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the top level loads its commands when named
        command = group.get_command(ctx, name)
        out.append((*path, name))
        if isinstance(command, click.Group):
            out.extend(_commands(command, (*path, name)))
    return out


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_a_derived_dataset_names_its_parent_and_unit(shell: Shell) -> None:
    shell.ok("root", "people", "add", "iris", "--name", "Iris", "--role", "iao")
    shell.ok("root", "training", "add-course", "Business data", "--validity-months", "24")
    shell.ok("root", "area", "create", "business", "--owner", "iris", "--course", "Business data")
    shell.ok("root", "area", "create", "other", "--owner", "iris", "--course", "Business data")
    basis = ("--source", "BRES", "--lawful-basis", "SRSA 2007")
    shell.ok("iris", "dataset", "add", "bres", "--area", "business", *basis)
    made = shell.ok(
        "iris", "dataset", "add", "bres-small", "--area", "business", *basis,
        "--derived-from", "bres", "--unit", "enterprise", "--json",
    )  # fmt: skip
    assert json.loads(made.stdout)["derived_from"] == "bres"
    assert (
        "derived from bres (unit enterprise)"
        in shell.ok("iris", "dataset", "show", "bres-small").stdout
    )
    listed = json.loads(shell.ok("iris", "dataset", "list", "--json").stdout)
    assert {d["name"]: d["unit"] for d in listed} == {
        "bres": "enterprise",
        "bres-small": "enterprise",
    }
    assert "unit enterprise" in shell.ok("iris", "dataset", "show", "bres").stdout
    # a dataset that is not derived may name its unit too (its record keys follow it)
    solo = shell.ok(
        "iris", "dataset", "add", "idbr", "--area", "business", *basis, "--unit", "ruref"
    )
    assert "unit ruref (record keys by unit" in solo.stdout
    half = shell.run("iris", "dataset", "add", "bres-z", "--area", "business", *basis,
                     "--derived-from", "bres")  # fmt: skip
    assert half.exit_code != 0 and "both its parent and its unit" in half.output
    elsewhere = shell.run(
        "iris", "dataset", "add", "bres-x", "--area", "other", *basis,
        "--derived-from", "bres", "--unit", "enterprise",
    )  # fmt: skip
    assert elsewhere.exit_code != 0 and "must be in its parent's area" in elsewhere.output
    other_unit = shell.run(
        "iris", "dataset", "add", "bres-y", "--area", "business", *basis,
        "--derived-from", "bres", "--unit", "ruref",
    )  # fmt: skip
    assert other_unit.exit_code != 0 and "use --unit enterprise" in other_unit.output
    assert "bres-x" not in shell.ok("iris", "dataset", "list").stdout
