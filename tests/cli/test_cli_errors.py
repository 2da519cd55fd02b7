"""Errors a new user meets, as they meet them: JSON for scripts, row numbers, "did you mean",
empty / non-UTF-8 / header-only files refused, and colour only on a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import Shell
from click.testing import CliRunner

from fivesafes.cli.main import cli

SPEC = """\
[table]
name = "sales"
response = "turnover"
contributor = "ent"

[[dimension]]
name = "region"
hierarchy = "region.csv"

[rules]
threshold = 3
"""
REGION = "code,parent\nUK,\nN,UK\nS,UK\n"
HEADER = "ent,region,turnover\n"


def protect(tmp_path: Path, data: bytes, *extra: str, spec: str = SPEC):
    (tmp_path / "region.csv").write_text(REGION)
    (tmp_path / "sales.toml").write_text(spec)
    (tmp_path / "data.csv").write_bytes(data)
    result = CliRunner().invoke(
        cli,
        [
            "table",
            "protect",
            str(tmp_path / "sales.toml"),
            "--data",
            str(tmp_path / "data.csv"),
            "--out",
            str(tmp_path / "out"),
            "--secondary",
            "none",
            *extra,
        ],
    )
    return result.exit_code, result.stdout, result.stderr


def rows(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def test_errors_are_json_on_stdout_with_json(tmp_path: Path) -> None:
    code, out, err = protect(tmp_path, b"", "--json")
    assert code == 2
    payload = json.loads(out)["error"]
    assert payload["code"] == "data" and payload["exit_status"] == 2
    assert "is empty (0 bytes)" in payload["message"] and payload["hint"]
    assert "error [data]" in err  # people still read it on stderr
    usage = CliRunner().invoke(cli, ["table", "protect", "--json"])
    assert usage.exit_code == 2 and json.loads(usage.stdout)["error"]["code"] == "usage"


def test_without_json_stdout_stays_empty_on_error(tmp_path: Path) -> None:
    code, out, _err = protect(tmp_path, b"")
    assert code == 2 and out == ""


def test_a_zero_byte_data_file_says_it_is_empty(tmp_path: Path) -> None:
    code, _out, err = protect(tmp_path, b"")
    assert code == 2 and "is empty (0 bytes)" in err
    assert not (tmp_path / "out").exists()


def test_a_latin1_data_file_says_it_is_not_utf8(tmp_path: Path) -> None:
    code, _out, err = protect(
        tmp_path, rows("e1,N,10", "e2,N,12") + "e3,Z\xfcrich,1\n".encode("latin-1")
    )
    assert code == 2 and "is not UTF-8" in err and "Latin-1" in err
    assert "rich" not in err  # the error never quotes the data


def test_a_header_only_data_file_is_refused_not_a_table_of_zeros(tmp_path: Path) -> None:
    # before: a table of zeros, written, and exit 0
    code, _out, err = protect(tmp_path, rows())
    assert code == 2 and "no data rows (only a header)" in err
    assert not (tmp_path / "out").exists()


def test_data_errors_give_row_numbers(tmp_path: Path) -> None:
    code, _out, err = protect(tmp_path, rows("e1,N,10", "e2,,12", "e3,S,x", "e4,,1"))
    assert code == 2 and "missing (empty) in 2 row(s) (at rows 2 and 4)" in err
    code, _out, err = protect(tmp_path, rows("e1,N,10", "e2,N,12", "e3,S,abc"))
    assert code == 2 and "['abc']" in err and "row 3" in err
    code, _out, err = protect(tmp_path, rows("e1,N,10", "e2,W,12", "e3,S,4", "e4,W,1"))
    assert code == 2 and "['W']" in err and "rows 2 and 4" in err
    code, _out, err = protect(tmp_path, rows("e1,N,10", "e2,N,12", "e3,S,-4"))
    assert code == 2 and "negative in 1 row(s) (at row 3)" in err


def test_spec_and_column_typos_get_did_you_mean(tmp_path: Path) -> None:
    typo = SPEC.replace("contributor", "contributer")
    code, _out, err = protect(tmp_path, rows("e1,N,10"), spec=typo)
    assert code == 2 and "did you mean 'contributor'?" in err
    typo = SPEC.replace("[rules]", "[rule]")
    code, _out, err = protect(tmp_path, rows("e1,N,10"), spec=typo)
    assert code == 2 and "did you mean 'rules'?" in err
    typo = SPEC.replace('response = "turnover"', 'response = "Turnover"')
    code, _out, err = protect(tmp_path, rows("e1,N,10"), spec=typo)
    assert code == 2 and "did you mean 'turnover'?" in err
    typo = SPEC + '[suppression]\nmethod = "optimall"\n'
    code, _out, err = protect(tmp_path, rows("e1,N,10"), spec=typo)
    assert code == 2 and "did you mean 'optimal'?" in err


def test_a_code_with_a_control_character_is_a_data_error_not_a_traceback(tmp_path: Path) -> None:
    # before: openpyxl's IllegalCharacterError escaped as a traceback, after the whole run
    flat = SPEC.replace('hierarchy = "region.csv"\n', "")
    data = rows(*(f"e{i},N,{10 + i}" for i in range(4)), '"e9","S\x1b[2J",5', "e8,S,7")
    code, out, err = protect(tmp_path, data, "--json", spec=flat)
    assert code == 2 and "Traceback" not in err
    error = json.loads(out)["error"]
    assert error["code"] == "data" and "control characters" in error["message"]
    assert not (tmp_path / "out").exists()


def test_a_spec_that_is_not_toml_says_where_and_what_to_do(tmp_path: Path) -> None:
    code, out, err = protect(tmp_path, rows("e1,N,10"), "--json", spec="[table\nname = x\n")
    error = json.loads(out)["error"]
    assert code == 2 and error["code"] == "spec"
    assert "is not valid TOML" in error["message"] and "line 1" in error["message"]
    assert error["hint"] and "examples/turnover.toml" in error["hint"]
    assert "what to do:" in err


def test_a_spreadsheet_or_a_folder_as_data_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "region.csv").write_text(REGION)
    (tmp_path / "sales.toml").write_text(SPEC)
    (tmp_path / "survey.xlsx").write_bytes(b"PK\x03\x04")
    for data, words in ((tmp_path / "survey.xlsx", "CSV UTF-8"), (tmp_path, "is a folder")):
        res = CliRunner().invoke(
            cli, ["table", "protect", str(tmp_path / "sales.toml"), "--data", str(data)]
        )
        assert res.exit_code == 2 and words in res.stderr, res.stderr


def test_an_empty_spec_file_says_it_is_empty(tmp_path: Path) -> None:
    code, _out, err = protect(tmp_path, rows("e1,N,10"), spec="")
    assert code == 2 and "is empty (0 bytes)" in err


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    sh = Shell(tmp_path / "ws")
    sh.ok(None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root")
    return sh


def test_workspace_command_errors_are_json_too(shell: Shell) -> None:
    result = shell.run("root", "area", "create", "x", "--owner", "nobody", "--json")
    assert result.exit_code != 0
    payload = json.loads(result.stdout)["error"]
    assert payload["code"] and payload["message"] and payload["exit_status"] == result.exit_code


def test_verdicts_are_coloured_on_a_terminal_only(shell: Shell) -> None:
    args = ["access", "check", "nobody", "nothing", "--purpose", "statistical"]
    env = {"FIVESAFES_HOME": str(shell.home), "FIVESAFES_USER": "root"}
    tty = shell.runner.invoke(cli, args, env=env, color=True)
    assert tty.exit_code == 6 and "\x1b[31m\x1b[1mDENIED\x1b[0m" in tty.stdout
    piped = shell.runner.invoke(cli, args, env=env)  # not a terminal: click drops the colour
    assert piped.stdout.startswith("DENIED") and "\x1b[" not in piped.stdout
    no_color = shell.runner.invoke(cli, args, env={**env, "NO_COLOR": "1"}, color=True)
    assert no_color.stdout.startswith("DENIED") and "\x1b[" not in no_color.stdout
