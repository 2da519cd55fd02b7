import json
from datetime import date

import pandas as pd
import pytest
from odf.opendocument import load as load_ods
from openpyxl import load_workbook

from fivesafes.errors import IntegrityError
from fivesafes.release.bundle import BundleInfo, BundleTable, verify_bundle, write_bundle
from fivesafes.sdc.hierarchy import Hierarchy

REGION = Hierarchy.from_pairs("region", [("UK", None), ("N", "UK"), ("S", "UK")])
INDUSTRY = Hierarchy.from_pairs("industry", [("All", None), ("01", "All"), ("02", "All")])
# Distinctive hidden values, so a leak would be visible as text.
CELLS = pd.DataFrame(
    {
        "region": ["UK", "UK", "UK", "N", "N", "N", "S", "S", "S"],
        "industry": ["All", "01", "02"] * 3,
        "value": [1000.0, 600.0, 400.0, 500.0, 4321.5 - 4021.5, 200.0, 500.0, 300.0, 200.0],
        "status": [
            "safe",
            "safe",
            "safe",
            "safe",
            "primary",
            "secondary",
            "safe",
            "secondary",
            "primary",
        ],
    }
)
CELLS.loc[4, "value"] = 300.25  # hidden (primary)
CELLS.loc[5, "value"] = 199.75  # hidden (secondary)
CELLS.loc[7, "value"] = 299.75  # hidden
CELLS.loc[8, "value"] = 200.25  # hidden
RULES = {"in_force": ["threshold", "p%"], "threshold": 7, "p_percent": 13}


def _bundle(tmp_path, withhold=False):
    info = BundleInfo(
        release_id="R-2026-01",
        title="Turnover by region and industry",
        organisation="Example Department",
        source="Business survey 2026",
        published_on=date(2026, 11, 26),
        withhold_thresholds=withhold,
        choices=("Zero cells are published as 0.",),
        differencing={"published_cells": 9, "checked_cells": 2, "safe": True},
    )
    table = BundleTable(
        name="turnover",
        title="Turnover (GBP thousand)",
        cells=CELLS,
        hierarchies=(REGION, INDUSTRY),
        rules=RULES,
        method="optimal",
        audit_safe=True,
        gap=0.0,
    )
    out = tmp_path / "bundle"
    write_bundle(out, info, [table])
    return out


def test_bundle_has_every_file_and_a_verifiable_manifest(tmp_path):
    out = _bundle(tmp_path)
    names = {p.name for p in out.iterdir()}
    assert names == {
        "methods.md",
        "methods.html",
        "tables.xlsx",
        "tables.ods",
        "turnover.csv",
        "manifest.json",
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == names - {"manifest.json"}
    verify_bundle(out)


def test_spreadsheets_follow_the_gss_layout_and_hide_cells(tmp_path):
    out = _bundle(tmp_path)
    wb = load_workbook(out / "tables.xlsx")
    assert wb.sheetnames == ["Cover", "Contents", "Notes", "turnover"]
    ws = wb["turnover"]
    assert ws["A1"].value == "Turnover (GBP thousand)"
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert rows[0] == ("region", "All", "01", "02")
    assert rows[2] == ("  N", 500, "[c]", "[c]")
    assert all(any(v is not None for v in r) for r in rows)  # no blank rows inside the table
    ods = load_ods(out / "tables.ods")
    assert "[c]" in str(ods.spreadsheet)


def test_no_hidden_value_appears_in_any_file(tmp_path):
    out = _bundle(tmp_path)
    for f in out.iterdir():
        if f.suffix in (".csv", ".md", ".html"):
            text = f.read_text()
            for hidden in ("300.25", "199.75", "299.75", "200.25"):
                assert hidden not in text, (f.name, hidden)


def test_methods_note_states_the_rules_or_withholds_the_thresholds(tmp_path):
    shown = (_bundle(tmp_path / "a") / "methods.md").read_text()
    assert "threshold = 7" in shown and "p_percent = 13" in shown
    assert "4 hidden" in shown and "2 because" in shown
    withheld = (_bundle(tmp_path / "b", withhold=True) / "methods.html").read_text()
    assert "7" not in withheld.split("Rules:")[1].split("</li>")[0]
    assert "not published, by policy" in withheld


def test_a_changed_or_extra_file_fails_verification(tmp_path):
    out = _bundle(tmp_path)
    (out / "turnover.csv").write_text("region,value\nN,300.25\n")
    (out / "extra.txt").write_text("x")
    with pytest.raises(IntegrityError, match=r"turnover.csv has changed.*extra.txt was added"):
        verify_bundle(out)
