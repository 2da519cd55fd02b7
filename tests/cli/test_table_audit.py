"""``fivesafes table audit`` through click's CliRunner, on cells.csv files written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from fivesafes.cli.main import FivesafesGroup
from fivesafes.cli.table_audit import audit_command

SPEC = """\
[table]
name = "sales"
response = "turnover"
contributor = "ent"

[[dimension]]
name = "region"
hierarchy = "region.csv"
[[dimension]]
name = "size"
total_code = "All"
"""

# region: 00 = 01 + 02 (codes with leading zeros); size: All = s + m
REGION = "code,parent\n00,\n01,00\n02,00\n"
LEAF = {("01", "s"): 10.0, ("01", "m"): 20.0, ("02", "s"): 30.0, ("02", "m"): 40.0}


def _cells(primary_protection: float, hidden: set[tuple[str, str]]) -> pd.DataFrame:
    rows = []
    for r in ("00", "01", "02"):
        for s in ("All", "s", "m"):
            value = sum(v for (lr, ls), v in LEAF.items() if r in ("00", lr) and s in ("All", ls))
            status = "safe"
            if (r, s) == ("01", "s"):
                status = "primary"
            elif (r, s) in hidden:
                status = "secondary"
            prot = primary_protection if status == "primary" else 0.0
            rows.append(
                {
                    "region": r,
                    "size": s,
                    "records": 4,
                    "contributors": 4,
                    "value": value,
                    "status": status,
                    "rule": "p%" if status == "primary" else "",
                    "lower_protection": prot,
                    "upper_protection": prot,
                }
            )
    return pd.DataFrame(rows)


RECT = {("01", "m"), ("02", "s"), ("02", "m")}


def _setup(tmp_path: Path, cells: pd.DataFrame) -> tuple[Path, Path]:
    (tmp_path / "region.csv").write_text(REGION)
    spec = tmp_path / "sales.toml"
    spec.write_text(SPEC)
    path = tmp_path / "out" / "cells.csv"
    path.parent.mkdir()
    cells.to_csv(path, index=False)
    return spec, path


def _run(*args: str) -> tuple[int, str, str]:
    group = FivesafesGroup("fivesafes")
    group.add_command(audit_command)
    result = CliRunner().invoke(group, ["audit", *args])
    return result.exit_code, result.stdout, result.stderr


def test_safe_rectangle_writes_intervals_and_keeps_leading_zeros(tmp_path: Path) -> None:
    spec, cells = _setup(tmp_path, _cells(5.0, RECT))
    code, out, err = _run(str(spec), "--cells", str(cells))
    assert code == 0, err
    assert "SAFE" in out
    audit = pd.read_csv(tmp_path / "out" / "audit.csv", dtype={"region": str, "size": str})
    assert set(audit["region"]) == {"01", "02"}
    row = audit[(audit["region"] == "01") & (audit["size"] == "s")].iloc[0]
    # x = t, t in [0, min(row 01 total, column s total)] = [0, 30]
    assert (row["attacker_min"], row["attacker_max"]) == (0.0, 30.0)
    report = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert report["audit"]["safe"] is True
    assert report["table"] == "sales"


def test_under_protected_table_exits_with_the_unsafe_status(tmp_path: Path) -> None:
    spec, cells = _setup(tmp_path, _cells(5.0, set()))
    code, _, err = _run(str(spec), "--cells", str(cells), "--out", str(tmp_path / "a"))
    assert code == 3
    assert "error [unsafe]" in err and "region=01, size=s" in err
    report = json.loads((tmp_path / "a" / "audit.json").read_text())
    assert report["audit"]["failures_by_kind"] == {"exact": 1}
    code, _, err = _run(str(spec), "--cells", str(cells), "--intervals", "check")
    assert code == 3 and "region=01, size=s" in err


def test_table_from_another_tool_needs_a_protection_percentage(tmp_path: Path) -> None:
    bare = _cells(0.0, RECT)[["region", "size", "value", "status"]]
    spec, cells = _setup(tmp_path, bare)
    code, _, err = _run(str(spec), "--cells", str(cells))
    assert code == 2 and "--protection-percent" in err
    code, out, err = _run(str(spec), "--cells", str(cells), "--protection-percent", "50")
    assert code == 0, err
    assert "singleton check skipped" in out
    code, _, err = _run(str(spec), "--cells", str(cells), "--protection-percent", "150")
    assert code == 3  # 150% of 10 below 10 is -5: non-negativity cannot give that


def test_malformed_cells_csv_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    good = _cells(5.0, RECT)
    spec, path = _setup(tmp_path, good.drop(columns=["status"]))
    code, _, err = _run(str(spec), "--cells", str(path))
    assert code == 2 and "status" in err

    bad = good.copy()
    bad.loc[bad["region"] == "02", "region"] = "2"  # leading zero lost by a spreadsheet
    path.write_text(bad.to_csv(index=False))
    code, _, err = _run(str(spec), "--cells", str(path))
    assert code == 2 and "'2'" in err and "not in its hierarchy" in err

    bad = good.copy()
    bad.loc[0, "value"] = bad.loc[0, "value"] + 1
    path.write_text(bad.to_csv(index=False))
    code, _, err = _run(str(spec), "--cells", str(path))
    assert code == 2 and "not additive" in err
    assert not (tmp_path / "out" / "audit.csv").exists()


def test_help_shows_an_example() -> None:
    result = CliRunner().invoke(audit_command, ["--help"])
    assert result.exit_code == 0
    assert "fivesafes table audit" in result.stdout
