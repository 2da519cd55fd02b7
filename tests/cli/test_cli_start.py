"""``fivesafes`` starts without importing what the command does not use.

Every command, ``--help`` included, took 3-4 s to start: the command line imported every
command's module, and through them pandas, SciPy, openpyxl, HiGHS and DuckDB. The
commands now load when named, and the governance path imports no table library. No
timing is asserted (the machine is shared); ``bench/bench_cli_start.py`` times it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from cli_helpers import Shell
from click.testing import CliRunner

from fivesafes.cli import main
from fivesafes.cli.main import cli

HEAVY = ("pandas", "scipy", "openpyxl", "highspy", "duckdb")

_PROBE = """
import json, sys
from click.testing import CliRunner
from fivesafes.cli.main import cli
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, (args, result.output)
heavy = json.loads(sys.argv[2])
print(json.dumps({
    "heavy": sorted(m for m in heavy if m in sys.modules),
    "modules": sorted(m for m in sys.modules if m.startswith(("fivesafes", "sqlalchemy"))),
}))
"""


def _loaded(*commands: list[str], home: Path | None = None) -> dict[str, list[str]]:
    """The modules a new interpreter holds after running ``commands`` in turn."""
    env = {**os.environ}
    if home is not None:
        env |= {"FIVESAFES_HOME": str(home), "FIVESAFES_USER": "root"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(commands), json.dumps(HEAVY)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: dict[str, list[str]] = json.loads(done.stdout)
    return loaded


def test_the_top_level_help_imports_no_command_and_no_database_library() -> None:
    modules = _loaded(["--help"])["modules"]
    assert [m for m in modules if m.startswith("fivesafes.cli.")] == ["fivesafes.cli.main"]
    assert not [m for m in modules if m.startswith("sqlalchemy")]


def test_a_group_help_imports_only_its_own_command_module() -> None:
    modules = _loaded(["people", "--help"], ["grant", "list", "--help"])["modules"]
    commands = {m for m in modules if m.startswith("fivesafes.cli.")}
    assert commands <= {"fivesafes.cli.main", "fivesafes.cli.people", "fivesafes.cli.grant"} | {
        "fivesafes.cli.acting"  # what the commands share
    }


def test_a_group_help_imports_no_table_library_but_tables() -> None:
    # `table` protects tables: its commands (and so its help) load the table code
    for name in sorted(set(main.COMMANDS) - {"table"}):
        assert _loaded([name, "--help"])["heavy"] == [], name


def test_governance_commands_import_no_table_library(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    Shell(home).ok(None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root")
    loaded = _loaded(
        ["people", "--help"],
        ["people", "list", "--help"],
        ["people", "list"],
        ["grant", "list"],
        ["grant", "list", "--json"],
        home=home,
    )
    assert loaded["heavy"] == []


def test_a_table_command_help_still_loads_its_subcommands() -> None:
    ctx = click.Context(cli)
    table = cli.get_command(ctx, "table")
    assert isinstance(table, click.Group)
    assert {"protect", "audit", "show", "export", "hierarchy"} <= set(table.list_commands(ctx))


def test_the_listed_short_help_is_each_commands_own() -> None:
    # the top-level --help lists every command without importing it: from this table,
    # which must say what each command's own help says, at any terminal width
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(main.COMMANDS)
    for name in cli.list_commands(ctx):
        real = cli.get_command(ctx, name)
        assert real is not None and real.name == name and not real.hidden
        listed = main.listed(name)
        for limit in range(0, 200):
            assert listed.get_short_help_str(limit) == real.get_short_help_str(limit), name


def test_the_top_level_help_is_the_same_before_and_after_loading_the_commands() -> None:
    load_all = (
        "import click; from fivesafes.cli.main import cli; ctx = click.Context(cli); "
        "[cli.get_command(ctx, name) for name in cli.list_commands(ctx)]; "
        "cli(['--help'], prog_name='fivesafes')"
    )
    helps = [
        subprocess.run(
            [sys.executable, *args],
            env={**os.environ, "COLUMNS": "80"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for args in (["-m", "fivesafes", "--help"], ["-c", load_all])
    ]
    assert "Commands:" in helps[0] and helps[0] == helps[1]


def test_a_mistyped_command_is_still_offered_the_closest_name() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fivesafes", "peple", "list"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "No such command 'peple'" in result.stderr and "people" in result.stderr


def test_ctrl_c_while_a_command_loads_is_an_interrupted_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the command's module now imports after the group started: Ctrl-C there is worded
    # as any other interruption (entry.py words one while fivesafes.cli.main imports)
    def ctrl_c() -> click.Command:
        raise KeyboardInterrupt

    monkeypatch.setitem(main.COMMANDS, "slow", ("A command slow to import.", ctrl_c))
    result = CliRunner().invoke(cli, ["slow", "--json"])
    assert result.exit_code == 130
    assert json.loads(result.stdout)["error"]["code"] == "interrupted"
    assert "error [interrupted]: " in result.stderr and "Traceback" not in result.stderr
