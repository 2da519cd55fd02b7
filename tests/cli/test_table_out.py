"""``table protect --out``: all of the outputs or none of them, and never into someone's files.

A careless operator gives an existing folder, a file, the current folder, or presses
Ctrl-C while the spreadsheet is written: --out is then left exactly as it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from fivesafes.cli.main import cli
from fivesafes.sdc.outputs import writers

SPEC = """\
[table]
name = "{name}"
response = "turnover"
contributor = "ent"

[[dimension]]
name = "region"

[rules]
threshold = 3
"""


def inputs(tmp_path: Path, *names: str) -> tuple[list[str], Path]:
    specs = []
    for name in names or ("sales",):
        spec = tmp_path / f"{name}.toml"
        spec.write_text(SPEC.format(name=name))
        specs.append(str(spec))
    rows = [(f"e{i}", "N" if i < 5 else "S", 10.0 + i) for i in range(9)]
    data = tmp_path / "data.csv"
    pd.DataFrame(rows, columns=["ent", "region", "turnover"]).to_csv(data, index=False)
    return specs, data


def protect(tmp_path: Path, out: Path, *names: str, extra: tuple[str, ...] = ()):
    specs, data = inputs(tmp_path, *names)
    args = ["table", "protect", *specs, "--data", str(data), "--out", str(out), "--quiet"]
    return CliRunner().invoke(cli, [*args, *extra])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_rerun_replaces_the_earlier_outputs_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert protect(tmp_path, out).exit_code == 0
    # an earlier run's extra file (an audit of the old cells) must not sit beside new cells
    (out / "audit.json").write_text("{}")
    res = protect(tmp_path, out)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [
        "cells.csv",
        "report.json",
        "table.csv",
        "table.xlsx",
    ]
    assert leftovers(tmp_path) == []


def test_a_folder_of_other_files_is_refused_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.docx").write_text("mine")
    res = protect(tmp_path, out, extra=("--json",))
    assert res.exit_code == 2
    error = json.loads(res.stdout)["error"]
    assert error["code"] == "output" and "thesis.docx" in error["message"]
    assert "another --out" in error["hint"]
    assert sorted(p.name for p in out.iterdir()) == ["thesis.docx"]
    assert leftovers(tmp_path) == []


def test_the_current_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    specs, data = inputs(tmp_path)
    res = CliRunner().invoke(
        cli, ["table", "protect", *specs, "--data", str(data), "--out", ".", "--quiet"]
    )
    assert res.exit_code == 2 and "current folder" in res.stderr
    assert not (tmp_path / "cells.csv").exists()


def test_an_output_under_a_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    res = protect(tmp_path, tmp_path / "afile" / "out")
    assert res.exit_code == 2
    assert "error [output]: cannot create the output folder" in res.stderr


@pytest.mark.parametrize("names", [("sales",), ("sales", "other")])
def test_ctrl_c_while_writing_leaves_no_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: tuple[str, ...]
) -> None:
    calls: list[Path] = []

    def interrupted(view: object, notes: object, path: Path) -> None:
        calls.append(path)
        if len(calls) == len(names):  # the last table's spreadsheet: every other file is written
            raise KeyboardInterrupt

    monkeypatch.setattr(writers, "write_table_xlsx", interrupted)
    out = tmp_path / "new" / "out"
    res = protect(tmp_path, out, *names, extra=("--json",))
    assert res.exit_code == 130
    assert json.loads(res.stdout)["error"]["code"] == "interrupted"
    assert "nothing was written" in res.stderr
    assert not (tmp_path / "new").exists()  # nor the folder created to hold it


def test_ctrl_c_keeps_the_earlier_outputs_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert protect(tmp_path, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(writers, "write_table_xlsx", interrupted)
    assert protect(tmp_path, out).exit_code == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(tmp_path) == []


STOPPED = """\
import os, signal, sys
from fivesafes.cli.main import cli
from fivesafes.sdc.outputs import writers

def stopped(*args):
    os.kill(os.getpid(), signal.SIGTERM)  # a scheduler's stop while the spreadsheet is written

writers.write_table_xlsx = stopped
cli(sys.argv[1:])
"""


def test_a_stop_signal_while_writing_leaves_no_staging_folder(tmp_path: Path) -> None:
    # SIGTERM's default action ends the process with no cleanup: the hidden staging folder
    # of outputs (the table's true cells) would stay beside --out
    specs, data = inputs(tmp_path, "sales")
    out = tmp_path / "out"
    args = ["table", "protect", *specs, "--data", str(data), "--out", str(out), "--quiet"]
    done = subprocess.run(
        [sys.executable, "-c", STOPPED, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr
    assert not out.exists()
    assert leftovers(tmp_path) == []
