"""Reading an output folder for ``table show``: only a table the report calls safe, as protected.

The published view is what someone copies into a publication, so it is never built from a
table whose report says it is not safe to release, nor from a cells.csv whose statuses
are not the ones protected (a cell edited from secondary to safe, a truncated file).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from fivesafes.errors import DataError, IntegrityError, UnsafeTableError
from fivesafes.sdc import render_html, tables, view_table
from fivesafes.sdc.perturbation.keys import KeyMaterial

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SPEC = EXAMPLES / "turnover.toml"
DATA = EXAMPLES / "survey.csv"


@pytest.fixture(scope="module")
def safe_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("safe") / "out"
    tables(SPEC, DATA).write(out)
    return out


def copy_of(out: Path, tmp_path: Path) -> Path:
    """A copy of an output folder, to edit."""
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in out.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    return copy


def edit_status(out: Path, region: str, industry: str, status: str) -> str:
    """Set one cell's status in cells.csv; its true value, as a view prints it."""
    cells = pd.read_csv(out / "cells.csv", dtype=str, keep_default_na=False)
    at = (cells["region"] == region) & (cells["industry"] == industry)
    assert at.sum() == 1
    cells.loc[at, "status"] = status
    cells.to_csv(out / "cells.csv", index=False, lineterminator="\n")
    return f"{float(cells.loc[at, 'value'].iloc[0]):,.2f}"


def a_cell(out: Path, status: str) -> tuple[str, str]:
    cells = pd.read_csv(out / "cells.csv", dtype=str, keep_default_na=False)
    row = cells[cells["status"] == status].iloc[0]
    return str(row["region"]), str(row["industry"])


def test_the_published_view_of_a_safe_table_is_shown(safe_out: Path) -> None:
    view = view_table(safe_out)
    assert any(r.hidden for r in view.rows)


def test_a_table_with_primary_suppression_only_is_not_shown_as_published(tmp_path: Path) -> None:
    # --secondary none: a hidden primary is the total minus the published cells around it
    result = tables(SPEC, DATA, secondary="none")
    result.write(tmp_path / "out")
    for table in (tmp_path / "out", result):
        with pytest.raises(UnsafeTableError) as err:
            view_table(table)
        assert "not safe to release" in err.value.message
        assert "secondary" in (err.value.hint or "")
    # the checker still sees the pattern (and the audit's verdict on it)
    view = view_table(tmp_path / "out", checker=True, suggest=False)
    assert view.audit.startswith("audit now: UNSAFE")


def test_a_secondary_cell_edited_to_safe_is_refused(safe_out: Path, tmp_path: Path) -> None:
    out = copy_of(safe_out, tmp_path)
    value = edit_status(out, *a_cell(out, "secondary"), "safe")
    for checker in (False, True):
        with pytest.raises(IntegrityError) as err:
            view_table(out, checker=checker, suggest=False)
        assert "cells.csv" in err.value.message and value not in err.value.message
        assert "protect" in (err.value.hint or "")


def test_swapped_statuses_are_refused(safe_out: Path, tmp_path: Path) -> None:
    # the counts stay the same: a primary published, a safe cell hidden in its place
    out = copy_of(safe_out, tmp_path)
    edit_status(out, *a_cell(out, "primary"), "safe")
    edit_status(out, *a_cell(safe_out, "safe"), "primary")
    with pytest.raises(IntegrityError):
        view_table(out)


def test_a_truncated_cells_csv_is_refused(safe_out: Path, tmp_path: Path) -> None:
    out = copy_of(safe_out, tmp_path)
    text = (out / "cells.csv").read_text(encoding="utf-8")
    (out / "cells.csv").write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(IntegrityError):
        view_table(out)


def test_a_report_without_the_digest_is_checked_on_its_counts(
    safe_out: Path, tmp_path: Path
) -> None:
    # an output folder of an earlier version: report.json has the counts only
    out = copy_of(safe_out, tmp_path)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    del report["cells"]["status_sha256"]
    (out / "report.json").write_text(json.dumps(report), encoding="utf-8")
    assert view_table(out).rows
    edit_status(out, *a_cell(out, "secondary"), "safe")
    with pytest.raises(IntegrityError):
        view_table(out)


@pytest.mark.parametrize(
    "report",
    [
        "[1, 2]",
        '"text"',
        '{"spec": "x"}',
        '{"spec": {"path": 3}}',
        '{"audit": []}',
        '{"spec": {"sha256": "x"}, "cells": {"by_status": {}}, "audit": {}, "protection": "x"}',
    ],
)
def test_a_report_of_another_shape_is_a_clear_error(
    safe_out: Path, tmp_path: Path, report: str
) -> None:
    out = copy_of(safe_out, tmp_path)
    (out / "report.json").write_text(report, encoding="utf-8")
    with pytest.raises(DataError) as err:
        view_table(out)
    assert "report.json" in err.value.message


def test_the_published_html_holds_no_hidden_value(safe_out: Path) -> None:
    page = render_html(view_table(safe_out))
    cells = pd.read_csv(safe_out / "cells.csv", dtype=str, keep_default_na=False)
    for v in cells.loc[cells["status"] != "safe", "value"]:
        x = float(v)
        for shown in (f"{x:,.2f}", f"{x:.2f}", v):
            assert shown not in page


def test_a_perturbed_table_without_its_published_values_is_refused(tmp_path: Path) -> None:
    # a cellkey table's cells.csv holds the true counts and the published (perturbed)
    # ones: without the latter, the published view must not fall back on the former
    key = KeyMaterial(b"0123456789abcdef0123456789abcdef", "test")
    result = tables(EXAMPLES / "people.toml", EXAMPLES / "people.csv", method="cellkey", keys=key)
    out = tmp_path / "out"
    result.write(out)
    assert view_table(out).rows
    cells = pd.read_csv(out / "cells.csv", dtype=str, keep_default_na=False)
    cells.drop(columns=["published"]).to_csv(out / "cells.csv", index=False, lineterminator="\n")
    with pytest.raises(IntegrityError) as err:
        view_table(out)
    assert "published" in err.value.message and "cellkey" in err.value.message
    with pytest.raises(IntegrityError):
        view_table(dataclasses.replace(result, cells=result.cells.drop(columns=["published"])))
