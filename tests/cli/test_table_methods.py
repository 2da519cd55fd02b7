"""``table protect --method/--key-file/--compare``: perturbed or rounded, or refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from fivesafes.cli.main import cli
from fivesafes.sdc.perturbation.keys import SECRET_ENV

SPEC = """\
[table]
name = "people"

[[dimension]]
name = "region"
[[dimension]]
name = "age"

[rules]
threshold = 3

[perturbation]
record_id = "pid"
D = 3
V = 1.5
js = 3
"""


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(1)
    n = 500
    data = tmp_path / "people.csv"
    pd.DataFrame(
        {
            "pid": [f"p{i:05d}" for i in range(n)],
            "region": rng.choice(["N", "S", "E", "W"], n, p=[0.4, 0.3, 0.25, 0.05]),
            "age": rng.choice(["0-15", "16-64", "65+"], n),
        }
    ).to_csv(data, index=False)
    spec = tmp_path / "people.toml"
    spec.write_text(SPEC)
    key = tmp_path / "ck.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    return spec, data, key


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["table", "protect", *args], env=env or {SECRET_ENV: ""})


def test_cellkey_without_key_material_is_refused_and_writes_nothing(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    spec, data, _ = case
    out = tmp_path / "out"
    res = run(str(spec), "--data", str(data), "--out", str(out), "--method", "cellkey")
    assert res.exit_code != 0
    assert "never published when the key material is missing" in res.output
    assert not out.exists()


def test_cellkey_publishes_every_cell_perturbed(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    spec, data, key = case
    out = tmp_path / "out"
    res = run(
        str(spec),
        "--data",
        str(data),
        "--out",
        str(out),
        "--method",
        "cellkey",
        "--key-file",
        str(key),
        "--json",
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)["tables"][0]
    assert summary["method"] == "cellkey"
    table = (out / "table.csv").read_text()
    assert "[c]" not in table and "may not equal the sum of their parts" in table
    cells = pd.read_csv(out / "cells.csv", dtype={"region": str, "age": str})
    assert "published" in cells.columns and (cells["status"] == "safe").all()
    published = cells["published"]
    assert not ((published > 0) & (published < 3)).any()
    report = json.loads((out / "report.json").read_text())
    assert report["protection"]["ptable"]["check"]["passed"]
    assert report["protection"]["keys"]["fingerprint"]
    assert key.read_bytes().hex() not in (out / "report.json").read_text()


def test_rounding_and_compare_write_the_loss_of_every_method(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    spec, data, key = case
    out = tmp_path / "out"
    res = run(
        str(spec),
        "--data",
        str(data),
        "--out",
        str(out),
        "--method",
        "controlled-rounding",
        "--key-file",
        str(key),
        "--compare",
    )
    assert res.exit_code == 0, res.output
    for name in ("comparison.json", "comparison.csv", "comparison.svg", "comparison.png"):
        assert (out / name).stat().st_size > 0
    comparison = json.loads((out / "comparison.json").read_text())
    methods = {m["method"]: m for m in comparison["methods"]}
    assert set(methods) == {"suppression", "cellkey", "random-rounding", "controlled-rounding"}
    assert all(m["ran"] for m in methods.values())
    assert methods["cellkey"]["hidden"] == 0.0
    assert "compare cellkey" in res.output
    cells = pd.read_csv(out / "cells.csv")
    shown = cells["status"] == "safe"
    assert (cells.loc[shown, "published"] % 5 == 0).all()
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_linked_tables_with_controlled_rounding_or_mixed_methods_are_refused(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    spec, data, key = case
    other = tmp_path / "other.toml"
    other.write_text(
        SPEC.replace('name = "people"', 'name = "people2"').replace('"age"', '"region2"')
    )
    res = run(str(spec), str(other), "--data", str(data), "--method", "controlled-rounding")
    assert res.exit_code != 0 and "controlled rounding" in res.output
    res = run(
        str(spec), str(other), "--data", str(data), "--method", "random-rounding",
        "--key-file", str(key), "--out", str(tmp_path / "rr"),
    )  # fmt: skip
    assert res.exit_code != 0 and "random rounding cannot keep" in res.output
    assert "cell key method" in res.output and not (tmp_path / "rr").exists()
    # the cell key method stays allowed for linked tables (key-consistent, nothing hidden)
    regions = tmp_path / "regions.toml"
    regions.write_text(
        SPEC.replace('name = "people"', 'name = "regions"').replace(
            '[[dimension]]\nname = "age"\n', ""
        )
    )
    res = run(
        str(spec), str(regions), "--data", str(data), "--method", "random-rounding",
        "--key-file", str(key), "--out", str(tmp_path / "rr"),
    )  # fmt: skip
    assert res.exit_code != 0 and "random rounding cannot keep" in res.output
    res = run(
        str(spec), str(regions), "--data", str(data), "--method", "cellkey",
        "--key-file", str(key), "--out", str(tmp_path / "ck"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    mixed = tmp_path / "mixed.toml"
    mixed.write_text(SPEC.replace('name = "people"', 'name = "p3"\nprotection = "cellkey"'))
    res = run(str(spec), str(mixed), "--data", str(data), "--key-file", str(key))
    assert res.exit_code != 0 and "different methods" in res.output


def test_a_key_file_is_refused_with_a_dataset(case: tuple[Path, Path, Path]) -> None:
    spec, _, key = case
    res = run(str(spec), "--dataset", "a/b", "--key-file", str(key))
    assert res.exit_code != 0
    assert "--key-file" in res.output and "refused with --dataset" in res.output
    res = run(str(spec), "--dataset", "a/b", "--compare")
    assert res.exit_code != 0 and "refused with --dataset" in res.output


def test_method_suppression_overrides_linked_specs_that_ask_for_cellkey(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, data, _ = case
    one = tmp_path / "one.toml"
    one.write_text(SPEC.replace('name = "people"', 'name = "one"\nprotection = "cellkey"'))
    two = tmp_path / "two.toml"
    two.write_text(
        SPEC.replace('name = "people"', 'name = "two"\nprotection = "cellkey"').replace(
            'name = "age"', 'name = "sex"'
        )
    )
    frame = pd.read_csv(data).assign(sex=lambda d: np.where(d.index % 2, "f", "m"))
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    # no key material anywhere: suppression must not need (nor use) any
    res = run(str(one), str(two), "--data", str(data), "--out", str(out), "--method", "suppression")
    assert res.exit_code == 0, res.output
    for name in ("one", "two"):
        report = json.loads((out / name / "report.json").read_text())
        assert "protection" not in report  # suppressed, not perturbed
        assert report["suppression"]["linked_with"] == ["one", "two"]
        assert "published" not in pd.read_csv(out / name / "cells.csv").columns


def test_a_stored_perturbed_table_is_described_as_changed_not_hidden() -> None:
    from fivesafes.cli.table import render_stored

    summary = {
        "table": "t", "cells": 6, "rows": 29, "source": "ashe:count",
        "by_status": {"safe": 6, "primary": 0, "secondary": 0}, "by_rule": {"threshold": 2},
        "secondary": "cellkey", "audit": "every cell published perturbed (cell key method)",
        "output": "earnings/t", "object_id": "x", "notes": [], "with_releases": True,
        "published_releases": [],
    }  # fmt: skip
    text = render_stored(summary)
    assert "protection: cellkey (values changed, not hidden)" in text
    assert "threshold 2" in text and "hidden: 0" in text
    assert "primary: 0" not in text  # the flagged cells are not called primary suppressions
