"""Benchmark of the table audit (issue 4): batched, warm-started LPs against solving from scratch.

Tables are built from seeded synthetic hierarchical business data (random hierarchies,
log-normal leaf turnover, every subtotal). A realistic pattern is hidden: a share of
primary cells (the smaller cells are likelier to be primary) with 10% required
protection, plus as many secondary cells chosen at random.

The baseline is the same audit done naively: one fresh HiGHS model per LP over the
whole hidden system (published cells fixed), no propagation, no split into
components, no warm start, no skipped LPs. On large tables it is run on a random
sample of the LPs and extrapolated (said so in the output).

    .venv/bin/python bench/bench_audit.py            # 450, 15,000 and 150,000 cells
    .venv/bin/python bench/bench_audit.py --quick    # small sizes, a smoke run
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.highs import new_highs
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.synthetic import aggregate, balanced_tree


def synthetic_table(
    fans: list[list[int]], seed: int, primary_share: float
) -> tuple[list[Hierarchy], pd.DataFrame]:
    """A full cells table with a random, non-trivial hidden pattern."""
    rng = np.random.default_rng(seed)
    hs = [balanced_tree(f"d{d}", f, width=2) for d, f in enumerate(fans)]
    shape = [len(h.leaves) for h in hs]
    leaf = np.round(rng.lognormal(6.0, 1.5, size=shape), 1)
    leaf[rng.random(shape) < 0.1] = 0.0  # empty cells
    values = aggregate(leaf, hs).ravel()
    n = values.size
    grid = pd.MultiIndex.from_product([h.order for h in hs], names=[h.name for h in hs])
    cells = grid.to_frame(index=False)
    cells["value"] = values
    # smaller non-empty cells are likelier to be primary
    weight = np.where(values > 0, 1.0 / np.sqrt(values + 1.0), 0.0)
    k = int(primary_share * n)
    primary = rng.choice(n, size=k, replace=False, p=weight / weight.sum())
    status = np.full(n, "safe", dtype=object)
    # secondary: for each primary, the other corners of a box through a sibling code in every
    # dimension where the primary is not at the total (what a protected table looks like:
    # with all margins published, a box moves along one alternating direction), then half
    # as many again at random
    sizes = [len(h.order) for h in hs]
    ids = np.array(np.unravel_index(primary, sizes)).T
    sibling = [_sibling_table(h) for h in hs]
    corners = []
    for row in ids:
        dims = [d for d in range(len(hs)) if sibling[d][row[d]] >= 0]
        for flips in itertools.product((0, 1), repeat=len(dims)):
            other = row.copy()
            for d, f in zip(dims, flips, strict=True):
                if f:
                    other[d] = sibling[d][row[d]]
            corners.append(np.ravel_multi_index(tuple(other), sizes))
    secondary = np.setdiff1d(np.array(corners, dtype=np.int64), primary)
    rest = np.setdiff1d(np.arange(n), np.concatenate([primary, secondary]))
    extra = rng.choice(rest, size=min(k // 2, rest.size), replace=False)
    status[secondary] = "secondary"
    status[extra] = "secondary"
    status[primary] = "primary"
    cells["status"] = status
    prot = np.where(status == "primary", 0.1 * values, 0.0)
    cells["lower_protection"] = prot
    cells["upper_protection"] = prot
    cells["contributors"] = 5
    return hs, cells


def _sibling_table(h: Hierarchy) -> np.ndarray:
    """For each code (by display position), a random-free sibling: the next one under its parent."""
    pos = {c: i for i, c in enumerate(h.order)}
    out = np.full(len(h.order), -1, dtype=np.int64)
    for parent, kids in h.relations():
        del parent
        for i, c in enumerate(kids):
            if len(kids) > 1:
                out[pos[c]] = pos[kids[(i + 1) % len(kids)]]
    return out


@dataclass
class Baseline:
    lps: int
    seconds: float
    estimated_total: float
    max_abs_diff: float


def naive_baseline(
    hs: list[Hierarchy],
    cells: pd.DataFrame,
    sample: int | None,
    seed: int,
    audit_lo: np.ndarray,
    audit_hi: np.ndarray,
) -> Baseline:
    """Fresh HiGHS model per LP over the whole hidden system (no reduction beyond fixing)."""
    s = build_structure(cells, hs)
    v = cells["value"].to_numpy(dtype=float)
    hidden = (cells["status"] != "safe").to_numpy()
    cols = np.flatnonzero(hidden)
    a = s.relations
    rows = np.flatnonzero(np.asarray(abs(a)[:, cols].sum(axis=1)).ravel() > 0)
    sub = sp.csc_matrix(a[rows][:, cols])
    rhs = -(a[rows] @ np.where(hidden, 0.0, v))
    lps = [(j, m) for j in range(cols.size) for m in (False, True)]
    rng = np.random.default_rng(seed)
    if sample is not None and sample < len(lps):
        picked = rng.choice(len(lps), size=sample, replace=False)
        lps = [lps[i] for i in picked]
    inf = highspy.kHighsInf
    t0 = time.perf_counter()
    diff = 0.0
    for j, maximize in lps:
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = cols.size, rows.size
        cost = np.zeros(cols.size)
        cost[j] = -1.0 if maximize else 1.0
        lp.col_cost_ = cost
        lp.col_lower_ = np.zeros(cols.size)
        lp.col_upper_ = np.full(cols.size, inf)
        lp.row_lower_ = rhs
        lp.row_upper_ = rhs
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = sub.indptr.astype(np.int32)
        lp.a_matrix_.index_ = sub.indices.astype(np.int32)
        lp.a_matrix_.value_ = sub.data
        h = new_highs()
        h.passModel(lp)
        h.run()
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            got = h.getInfo().objective_function_value * (-1 if maximize else 1)
            ref = (audit_hi if maximize else audit_lo)[cols[j]]
            diff = max(diff, abs(got - ref))
    seconds = time.perf_counter() - t0
    total = 2 * cols.size
    return Baseline(len(lps), seconds, seconds / max(1, len(lps)) * total, diff)


def run(
    label: str, fans: list[list[int]], seed: int, sample: int | None, share: float
) -> dict[str, object]:
    """Audit one synthetic table, then the naive baseline on (a sample of) the same LPs."""
    hs, cells = synthetic_table(fans, seed, primary_share=share)
    t0 = time.perf_counter()
    result = audit_table(cells, hs)
    seconds = time.perf_counter() - t0
    iv = result.intervals
    s = build_structure(cells, hs)
    index = {tuple(r): i for i, r in enumerate(cells[[h.name for h in hs]].itertuples(index=False))}
    lo = np.full(len(cells), np.nan)
    hi = np.full(len(cells), np.nan)
    for r, a_min, a_max in zip(
        iv[[h.name for h in hs]].itertuples(index=False),
        iv["attacker_min"],
        iv["attacker_max"],
        strict=True,
    ):
        i = index[tuple(r)]
        lo[i], hi[i] = a_min, a_max
    t1 = time.perf_counter()
    check = audit_table(cells, hs, intervals="check")
    check_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    prim = audit_table(cells, hs, intervals="primary")
    primary_s = time.perf_counter() - t2
    # the same verdict, by construction
    assert len(check.failures) == len(result.failures) == len(prim.failures)
    hidden = int((cells["status"] != "safe").sum())
    full_lps = 2 * hidden
    base = naive_baseline(hs, cells, sample, seed, lo, hi)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {
        "table": label,
        "cells": len(cells),
        "relations": s.n_relations,
        "hidden": hidden,
        "failures": len(result.failures),
        "components": result.details["components"],
        "largest": result.details["largest_component"],
        "no_lp": result.details["determined_without_lp"],
        "lps": result.lp_count,
        "skipped": result.details["skipped_at_bound"],
        "audit_s": seconds,
        "lps_per_s": result.lp_count / max(seconds, 1e-9),
        "cells_per_s": hidden / max(seconds, 1e-9),
        "primary_s": primary_s,
        "primary_lps": prim.lp_count,
        "check_s": check_s,
        "check_lps": check.lp_count,
        "baseline_lps": base.lps,
        "baseline_s": base.estimated_total,
        "baseline_sampled": base.lps < full_lps,
        "ratio": base.estimated_total / max(seconds, 1e-9),
        "max_diff": base.max_abs_diff,
        "peak_mb": peak_mb,
    }
    print(
        f"{label}: {row['cells']} cells, {hidden} hidden, {row['failures']} under-protected; "
        f"audit {seconds:.2f}s, {result.lp_count} LPs ({row['lps_per_s']:.0f}/s, "
        f"{row['skipped']} skipped at a bound, {row['no_lp']} cells without an LP, "
        f"{row['components']} components, largest {row['largest']}); "
        f"baseline {'~' if row['baseline_sampled'] else ''}{base.estimated_total:.1f}s "
        f"({base.lps} of {full_lps} LPs{' then scaled' if row['baseline_sampled'] else ''}); "
        f"speed-up x{row['ratio']:.1f}; max |diff| vs baseline {base.max_abs_diff:.2e}; "
        f"peak RSS {peak_mb:.0f} MB",
        flush=True,
    )
    print(f"  timings: {dict((k, round(v, 3)) for k, v in result.timings.items())}", flush=True)
    print(
        f"  same verdict, less work: --intervals primary {primary_s:.2f}s ({prim.lp_count} LPs), "
        f"--intervals check {check_s:.2f}s ({check.lp_count} LPs)",
        flush=True,
    )
    return row


# label: (fans per dimension, baseline LP sample or None for all, primary share)
SIZES = {
    "2-D ~450": ([[3, 4], [4, 6]], None, 0.06),
    "3-D ~15,000": ([[3, 4], [4, 5], [6, 5]], 400, 0.04),
    "4-D ~150,000": ([[3, 4], [4, 5], [6, 5], [3, 2]], 30, 0.02),
}
QUICK = {
    "2-D ~450": ([[3, 4], [4, 6]], None, 0.06),
    "3-D ~1,500": ([[2, 3], [3, 3], [3, 3]], None, 0.04),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small tables only (a smoke run)")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args(argv)
    rows = [
        run(label, fans, args.seed + i, sample, share)
        for i, (label, (fans, sample, share)) in enumerate((QUICK if args.quick else SIZES).items())
    ]
    print()
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
