"""In and out of tau-Argus and sdcTable: `table audit` reads their statuses, `table export`
writes their table input, `table hierarchy` converts hierarchy files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from test_table_audit import RECT, _cells, _setup

from fivesafes.cli.main import cli

ARGUS = {"safe": "V", "primary": "B", "secondary": "D"}
SDC = {"safe": "s", "primary": "u", "secondary": "x"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def as_tool(cells: pd.DataFrame, codes: dict[str, str], column: str, value: str) -> pd.DataFrame:
    """The table as the other tool writes it: its status codes and column names."""
    out = cells[["region", "size", "value", "status"]].rename(columns={"value": value})
    out[column] = out.pop("status").map(codes)
    return out


def test_audit_reads_tau_argus_statuses_with_a_status_map(tmp_path: Path) -> None:
    spec, path = _setup(tmp_path, as_tool(_cells(5.0, RECT), ARGUS, "Status", "turnover"))
    args = ["table", "audit", str(spec), "--cells", str(path), "--value-column", "turnover"]
    code, out, err = run(*args, "--protection-percent", "50")
    assert code == 0, err
    assert "statuses read from column 'Status' as argus codes" in out
    code, out, err = run(
        *args, "--protection-percent", "50", "--status-map", "B=primary,D=secondary,V=safe"
    )
    assert code == 0, err
    assert "with the map 'B=primary,D=secondary,V=safe'" in out
    # the same table with a secondary cell published (D -> V) is found out
    leaky = as_tool(_cells(5.0, {("01", "m")}), ARGUS, "Status", "turnover")
    leaky.to_csv(path, index=False)
    code, _out, err = run(*args, "--protection-percent", "50")
    assert code == 3 and "region=01, size=s" in err


def test_audit_reads_sdctable_sdcstatus(tmp_path: Path) -> None:
    frame = as_tool(_cells(5.0, RECT), SDC, "sdcStatus", "val")
    frame.loc[0, "sdcStatus"] = "z"  # z: must be published: safe
    spec, path = _setup(tmp_path, frame)
    code, out, err = run(
        "table",
        "audit",
        str(spec),
        "--cells",
        str(path),
        "--value-column",
        "val",
        "--protection-percent",
        "50",
    )
    assert code == 0, err
    assert "as sdctable codes" in out


def test_an_unknown_status_code_is_refused_not_guessed(tmp_path: Path) -> None:
    frame = as_tool(_cells(5.0, RECT), ARGUS, "Status", "turnover")
    frame.loc[4, "Status"] = "M"
    spec, path = _setup(tmp_path, frame)
    args = ["table", "audit", str(spec), "--cells", str(path), "--value-column", "turnover"]
    code, _out, err = run(*args, "--protection-percent", "50")
    assert code == 2 and "['M']" in err and "row" in err and "--status-map" in err
    code, _out, err = run(*args, "--protection-percent", "50", "--status-map", "argus,M=secondary")
    assert code == 0, err
    code, _out, err = run(*args, "--status-map", "argos")
    assert code == 2 and "did you mean 'argus'" in err
    code, _out, err = run(*args, "--status-map", "B=primay")
    assert code == 2 and "did you mean 'primary'" in err


def test_export_for_argus_and_sdctable_and_read_back(tmp_path: Path) -> None:
    spec, path = _setup(tmp_path, _cells(5.0, RECT))
    code, out, err = run(
        "table",
        "export",
        str(spec),
        "--cells",
        str(path),
        "--to",
        "argus",
        "--out",
        str(tmp_path / "argus"),
    )
    assert code == 0, err
    tab = (tmp_path / "argus" / "sales.tab").read_text().splitlines()
    assert len(tab) == 9 and "01,s,10,4,5,5,U" in tab  # the primary cell is unsafe for tau-Argus
    assert "02,m,40,4,0,0,S" in tab  # its secondaries are tau-Argus' to choose
    rda = (tmp_path / "argus" / "sales.rda").read_text()
    assert '<HIERCODELIST> "sales_region.hrc"' not in rda  # one level: TOTCODE is enough
    assert '<TOTCODE> "00"' in rda and '<TOTCODE> "All"' in rda and "<LOWERPL>" in rda
    code, out, err = run(
        "table",
        "export",
        str(spec),
        "--cells",
        str(path),
        "--to",
        "sdctable",
        "--out",
        str(tmp_path / "sdc"),
    )
    assert code == 0, err
    assert "wrote 4 file(s) for sdctable" in out
    inner = pd.read_csv(tmp_path / "sdc" / "sales_sdctable.csv", dtype=str)
    assert len(inner) == 4 and set(inner["region"]) == {"01", "02"}  # no totals, zeros kept
    hier = (tmp_path / "sdc" / "sales_hier_region.csv").read_text()
    assert hier == "level,name\n@,00\n@@,01\n@@,02\n"
    # fivesafes' own pattern, as sdcTable statuses, audits as the original does
    ours = tmp_path / "sdc" / "sales_fivesafes.csv"
    code, _out, err = run(
        "table", "audit", str(spec), "--cells", str(ours), "--protection-percent", "50"
    )
    assert code == 0, err


def test_hierarchy_convert_round_trips_through_hrc(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[2] / "examples" / "region.csv"
    hrc = tmp_path / "region.hrc"
    code, out, err = run("table", "hierarchy", str(src), "--to", "hrc", "--out", str(hrc))
    assert "14 codes" in out
    assert code == 0, err
    assert hrc.read_text().splitlines()[:2] == ["E92000001", "@E12000001"]
    back = tmp_path / "region.csv"
    code, _out, err = run(
        "table",
        "hierarchy",
        str(hrc),
        "--to",
        "csv",
        "--out",
        str(back),
        "--total-code",
        "K02000001",
    )
    assert code == 0, err
    original = pd.read_csv(src, dtype=str, keep_default_na=False)[["code", "parent"]]
    again = pd.read_csv(back, dtype=str, keep_default_na=False)
    assert again.equals(original)


def test_export_json_lists_the_files(tmp_path: Path) -> None:
    spec, path = _setup(tmp_path, _cells(5.0, RECT))
    code, out, _err = run(
        "table",
        "export",
        str(spec),
        "--cells",
        str(path),
        "--to",
        "argus",
        "--out",
        str(tmp_path / "a"),
        "--json",
    )
    assert code == 0 and len(json.loads(out)["files"]) == 2


def test_json_stdout_stays_one_document_when_a_result_precedes_the_error(tmp_path: Path) -> None:
    # an unsafe audit prints its findings as JSON, then exits 3: no second JSON document
    spec, path = _setup(tmp_path, _cells(5.0, set()))
    code, out, err = run("table", "audit", str(spec), "--cells", str(path), "--json")
    assert code == 3 and "error [unsafe]" in err
    assert json.loads(out)["safe"] is False
