"""``fivesafes table protect`` through click's CliRunner."""

from __future__ import annotations

import ctypes
import gzip
import json
import stat
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from fivesafes.cli.main import cli
from fivesafes.cli.table import native_stdout_to_stderr

SPEC = """\
[table]
name = "{name}"
{response}
contributor = "ent"

[[dimension]]
name = "region"
[[dimension]]
name = "industry"

[rules]
threshold = 3
{magnitude_rules}
"""


def case(tmp_path: Path, name: str = "sales", *, frequency: bool = False) -> Path:
    spec = tmp_path / f"{name}.toml"
    spec.write_text(
        SPEC.format(
            name=name,
            response="" if frequency else 'response = "turnover"',
            magnitude_rules="" if frequency else "p_percent = 10",
        )
    )
    return spec


def data(tmp_path: Path) -> Path:
    rows = [(f"e{i}", "N" if i < 5 else "S", "01" if i % 2 else "1", 10.0 + i) for i in range(9)]
    path = tmp_path / "data.csv"
    pd.DataFrame(rows, columns=["ent", "region", "industry", "turnover"]).to_csv(path, index=False)
    return path


def test_protect_writes_outputs_and_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        [
            "table",
            "protect",
            str(case(tmp_path)),
            "--data",
            str(data(tmp_path)),
            "--out",
            str(out),
            "--secondary",
            "none",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "sales: 9 cells from 9 rows" in res.output
    assert "primary:" in res.output and str(out) in res.output
    assert sorted(p.name for p in out.iterdir()) == [
        "cells.csv",
        "report.json",
        "table.csv",
        "table.xlsx",
    ]


def test_json_summary_matches_the_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        [
            "table",
            "protect",
            str(case(tmp_path)),
            "--data",
            str(data(tmp_path)),
            "--out",
            str(out),
            "--secondary",
            "none",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    (summary,) = json.loads(res.stdout)["tables"]
    report = json.loads((out / "report.json").read_text())
    assert summary["by_status"] == report["cells"]["by_status"]
    assert summary["by_rule"] == report["cells"]["by_rule"]
    assert summary["rows"] == 9


def test_several_specs_go_to_one_folder_each(tmp_path: Path) -> None:
    out = tmp_path / "out"
    specs = [str(case(tmp_path, "sales")), str(case(tmp_path, "counts", frequency=True))]
    res = CliRunner().invoke(
        cli,
        [
            "table",
            "protect",
            *specs,
            "--data",
            str(data(tmp_path)),
            "--out",
            str(out),
            "--secondary",
            "none",
        ],
    )
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["counts", "sales"]
    assert (out / "counts" / "cells.csv").is_file()


def test_bad_input_gives_message_hint_and_exit_status(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        [
            "table",
            "protect",
            str(case(tmp_path)),
            "--data",
            str(tmp_path / "missing.csv"),
            "--out",
            str(out),
            "--secondary",
            "none",
        ],
    )
    assert res.exit_code == 2
    assert "error [data]: data file not found" in res.output
    assert "what to do:" in res.output
    assert not out.exists()  # bad input changes nothing


def test_bad_spec_is_reported_before_any_work(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[table]\nname = 'x'\n")
    res = CliRunner().invoke(
        cli,
        [
            "table",
            "protect",
            str(case(tmp_path)),
            str(bad),
            "--data",
            str(data(tmp_path)),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert res.exit_code == 2
    assert "error [spec]" in res.output
    assert not (tmp_path / "out").exists()


def test_help_teaches_with_an_example() -> None:
    res = CliRunner().invoke(cli, ["table", "protect", "--help"])
    assert res.exit_code == 0
    for word in (
        "Examples:",
        "--dataset",
        "cells.csv",
        "report.json",
        "table.xlsx",
        "[c]",
        "--secondary",
    ):
        assert word in res.output
    # the list of outputs keeps its layout (click rewraps a paragraph without \b)
    assert "  cells.csv    one row per cell, subtotals included: codes, records,\n" in res.output
    assert "  table.xlsx   the same as a spreadsheet, with a Notes sheet\n" in res.output
    # the defaults a new statistician needs, and a first example that is safe to release
    assert "[default: the spec's [suppression] method, else auto]" in " ".join(res.output.split())
    assert "[default: out]" in res.output
    first = res.output[res.output.index("Examples:") :].splitlines()[1:3]
    assert "--secondary none" not in "".join(first)


def test_the_examples_run(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2] / "examples"
    specs = [str(root / "turnover.toml"), str(root / "enterprises.toml")]
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        [
            "table",
            "protect",
            *specs,
            "--data",
            str(root / "survey.csv"),
            "--out",
            str(out),
            "--secondary",
            "none",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    summaries = json.loads(res.stdout)["tables"]
    assert [s["table"] for s in summaries] == ["turnover_by_region_industry", "rows_by_region_size"]
    assert all(s["by_status"]["primary"] > 0 for s in summaries)


def test_native_stdout_goes_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    # solver libraries print banners from C; they must not corrupt --json on stdout
    libc = ctypes.CDLL(None)
    with native_stdout_to_stderr():
        libc.printf(b"native banner\n")
    libc.fflush(None)
    print("ours")
    out, err = capfd.readouterr()
    assert "native banner" in err and "native banner" not in out
    assert "ours" in out


def test_a_failing_second_table_writes_nothing_at_all(tmp_path: Path) -> None:
    good = case(tmp_path, "sales")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        case(tmp_path, "other").read_text().replace('name = "industry"', 'name = "nope"')
    )
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        [
            "table",
            "protect",
            str(good),
            str(bad),
            "--data",
            str(data(tmp_path)),
            "--out",
            str(out),
            "--secondary",
            "none",
        ],
    )
    assert res.exit_code != 0
    assert "error [" in res.output and "nope" in res.output
    assert not out.exists()


def test_a_table_of_part_of_the_units_says_so(tmp_path: Path) -> None:
    rows = [(f"e{i}", "N" if i < 6 else "S", "A", ["small", "large"][i % 2], 10.0 + i)
            for i in range(12)]  # fmt: skip
    src = tmp_path / "sized.csv"
    pd.DataFrame(rows, columns=["ent", "region", "industry", "size", "turnover"]).to_csv(
        src, index=False
    )
    spec = tmp_path / "small.toml"
    spec.write_text(
        SPEC.format(name="small", response='response = "turnover"', magnitude_rules="").replace(
            'contributor = "ent"', 'contributor = "ent"\nwhere = { size = "small" }'
        )
    )
    out = tmp_path / "out"
    args = ["table", "protect", str(spec), "--data", str(src), "--out", str(out), "--quiet"]
    result = CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.stdout)["tables"]
    assert summary["population"] == {"size": ["small"]}
    cells = pd.read_csv(out / "cells.csv", dtype={"region": str, "industry": str})
    grand = cells[(cells["region"] == "Total") & (cells["industry"] == "Total")]
    assert float(grand["value"].iloc[0]) == 90.0  # the small units only: 10 + 12 + ... + 20
    report = json.loads((out / "report.json").read_text())
    assert report["population"] == {"where": {"size": ["small"]}, "domains_in": "population.json"}
    population = json.loads((out / "population.json").read_text())
    assert population["domains"] == {"size": ["large", "small"]}  # every value, beside it
    text = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert "population: only units with size in small" in text.stdout


def test_a_filter_on_a_unit_identifier_names_only_the_units_it_selects_in_the_report(
    tmp_path: Path,
) -> None:
    # report.json is the plain account of the table (read, mailed, attached): a filter on
    # a unit identifier must not list every unit of the data there, only those it keeps.
    # The check at release submit still needs every value: population.json (0600) has it.
    from fivesafes.release.submission import read_table_dir

    rows = [(f"unit-{i:04d}", "N" if i < 12 else "S", "A", 10.0 + i) for i in range(24)]
    src = tmp_path / "units.csv"
    pd.DataFrame(rows, columns=["ent", "region", "industry", "turnover"]).to_csv(src, index=False)
    kept = [f"unit-{i:04d}" for i in range(0, 24, 3)]
    spec = tmp_path / "some.toml"
    spec.write_text(
        SPEC.format(name="some", response='response = "turnover"', magnitude_rules="").replace(
            'contributor = "ent"', f'contributor = "ent"\nwhere = {{ ent = {json.dumps(kept)} }}'
        )
    )
    out = tmp_path / "out"
    args = ["table", "protect", str(spec), "--data", str(src), "--out", str(out), "--quiet"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = (out / "report.json").read_text(encoding="utf-8")
    leaked = [u for u, *_ in rows if u not in kept and u in text]
    assert leaked == []
    assert json.loads(text)["population"]["where"] == {"ent": kept}
    assert stat.S_IMODE((out / "population.json").stat().st_mode) == 0o600
    # what release submit reads: the whole domain, so the differencing check relates the
    # table to tables of every unit
    population = read_table_dir(out, spec).population
    assert population is not None
    assert population.domains["ent"] == tuple(sorted(u for u, *_ in rows))


def test_gzipped_data_give_the_table_the_plain_file_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # check_source refused ".gz" though DuckDB reads it, decompressing in memory as it goes
    plain_dir, packed_dir, work, scratch = (tmp_path / n for n in ("plain", "gz", "work", "tmp"))
    for folder in (plain_dir, packed_dir, work, scratch):
        folder.mkdir()
    spec = case(packed_dir)
    plain = data(plain_dir)
    packed = packed_dir / "data.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    monkeypatch.chdir(work)  # where a reader might drop a scratch file
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again

    def protect(source: Path, out: Path) -> None:
        args = ["table", "protect", str(spec), "--data", str(source), "--out", str(out)]
        res = CliRunner().invoke(cli, [*args, "--quiet"])
        assert res.exit_code == 0, res.output

    protect(plain, plain_dir / "out")
    protect(packed, packed_dir / "out")
    want, got = plain_dir / "out", packed_dir / "out"
    assert (got / "cells.csv").read_bytes() == (want / "cells.csv").read_bytes()

    def without_source(table: Path) -> list[str]:  # these name the file read, and the time
        lines = table.read_text().splitlines()
        return [line for line in lines if not line.startswith(("# Source:", "# Produced by"))]

    assert without_source(got / "table.csv") == without_source(want / "table.csv")
    report = json.loads((got / "report.json").read_text())
    assert report["source"]["path"] == str(packed.resolve())
    assert report["source"]["compression"] == "gzip"
    # no decompressed copy of the microdata anywhere: only the plain file holds its lines
    header = plain.read_bytes().splitlines()[0]
    holding = [p for p in tmp_path.rglob("*") if p.is_file() and header in p.read_bytes()]
    assert holding == [plain]
    assert list(work.iterdir()) == [] and list(scratch.iterdir()) == []
