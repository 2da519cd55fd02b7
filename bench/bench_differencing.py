"""Differencing check against a register of published cells from many releases.

Issue target: the check of a new output against a register of 1 million published
cells from 100 releases finishes in under 30 seconds. The baseline, measured in
the same run, is the time to merely read the register into the check's working
form (building every published cell's set of atoms): the ratio says how much the
attacker's linear programs add on top of handling the cells at all.

    .venv/bin/python bench/bench_differencing.py            # 100 releases, ~1.2M cells
    .venv/bin/python bench/bench_differencing.py --quick    # 10 releases
"""

from __future__ import annotations

import argparse
import itertools
import resource
import time

import numpy as np
import pandas as pd

from fivesafes.sdc.differencing import OutputTable, check_differencing
from fivesafes.sdc.hierarchy import Hierarchy


def tree(name: str, groups: list[list[str]]) -> Hierarchy:
    """Total > groups > leaves."""
    pairs: list[tuple[str, str | None]] = [("T", None)]
    for gi, leaves in enumerate(groups):
        g = f"{name[0].upper()}{gi}"
        pairs.append((g, "T"))
        pairs.extend((leaf, g) for leaf in leaves)
    return Hierarchy.from_pairs(name, pairs)


def hierarchies() -> dict[str, list[Hierarchy]]:
    regions = [f"r{i:02d}" for i in range(12)]
    industries = [f"{i:02d}" for i in range(1, 21)]
    products = [f"p{i}" for i in range(10)]
    return {
        "region": [
            tree("region", [regions[0:3], regions[3:6], regions[6:9], regions[9:12]]),
            # another grouping of the same codes, differing by a few areas
            tree("region", [regions[0:4], regions[4:7], regions[7:12]]),
        ],
        "industry": [
            tree("industry", [industries[i : i + 4] for i in range(0, 20, 4)]),
            tree("industry", [industries[i : i + 5] for i in range(0, 20, 5)]),
        ],
        "size": [Hierarchy.flat("size", ["small", "large"], total="T")],
        "product": [tree("product", [products[0:3], products[3:6], products[6:10]])],
    }


def aggregation(h: Hierarchy, leaves: list[str]) -> np.ndarray:
    """codes x leaves 0/1 matrix: which leaves make each code."""
    pos = {leaf: i for i, leaf in enumerate(leaves)}
    m = np.zeros((len(h.order), len(leaves)))
    for r, code in enumerate(h.order):
        m[r, [pos[x] for x in h.leaves_under(code)]] = 1
    return m


def make_table(label: str, hs: list[Hierarchy], leaf: np.ndarray, leaves: dict, rng) -> OutputTable:
    """Every cell of the table from the leaf tensor, with a hypercube pattern around small cells."""
    all_dims = ["region", "industry", "size", "product"]
    names = [h.name for h in hs]
    # sum out the dimensions the table does not have
    axes = tuple(i for i, d in enumerate(all_dims) if d not in names)
    data = leaf.sum(axis=axes) if axes else leaf
    for i, h in enumerate(hs):
        data = np.moveaxis(
            np.tensordot(aggregation(h, leaves[h.name]), data, axes=([1], [i])), 0, i
        )
    grids = np.meshgrid(*[np.arange(len(h.order)) for h in hs], indexing="ij")
    cells = pd.DataFrame(
        {h.name: np.array(h.order, dtype=object)[g.ravel()] for h, g in zip(hs, grids, strict=True)}
    )
    cells["value"] = data.ravel()
    status = np.full(len(cells), "safe", dtype=object)
    # primaries: small leaf cells; each protected by a hypercube of sibling leaves
    is_leaf = np.logical_and.reduce([cells[h.name].isin(h.leaves).to_numpy() for h in hs])
    small = is_leaf & (cells["value"].to_numpy() < np.quantile(cells["value"][is_leaf], 0.02))
    index = {tuple(r): i for i, r in enumerate(cells[names].itertuples(index=False))}
    for i in np.flatnonzero(small):
        codes = cells.loc[i, names].tolist()
        partners = []
        for h, c in zip(hs, codes, strict=True):
            sib = [s for s in h.children[h.parent[c]] if s != c]
            partners.append([c, sib[0]])  # the same partner in every release
        for combo in itertools.product(*partners):
            j = index[combo]
            if status[j] == "safe":
                status[j] = "secondary"
        status[i] = "primary"
    cells["status"] = status
    value = cells["value"].to_numpy()
    cells["lower_protection"] = np.where(status == "primary", 0.1 * value, 0.0)
    cells["upper_protection"] = np.where(status == "primary", 0.1 * value, 0.0)
    return OutputTable(label, tuple(hs), cells)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--releases", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="10 releases, a smoke run")
    ap.add_argument("--seed", type=int, default=20261126)
    args = ap.parse_args()
    n_releases = 10 if args.quick else args.releases
    rng = np.random.default_rng(args.seed)
    hs = hierarchies()
    leaves = {d: list(v[0].leaves) for d, v in hs.items()}
    leaves["region"] = sorted(leaves["region"])
    leaf = rng.lognormal(8, 1.5, size=tuple(len(leaves[d]) for d in hs))
    started = time.perf_counter()
    tables = []
    for r in range(n_releases):
        layout = [
            hs["region"][r % 2],
            hs["industry"][(r // 2) % 2],
            *([hs["size"][0]] if r % 3 else []),
            hs["product"][0],
        ]
        tables.append(make_table(f"release-{r:03d}", layout, leaf, leaves, rng))
    gen = time.perf_counter() - started
    n_cells = sum(len(t.cells) for t in tables)
    earlier, new = tables[:-1], tables[-1]

    # baseline: the register read into the check's working form, no LPs
    t0 = time.perf_counter()
    published_only = [
        OutputTable(t.label, t.hierarchies, t.cells.assign(status="safe")) for t in earlier
    ]
    check_differencing(
        OutputTable(new.label, new.hierarchies, new.cells.assign(status="safe")), published_only
    )
    baseline = time.perf_counter() - t0

    t1 = time.perf_counter()
    result = check_differencing(new, earlier)
    full = time.perf_counter() - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"releases: {n_releases}, register cells: {n_cells:,} (generated in {gen:.1f} s)")
    print(
        f"hidden cells: {result.hidden_cells:,} ({result.checked_cells:,} distinct), "
        f"atoms: {result.atoms:,}, LPs solved: {result.lp_count:,}"
    )
    print(
        f"differencing check: {full:.2f} s  (build {result.timings['build']:.2f} s, "
        f"solve {result.timings['solve']:.2f} s)"
    )
    print(f"baseline (register into atoms, no LPs): {baseline:.2f} s; ratio {full / baseline:.2f}x")
    print(
        f"cells per second: {n_cells / full:,.0f}; peak memory {peak_mb:,.0f} MB; "
        f"safe: {result.safe}, disclosures: {len(result.disclosures)}"
    )
    print(
        "target: under 30 s for 1 million cells from 100 releases -> "
        + ("met" if full < 30 else "NOT met")
    )


if __name__ == "__main__":
    main()
