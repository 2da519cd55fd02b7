"""``fivesafes table show``: the published and checker's views, on the terminal and as HTML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from fivesafes.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

HOSTILE_SPEC = """\
[table]
name = "hostile"
response = "turnover"
contributor = "ent"

[[dimension]]
name = "region"

[rules]
threshold = 3
"""
HOSTILE = ("<script>alert(1)</script>", "=cmd|' /C calc'!A0", "[bold]loud[/bold]")


def invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.output + (str(res.exception) if res.exception else "")


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example table protected into a folder (its spec and hierarchies copied beside it)."""
    root = tmp_path_factory.mktemp("show")
    for name in ("turnover.toml", "region.csv", "industry.csv"):
        shutil.copy(EXAMPLES / name, root / name)
    out = root / "out"
    code, text = invoke(
        "table",
        "protect",
        str(root / "turnover.toml"),
        "--data",
        str(EXAMPLES / "survey.csv"),
        "--out",
        str(out),
        "--quiet",
    )
    assert code == 0, text
    return out


def _unprotected(spec: Path, out: Path) -> Path:
    """The example table with primary suppression only (--secondary none), into ``out``."""
    code, text = invoke(
        "table",
        "protect",
        str(spec),
        "--data",
        str(EXAMPLES / "survey.csv"),
        "--out",
        str(out),
        "--secondary",
        "none",
        "--quiet",
    )
    assert code == 0, text
    return out


def hidden_values(out: Path) -> list[str]:
    """The true values of hidden cells, as the views would print them."""
    cells = pd.read_csv(out / "cells.csv", dtype=str)
    hidden = cells[cells["status"] != "safe"]
    return [f"{float(v):,.2f}" for v in hidden["value"]]


def test_show_prints_the_published_table(protected: Path) -> None:
    code, text = invoke("table", "show", str(protected), "--rows", "0", "--quiet")
    assert code == 0, text
    assert "United Kingdom (K02000001)" in text and "[c]" in text
    assert "primary" not in text and "secondary" not in text
    for v in hidden_values(protected):
        assert v not in text  # no hidden value on the published view


def test_show_checker_marks_cells_and_suggests_coarser_tables(protected: Path) -> None:
    code, text = invoke("table", "show", str(protected), "--checker", "--rows", "0", "--quiet")
    assert code == 0, text
    assert "CONFIDENTIAL" in text and "audit now: safe" in text
    assert "primary" in text and "secondary" in text and "dominance(1,50)" in text
    assert "Information lost:" in text and "252 of 392 cells are hidden (64.3%)" in text
    assert "Coarser tables" in text and "without its most detailed level" in text
    code, text = invoke("table", "show", str(protected), "--checker", "--no-suggest", "--quiet")
    assert code == 0 and "Coarser tables" not in text


def test_show_writes_self_contained_html(protected: Path, tmp_path: Path) -> None:
    page = tmp_path / "table.html"
    code, text = invoke("table", "show", str(protected), "--html", str(page), "--quiet")
    assert code == 0, text
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "[c]" in html
    assert "<script" not in html and "src=" not in html and "href=" not in html
    for v in hidden_values(protected):
        assert v not in html
    checker = tmp_path / "checker.html"
    code, text = invoke(
        "table", "show", str(protected), "--checker", "--no-suggest", "--html", str(checker)
    )
    assert code == 0 and "CONFIDENTIAL" in text
    assert 'class="primary"' in checker.read_text(encoding="utf-8")


@pytest.mark.parametrize("where", ["empty", "missing"])
def test_show_refuses_a_folder_without_a_report(tmp_path: Path, where: str) -> None:
    # no output at that path: not_found (exit 4), not a fault in the data (was: data)
    folder = tmp_path if where == "empty" else tmp_path / "nowhere"
    res = CliRunner().invoke(cli, ["table", "show", str(folder), "--json"])
    assert res.exit_code == 4
    error = json.loads(res.stdout)["error"]
    assert error["code"] == "not_found" and "not an output folder" in error["message"]


def test_show_of_a_several_table_folder_names_its_tables(protected: Path, tmp_path: Path) -> None:
    # table protect A.toml B.toml --out two writes two/<table name>/; `table show two` told
    # the user to "give the folder passed to --out", which is what they had done
    two = tmp_path / "two"
    for name in ("sales", "counts"):
        shutil.copytree(protected, two / name)
    code, text = invoke("table", "show", str(two))
    assert code == 4 and "holds one output folder per table" in text
    assert "counts, sales" in text and f"fivesafes table show {two / 'counts'}" in text


