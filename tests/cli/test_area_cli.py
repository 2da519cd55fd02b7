"""``fivesafes area``: create, set, show and list, with the methods-note threshold policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import Shell


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    sh = Shell(tmp_path / "ws")
    sh.ok(None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root")
    sh.ok("root", "people", "add", "iris", "--name", "Iris", "--role", "iao")
    return sh


def test_create_with_the_policy_then_show_and_list_it(shell: Shell) -> None:
    made = json.loads(
        shell.ok(
            "root", "area", "create", "pay", "--owner", "iris", "--withhold-thresholds", "--json"
        ).stdout
    )
    assert made["withhold_thresholds"] is True
    shell.ok("root", "area", "create", "earnings", "--owner", "iris")
    shown = shell.ok("iris", "area", "show", "pay").stdout
    assert "thresholds in methods notes: withheld (area policy" in shown
    assert (
        "thresholds in methods notes: stated" in shell.ok("iris", "area", "show", "earnings").stdout
    )
    listed = json.loads(shell.ok("iris", "area", "list", "--json").stdout)
    assert {a["name"]: a["withhold_thresholds"] for a in listed} == {"earnings": False, "pay": True}
    text = shell.ok("iris", "area", "list").stdout
    assert "thresholds in notes: withheld" in text and "thresholds in notes: stated" in text


def test_an_administrator_sets_it_either_way_and_it_is_audited(shell: Shell) -> None:
    shell.ok("root", "area", "create", "earnings", "--owner", "iris")
    set_on = json.loads(
        shell.ok("root", "area", "set", "earnings", "--withhold-thresholds", "--json").stdout
    )
    assert set_on["withhold_thresholds"] is True
    assert "withheld" in shell.ok("root", "area", "show", "earnings").stdout
    shell.ok("root", "area", "set", "earnings", "--state-thresholds")
    assert "stated" in shell.ok("root", "area", "show", "earnings").stdout
    log = shell.ok("root", "audit", "log", "--json").stdout
    assert log.count("area.set_threshold_policy") == 2


def test_set_refuses_non_administrators_nothing_to_set_and_no_change(shell: Shell) -> None:
    shell.ok("root", "area", "create", "earnings", "--owner", "iris")
    denied = shell.run("iris", "area", "set", "earnings", "--withhold-thresholds")
    assert denied.exit_code != 0 and "administrator" in denied.output
    empty = shell.run("root", "area", "set", "earnings")
    assert empty.exit_code == 2 and "--state-thresholds or --max-rows N" in empty.output
    same = shell.run("root", "area", "set", "earnings", "--state-thresholds")
    assert same.exit_code != 0 and "already states thresholds" in same.output
    assert "stated" in shell.ok("root", "area", "show", "earnings").stdout
