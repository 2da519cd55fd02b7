"""``table protect --engine``: the tabulation engine from the flag or the workspace's settings."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_table import case, data

from fivesafes.cli.main import cli
from fivesafes.errors import EngineError
from fivesafes.workspace import Workspace

SPARK_MODULE = "fivesafes.engine.spark"


def _protect(tmp_path: Path, *extra: str) -> tuple[int, str]:
    args = ["table", "protect", str(case(tmp_path)), "--data", str(data(tmp_path))]
    res = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "out"), *extra])
    return res.exit_code, res.output


def test_the_duckdb_engine_is_the_default_and_is_recorded(tmp_path: Path) -> None:
    code, output = _protect(tmp_path, "--secondary", "none", "--engine", "duckdb")
    assert code == 0, output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["engine"] == "duckdb"


def test_spark_not_installed_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, SPARK_MODULE, None)
    code, output = _protect(tmp_path, "--engine", "spark")
    assert code == EngineError.exit_status
    assert "pip install fivesafes[spark]" in output
    assert not (tmp_path / "out").exists()


def test_a_master_without_spark_is_refused(tmp_path: Path) -> None:
    code, output = _protect(tmp_path, "--engine", "duckdb", "--engine-master", "local[2]")
    assert code != 0 and "needs --engine spark" in output


def test_with_a_dataset_the_workspace_settings_choose_the_engine(
    tmp_path: Path, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    class SparkTabulator:
        name = "spark"

        def __init__(self, master: str) -> None:
            asked.append(master)
            raise EngineError("fake spark: stop here")

    fake = types.ModuleType(SPARK_MODULE)
    fake.SparkTabulator = SparkTabulator  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, SPARK_MODULE, fake)
    with workspace.config_path.open("a") as fh:
        fh.write('\n[engine]\nname = "spark"\nmaster = "spark://from-config:7077"\n')
    args = ["table", "protect", str(case(tmp_path)), "--dataset", "area/ds"]
    res = CliRunner().invoke(cli, args, env={"FIVESAFES_USER": "root"})
    assert res.exit_code == EngineError.exit_status and "stop here" in res.output
    res = CliRunner().invoke(
        cli, [*args, "--engine-master", "local[2]"], env={"FIVESAFES_USER": "root"}
    )
    assert asked == ["spark://from-config:7077", "local[2]"]
