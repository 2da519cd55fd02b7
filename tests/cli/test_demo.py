"""``fivesafes demo`` end to end in a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from fivesafes.cli.main import cli
from fivesafes.demo.run import TABLE_NAME, write_inputs


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


def test_demo_inputs_are_reproducible(tmp_path: Path) -> None:
    # the data and spec are seeded; (the secondary pattern may depend on solver time limits)
    a = write_inputs(tmp_path / "a", rows=600, seed=5)
    b = write_inputs(tmp_path / "b", rows=600, seed=5)
    assert a.data.read_bytes() == b.data.read_bytes()
    assert a.spec.read_text() == b.spec.read_text()
    c = write_inputs(tmp_path / "c", rows=600, seed=6)
    assert c.data.read_bytes() != a.data.read_bytes()


def test_the_demo_runs_again_in_the_same_folder_but_never_touches_a_real_workspace(
    tmp_path: Path,
) -> None:
    from fivesafes.demo.full import _fresh_demo_workspace
    from fivesafes.errors import WorkspaceError
    from fivesafes.workspace import create_workspace

    demo_home = tmp_path / "demo" / "workspace"
    create_workspace(demo_home, demo_identity=True)
    _fresh_demo_workspace(demo_home)  # a demo's own workspace is replaced
    assert not demo_home.exists()
    real_home = tmp_path / "real" / "workspace"
    create_workspace(real_home)
    with pytest.raises(WorkspaceError, match="not a demo workspace"):
        _fresh_demo_workspace(real_home)
    assert (real_home / "config.toml").exists()
