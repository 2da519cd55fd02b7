"""``fivesafes demo`` end to end in a temporary folder; its --out all or nothing.

The demo's survey and protected table (confidential, in the story) are written into a
hidden staging folder beside --out and moved into place whole, as ``table protect``
writes its outputs (cli/output_folder.py): an interrupted or failed demo leaves --out as
it was, and a folder of other files (or a link) is refused before any work.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from fivesafes.cli.main import cli
from fivesafes.demo.run import TABLE_NAME, write_inputs
from fivesafes.sdc.outputs import writers
from fivesafes.workspace import create_workspace


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    res = CliRunner().invoke(
        cli, ["demo", "--out", str(out), "--rows", "1000", "--secondary", "fast"]
    )
    assert res.exit_code == 0, res.output
    assert "1,000 rows" in res.output and "primary cells:" in res.output
    # parts 2 and 3 ran through a server, stopped at the end (its socket gone)
    assert "through a fivesafes server on unix:" in res.output
    assert "the demo's server has stopped" in res.output and not (out / "run" / "api.sock").exists()
    folder = out / "tables" / TABLE_NAME
    assert sorted(p.name for p in folder.iterdir()) == [
        "cells.csv",
        "report.json",
        "table.csv",
        "table.xlsx",
    ]
    report = json.loads((folder / "report.json").read_text())
    assert report["source"]["rows"] == 1000
    cells = pd.read_csv(folder / "cells.csv", dtype=str, keep_default_na=False)
    assert report["cells"]["total"] == len(cells)
    # the industry codes keep their leading zeros
    assert "01" in set(cells["industry"])
    # every cell the summary counts as primary is primary in cells.csv
    assert report["cells"]["by_status"]["primary"] == int((cells["status"] == "primary").sum())
    assert (out / "input" / f"{TABLE_NAME}.toml").is_file()
    assert report["secondary"]["method"] == "fast"
    assert report["cells"]["by_status"]["secondary"] > 0
    # the report names the files where they are now, not where they were staged
    assert report["spec"]["path"] == str((out / "input" / f"{TABLE_NAME}.toml").resolve())
    assert report["source"]["path"] == str((out / "input" / "survey.csv").resolve())
    shown = CliRunner().invoke(cli, ["table", "show", str(folder)])
    assert shown.exit_code == 0, shown.output
    assert leftovers(tmp_path) == []


def test_demo_inputs_are_reproducible(tmp_path: Path) -> None:
    # the data and spec are seeded; (the secondary pattern may depend on solver time limits)
    a = write_inputs(tmp_path / "a", rows=600, seed=5)
    b = write_inputs(tmp_path / "b", rows=600, seed=5)
    assert a.data.read_bytes() == b.data.read_bytes()
    assert a.spec.read_text() == b.spec.read_text()
    c = write_inputs(tmp_path / "c", rows=600, seed=6)
    assert c.data.read_bytes() != a.data.read_bytes()


def demo(out: Path, *extra: str) -> Result:
    args = ["demo", "--out", str(out), "--rows", "300", "--secondary", "fast"]
    return CliRunner().invoke(cli, [*args, *extra])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def interrupt_the_spreadsheet(monkeypatch: pytest.MonkeyPatch) -> None:
    # cells.csv and report.json are written by then, and the survey before them
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(writers, "write_table_xlsx", interrupted)


def test_an_interrupted_demo_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt_the_spreadsheet(monkeypatch)
    res = demo(tmp_path / "new" / "demo-output", "--tables-only")
    assert res.exit_code == 130, res.output
    assert "error [interrupted]" in res.stderr
    assert not (tmp_path / "new").exists()  # nor the folder made to hold it
    assert leftovers(tmp_path) == []


def test_an_interrupted_rerun_keeps_the_earlier_demo_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "demo-output"
    assert demo(out, "--tables-only").exit_code == 0
    before = files(out)
    interrupt_the_spreadsheet(monkeypatch)
    assert demo(out, "--tables-only", "--rows", "400").exit_code == 130
    assert files(out) == before
    assert leftovers(tmp_path) == []


def test_a_failure_after_the_tables_removes_the_workspace_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fivesafes.demo import full

    def no_server(*args: object) -> None:
        raise KeyboardInterrupt  # as the server starts: the workspace is made by then

    monkeypatch.setattr(full, "demo_server", no_server)
    out = tmp_path / "demo-output"
    res = demo(out)
    assert res.exit_code == 130, res.output
    assert not (out / "workspace").exists()
    # the table part was whole and stays, as --tables-only writes it
    assert sorted(p.name for p in out.iterdir()) == ["input", "tables"]
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


def test_a_stop_signal_leaves_no_staging_folder(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    args = ["demo", "--out", str(out), "--rows", "300", "--tables-only"]
    done = subprocess.run(
        [sys.executable, "-c", STOPPED, *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 130, done.stderr
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "demo-output"
    out.symlink_to(elsewhere)
    res = demo(out, "--tables-only")
    assert res.exit_code == 2 and "symbolic link" in res.stderr
    assert list(elsewhere.iterdir()) == [] and out.is_symlink()


def test_a_folder_of_other_files_is_refused_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "home"
    (out / "input").mkdir(parents=True)
    (out / "input" / "survey.csv").write_text("mine")
    (out / "thesis.docx").write_text("mine")
    res = demo(out, "--tables-only")
    assert res.exit_code == 2
    assert "error [output]" in res.stderr and "thesis.docx" in res.stderr
    assert files(out) == {"input/survey.csv": b"mine", "thesis.docx": b"mine"}
    assert leftovers(tmp_path) == []


def test_the_current_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = demo(Path("."), "--tables-only")
    assert res.exit_code == 2 and "current folder" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_earlier_demo_is_replaced_but_never_a_real_workspace(tmp_path: Path) -> None:
    earlier = tmp_path / "demo"
    create_workspace(earlier / "workspace", demo_identity=True)
    (earlier / "server.log").write_text("an earlier demo's server")
    res = demo(earlier, "--tables-only")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in earlier.iterdir()) == ["input", "tables"]
    real = tmp_path / "real"
    create_workspace(real / "workspace")
    before = files(real)
    res = demo(real)
    assert res.exit_code == 2 and "workspace/" in res.stderr
    assert files(real) == before
    assert leftovers(tmp_path) == []
