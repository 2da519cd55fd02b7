"""Benchmark of the tables refused for a crossing insider (issue 15, section 1), end to end.

Two seeded synthetic business surveys, protected with the default ``singleton = true``
through the library's pipeline (`fivesafes.sdc.tables`: tabulation, rules, `auto`
secondary suppression, the independent audit with its singleton check):

* ``3d``: region (countries, English regions) x industry (sections, divisions of
  uneven size) x employment size band, about 2,000 cells; enterprises trade in one
  industry and size band and have local units in one to three regions;
* ``2d``: region x industry (two levels each), about 4,500 cells; threshold 4 (a cell
  of 1..3 enterprises is sensitive) and dominance (2, 85), about 20% primary cells.

Baseline, in the same run: the insider rule before the fix (only a single-contributor
cell *nested* with the primary counts as the primary's own contributor; a crossing one
is an outside attacker), obtained by hiding the records from the rule. It refused both.

    .venv/bin/python bench/bench_crossing.py            # both tables
    .venv/bin/python bench/bench_crossing.py --only 3d
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pandas as pd

from fivesafes.errors import InfeasibleProtectionError
from fivesafes.sdc import contributors
from fivesafes.sdc.pipeline import tables

# region: 4 countries, England split in 9 regions (14 codes)
REGIONS = {"ENG": [f"E{i}" for i in range(1, 10)], "WAL": [], "SCO": [], "NI": []}


def _industries(sections: int, rng: np.random.Generator, low: int, high: int) -> dict[str, list]:
    return {
        chr(ord("A") + s): [f"{chr(ord('A') + s)}{d:02d}" for d in range(rng.integers(low, high))]
        for s in range(sections)
    }


def _write_hierarchy(path: Path, tree: dict[str, list[str]]) -> list[str]:
    """code,parent CSV under root T; returns the leaves (codes without children)."""
    pairs, leaves = [("T", "")], []
    for parent, kids in tree.items():
        pairs.append((parent, "T"))
        pairs += [(k, parent) for k in kids]
        leaves += kids or [parent]
    pd.DataFrame(pairs, columns=["code", "parent"]).to_csv(path, index=False)
    return leaves


def survey(folder: Path, name: str, seed: int) -> tuple[Path, pd.DataFrame]:
    """The data and spec of one case (see the module docstring)."""
    rng = np.random.default_rng(seed)
    if name == "3d":
        regions = REGIONS
        industries = _industries(5, rng, 2, 6)
        n_ent, rules = 2_400, "threshold = 3\ndominance = [[1, 50], [2, 85]]\np_percent = 10\n"
        sizes: dict[str, list[str]] | None = {b: [] for b in ("S0", "S1", "S2", "S3", "S4")}
    else:
        regions = {f"R{r}": [f"R{r}.{i}" for i in range(10)] for r in range(6)}
        industries = _industries(6, rng, 3, 16)  # uneven sections: sparse crossings
        n_ent, rules = 50_000, "threshold = 4\ndominance = [[2, 85]]\n"
        sizes = None
    region_leaves = _write_hierarchy(folder / "region.csv", regions)
    industry_leaves = _write_hierarchy(folder / "industry.csv", industries)
    dims = ["region", "industry"]
    ent = pd.DataFrame({"enterprise_id": [f"E{i:05d}" for i in range(n_ent)]})
    # skewed: a few industries and regions hold most enterprises, many cells are sparse
    ent["industry"] = rng.choice(
        industry_leaves,
        size=n_ent,
        p=rng.dirichlet(np.full(len(industry_leaves), 0.8)),
    )
    size_of = rng.lognormal(3.0, 1.6, size=n_ent)
    if sizes is not None:
        _write_hierarchy(folder / "size.csv", sizes)
        dims.append("size")
        ent["size"] = np.array(list(sizes))[np.digitize(size_of, [10, 50, 250, 1000])]
    region_p = rng.dirichlet(np.full(len(region_leaves), 1.5))
    rows = []
    for units in (1, 2, 3):
        share = {1: 0.8, 2: 0.15, 3: 0.05}[units]
        pick = ent.sample(frac=share, random_state=seed + units)
        for _ in range(units):
            part = pick.copy()
            part["region"] = rng.choice(region_leaves, size=len(part), p=region_p)
            part["turnover"] = np.round(size_of[part.index] * rng.uniform(50, 150, len(part)), 2)
            rows.append(part)
    data = pd.concat(rows, ignore_index=True)
    spec = folder / f"{name}.toml"
    dim_text = "".join(f'[[dimension]]\nname = "{d}"\nhierarchy = "{d}.csv"\n' for d in dims)
    spec.write_text(
        f'[table]\nname = "crossing_{name}"\nresponse = "turnover"\n'
        f'contributor = "enterprise_id"\n{dim_text}[rules]\n{rules}'
        '[suppression]\nmethod = "auto"\nsingleton = true\n'
    )
    return spec, data


@contextmanager
def nesting_only() -> Iterator[None]:
    """The rule before the fix: records unknown, so only nested cells share contributors."""
    original = contributors.InsiderRule.of.__func__  # type: ignore[attr-defined]

    def of(cls: type, structure: object, records: object = None) -> object:
        return original(cls, structure, None)

    with patch.object(contributors.InsiderRule, "of", classmethod(of)):
        yield


def run(spec: Path, data: pd.DataFrame) -> str:
    """Protect one table; one line of figures (or the refusal)."""
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        result = tables(spec, data)
    except InfeasibleProtectionError as exc:
        return f"refused after {time.perf_counter() - t0:.1f} s: {exc.message[:160]}"
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rep = result.report
    counts = result.status_counts
    t = rep["timings"]
    audit = rep.get("audit", {})
    return (
        f"{len(result.cells):,} cells, {counts.get('primary', 0):,} primary, "
        f"{counts.get('secondary', 0):,} secondary; {wall:.1f} s wall ({cpu:.1f} s CPU; "
        f"secondary {t.get('secondary', 0):.1f} s, audit {t.get('audit', 0):.1f} s), load "
        f"{load:.1f}; method {rep['secondary'].get('method')}; audit "
        f"{'safe' if audit.get('safe') else 'NOT SAFE'} ({audit.get('lp_count', 0):,} LPs, "
        f"singleton check {'on' if audit.get('singleton') else 'off'})"
    )


def main() -> None:
    """Run each case with the rule as fixed, then the old rule as the baseline."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="3d,2d", help="comma-separated: 3d, 2d")
    ap.add_argument("--quick", action="store_true", help="accepted for run_all: 3d only")
    ap.add_argument("--no-baseline", action="store_true", help="skip the old rule")
    args = ap.parse_args()
    cases = ["3d"] if args.quick else args.only.split(",")
    for name in cases:
        with tempfile.TemporaryDirectory() as tmp:
            spec, data = survey(Path(tmp), name, seed=15)
            print(f"== {name}: {len(data):,} rows", flush=True)
            print(f"  fixed rule: {run(spec, data)}", flush=True)
            if not args.no_baseline:
                with nesting_only():
                    print(f"  baseline (nested cells only): {run(spec, data)}", flush=True)


if __name__ == "__main__":
    main()