def test_show_refuses_a_changed_spec(protected: Path, tmp_path: Path) -> None:
    spec = tmp_path / "turnover.toml"
    spec.write_text((protected.parent / "turnover.toml").read_text() + "\n# changed\n")
    for name in ("region.csv", "industry.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    code, text = invoke("table", "show", str(protected), "--spec", str(spec))
    assert code != 0 and "not the one this table was protected with" in text


def test_show_escapes_hostile_codes(tmp_path: Path) -> None:
    spec = tmp_path / "hostile.toml"
    spec.write_text(HOSTILE_SPEC)
    rows = [(f"e{i}", HOSTILE[i % 3], 10.0 + i) for i in range(12)]
    data = tmp_path / "data.csv"
    pd.DataFrame(rows, columns=["ent", "region", "turnover"]).to_csv(data, index=False)
    out = tmp_path / "out"
    code, text = invoke(
        "table", "protect", str(spec), "--data", str(data), "--out", str(out), "--quiet"
    )
    assert code == 0, text
    page = tmp_path / "t.html"
    code, text = invoke("table", "show", str(out), "--checker", "--html", str(page), "--quiet")
    assert code == 0, text
    html = page.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "=cmd" not in html.replace("&#39;=cmd", "").replace("&#x27;=cmd", "")
    code, text = invoke("table", "show", str(out), "--quiet")
    assert code == 0, text
    # rich markup in a code is printed as it is, never interpreted
    assert "[bold]loud[/bold]" in text and "'=cmd" in text


def test_report_json_is_untouched(protected: Path) -> None:
    before = json.loads((protected / "report.json").read_text())
    invoke("table", "show", str(protected), "--quiet")
    assert json.loads((protected / "report.json").read_text()) == before


def test_show_json(protected: Path) -> None:
    code, text = invoke("table", "show", str(protected), "--json", "--quiet")
    assert code == 0, text
    view = json.loads(text)
    assert view["checker"] is False and view["loss"] is None
    assert len(view["rows"]) == 392 and view["rows"][0]["levels"] == [0, 0]
    assert all(r["value"] is None for r in view["rows"] if r["hidden"])
    code, text = invoke("table", "show", str(protected), "--json", "--checker", "--no-suggest")
    view = json.loads(text)
    assert view["loss"]["hidden"] == 252 and view["loss"]["sentences"][0].startswith("252 of 392")
    assert {r["status"] for r in view["rows"]} == {"safe", "primary", "secondary"}


def test_checker_marks_what_the_audit_finds_under_protected(tmp_path: Path) -> None:
    root = tmp_path / "spec"
    root.mkdir()
    for name in ("turnover.toml", "region.csv", "industry.csv"):
        shutil.copy(EXAMPLES / name, root / name)
    out = _unprotected(root / "turnover.toml", tmp_path / "out")
    code, text = invoke("table", "show", str(out), "--checker", "--no-suggest", "--rows", "0")
    assert code == 0, text
    assert "audit now: UNSAFE" in text and "UNDER-PROTECTED" in text


def test_show_refuses_the_published_view_of_a_table_not_safe_to_release(tmp_path: Path) -> None:
    # --secondary none: every primary is the total minus the published cells around it
    out = _unprotected(EXAMPLES / "turnover.toml", tmp_path / "out")
    page = tmp_path / "t.html"
    for extra in ((), ("--html", str(page)), ("--json",)):
        res = CliRunner().invoke(cli, ["table", "show", str(out), "--quiet", *extra])
        assert res.exit_code == 3, res.output
        assert "error [unsafe]" in res.output and "not safe to release" in res.output
        assert "[c]" not in res.output and "United Kingdom" not in res.output
    assert not page.exists()


def test_show_refuses_a_cells_csv_edited_by_hand(protected: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(protected, out)
    cells = pd.read_csv(out / "cells.csv", dtype=str, keep_default_na=False)
    cells.loc[cells["status"] == "secondary", "status"] = "safe"
    cells.to_csv(out / "cells.csv", index=False, lineterminator="\n")
    code, text = invoke("table", "show", str(out), "--rows", "0", "--quiet")
    assert code != 0 and "error [integrity]" in text and "cells.csv" in text
    for v in hidden_values(protected):
        assert v not in text


def test_show_refuses_a_report_of_another_shape(protected: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(protected, out)
    (out / "report.json").write_text("[1, 2]", encoding="utf-8")
    code, text = invoke("table", "show", str(out), "--quiet")
    assert code != 0 and "error [data]" in text and "report.json" in text


@pytest.mark.parametrize("option", [("--suggest",), ("--no-suggest",), ("--budget", "5")])
def test_show_says_that_suggestions_need_the_checkers_view(
    protected: Path, option: tuple[str, ...]
) -> None:
    res = CliRunner().invoke(cli, ["table", "show", str(protected), "--quiet", *option])
    assert res.exit_code == 2, res.output
    assert "only work with --checker" in res.output
    assert "[c]" not in res.output  # nothing shown


def test_demo_points_an_unsafe_table_to_the_checkers_view(tmp_path: Path) -> None:
    from fivesafes.demo.run import run_demo

    safe = run_demo(tmp_path / "safe", rows=3_000).summary().splitlines()[-1]
    assert "see it:" in safe and "no published view" not in safe
    summary = run_demo(tmp_path / "demo", rows=3_000, secondary="none").summary()
    assert "not safe to publish" in summary
    see_it = summary.splitlines()[-1]
    assert "--checker" in see_it and "no published view" in see_it
