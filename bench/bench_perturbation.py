"""Benchmarks of the value-changing protection methods (docs/perturbation.md).

1. Controlled rounding (base 5) of a 2-D table of about 4,500 cells and a 3-D table of
   about 16,000 cells (every subtotal, hierarchies in every dimension). Goal: under
   30 s each. Baseline in the same run: conventional rounding of every cell to the
   nearest multiple (the simple way, which breaks additivity); reported with how many
   relations it breaks. The controlled rounding's bound and gap come from HiGHS. For
   information, the protection check (attacker LPs) with cells of 1-2 as primaries.
2. The cell key method on a 1-million-record frequency table with 4 hierarchical
   dimensions and every subtotal. Goal: under 2x the tabulation alone, measured in
   the same run: baseline = ``tabulate`` of the same data without keys; cell key =
   ``tabulate`` with the stored record-key column (the extra sum per cell) plus the
   ptable lookup. Drawing the record keys (at ingest, once per dataset) is timed
   separately. Best of 3 alternating runs each, to damp the shared machine's noise.

    .venv/bin/python bench/bench_perturbation.py            # full sizes
    .venv/bin/python bench/bench_perturbation.py --quick    # small sizes, a smoke run
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import numpy as np
import pandas as pd
import pyarrow as pa

from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.perturbation.cellkey import perturb_counts
from fivesafes.sdc.perturbation.keys import record_keys
from fivesafes.sdc.perturbation.ptable_build import generate_ptable
from fivesafes.sdc.rounding.controlled import controlled_round
from fivesafes.sdc.rounding.protection import protect_rounded
from fivesafes.sdc.spec import parse_spec
from fivesafes.sdc.synthetic import aggregate, balanced_tree
from fivesafes.sdc.tabulate import tabulate

SEED = 20261203


def rounding_table(fans: list[list[int]]) -> tuple[pd.DataFrame, tuple[Hierarchy, ...]]:
    """Every cell of a table over balanced hierarchies, from skewed Poisson leaf counts."""
    rng = np.random.default_rng(SEED)
    hs = tuple(balanced_tree(n, f) for n, f in zip("abc", fans, strict=False))
    shape = [len(h.leaves) for h in hs]
    leaf = rng.poisson(rng.choice([0.4, 2.0, 8.0, 40.0], size=shape, p=[0.3, 0.3, 0.3, 0.1]))
    values = aggregate(leaf, hs).reshape(-1)
    cols = list("abc"[: len(hs)])
    frame = pd.DataFrame(list(itertools.product(*(h.order for h in hs))), columns=cols)
    frame["value"] = values
    return frame, hs


def bench_rounding(label: str, fans: list[list[int]], time_limit: float) -> None:
    frame, hs = rounding_table(fans)
    structure = build_structure(frame, hs, dimensions=list(frame.columns[:-1]))
    x = frame["value"].to_numpy(dtype=np.float64)
    t = time.perf_counter()
    nearest = np.round(x / 5) * 5
    base_s = time.perf_counter() - t
    broken = int(np.count_nonzero(structure.relations @ nearest))
    t = time.perf_counter()
    result = controlled_round(structure, x, 5, time_limit=time_limit, gap=0.05)
    seconds = time.perf_counter() - t
    print(
        f"{label}: {len(frame):,} cells, {structure.n_relations:,} relations; "
        f"controlled rounding {seconds:.2f} s ({result.method}, additive={result.exact}, "
        f"deviation {result.deviation:,.0f}, bound {result.bound:,.0f}, gap {result.gap:.2%}); "
        f"baseline nearest rounding {base_s * 1000:.1f} ms breaks {broken:,} relations "
        f"(deviation {np.abs(nearest - x).sum():,.0f}); goal < 30 s: "
        f"{'met' if seconds < 30 else 'NOT met'}",
        flush=True,
    )
    small = (x >= 1) & (x <= 2)
    cells = frame.assign(
        status=np.where(small, "primary", "safe"),
        lower_protection=np.where(small, 1.0, 0.0),
        upper_protection=np.where(small, 1.0, 0.0),
    )
    t = time.perf_counter()

    def rounder(hidden: np.ndarray, direction: np.ndarray) -> np.ndarray:
        done = controlled_round(
            structure,
            x,
            5,
            time_limit=time_limit,
            gap=0.05,
            direction=direction,
            unpublished=hidden,
        )
        return done.rounded

    protection = protect_rounded(structure, cells, 5, rounder, frequency=True, steer=True)
    print(
        f"{label}: with the protection check ({int(small.sum()):,} primaries): "
        f"{time.perf_counter() - t:.2f} s, {protection.audit.lp_count:,} LPs, "
        f"{int(protection.hidden.sum())} suppressed, safe={protection.audit.safe}",
        flush=True,
    )


def people(rows: int) -> tuple[pa.Table, str]:
    """Person records over 4 hierarchical dimensions; the spec that counts them."""
    rng = np.random.default_rng(SEED)
    region = balanced_tree("r", [4, 3])  # 12 leaves, 3 levels
    age = balanced_tree("a", [5, 4])  # 20 leaves
    sex = Hierarchy.flat("sex", ["F", "M"])
    tenure = balanced_tree("t", [2, 3])  # 6 leaves
    hs = (region, age, sex, tenure)
    columns = {
        h.name: np.asarray(h.leaves, dtype=object)[rng.integers(0, len(h.leaves), rows)] for h in hs
    }
    table = pa.table({"pid": [f"P{i:08d}" for i in range(rows)], **columns})
    return table, " ".join(h.name for h in hs)


def bench_cellkey(rows: int) -> None:
    table, _ = people(rows)
    folder = os.path.join(os.path.dirname(__file__), "data")
    os.makedirs(folder, exist_ok=True)
    hier_files = {}
    for h in (balanced_tree("r", [4, 3]), balanced_tree("a", [5, 4]), balanced_tree("t", [2, 3])):
        path = os.path.join(folder, f"perturbation_{h.name}.csv")
        with open(path, "w") as fh:
            fh.write("code,parent\n")
            for code in h.order:
                fh.write(f"{code},{h.parent[code] or ''}\n")
        hier_files[h.name] = path
    spec = parse_spec(
        {
            "table": {"name": "people"},
            "dimension": [
                {"name": "r", "hierarchy": hier_files["r"]},
                {"name": "a", "hierarchy": hier_files["a"]},
                {"name": "sex"},
                {"name": "t", "hierarchy": hier_files["t"]},
            ],
            "perturbation": {"record_id": "pid", "D": 3, "V": 1.5, "js": 3},
        }
    )
    t = time.perf_counter()
    keys = record_keys(b"bench secret, not a real one....", table.column("pid").to_pylist())
    draw = time.perf_counter() - t
    keyed = table.append_column("rk", pa.array(keys))
    pt = generate_ptable(3, 1.5, 3)
    plain_runs, key_runs = [], []
    cells = 0
    for _ in range(3):
        t = time.perf_counter()
        tabulate(spec, table)
        plain_runs.append(time.perf_counter() - t)
        t = time.perf_counter()
        tab = tabulate(spec, keyed, record_key="rk")
        c = tab.cells
        published = perturb_counts(c["records"].to_numpy(), c["cell_key"].to_numpy(), pt)
        key_runs.append(time.perf_counter() - t)
        cells = len(c)
        assert not np.any((published > 0) & (published < 3))
    ratio = min(key_runs) / min(plain_runs)
    print(
        f"cell key, {rows:,} records, {cells:,} cells (4 dims, every subtotal): tabulation "
        f"alone {min(plain_runs):.2f} s, tabulation with cell keys + lookup "
        f"{min(key_runs):.2f} s: ratio {ratio:.2f}x (goal < 2x: "
        f"{'met' if ratio < 2 else 'NOT met'}); drawing the record keys (ingest, once) "
        f"{draw:.2f} s",
        flush=True,
    )


def main() -> None:
    """Run both benchmarks and print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    if args.quick:
        bench_rounding("2-D", [[5, 6], [4, 5]], 30)
        bench_rounding("3-D", [[3, 3], [3, 3], [8]], 30)
        bench_cellkey(100_000)
    else:
        bench_rounding("2-D", [[8, 10], [6, 8]], 60)  # 89 x 55 = 4,895 cells
        bench_rounding("3-D", [[5, 5], [5, 5], [16]], 60)  # 31 x 31 x 17 = 16,337 cells
        bench_cellkey(1_000_000)
    print(f"load average after: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
