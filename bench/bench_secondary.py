"""Benchmark of secondary suppression: information loss and time per method and table size.

Tables come from seeded synthetic business microdata: every leaf cell gets a random
number of enterprises (some none: structural zeros) with heavy-tailed (lognormal)
turnover; totals add up contributors, so ``top1``/``top2`` of a total are the largest
of its parts'. Primary cells: threshold (fewer than 3 enterprises) and p% (p = 10),
with the standard protection levels. Sizes (as in issue 4): 2 dimensions ~450 cells,
3 dimensions ~15,000 cells, 4 dimensions ~150,000 cells, all hierarchical.

Baseline in the same run: the audit `table protect` ends with
(:func:`fivesafes.sdc.audit.audit_table`, singleton check on, exact intervals up to
20,000 cells and the "check" mode above), whose time each method is compared with.

    .venv/bin/python bench/bench_secondary.py            # all sizes (minutes)
    .venv/bin/python bench/bench_secondary.py --quick    # small sizes only (seconds)
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.pipeline import EXACT_AUDIT_MAX_CELLS
from fivesafes.sdc.secondary import protect_secondary
from fivesafes.sdc.secondary.optimal import lower_bound
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.spec import SuppressionSpec
from fivesafes.sdc.synthetic import balanced_tree as tree

SIZES: dict[str, list[list[int]]] = {
    "2d-450": [[3, 4], [4, 6]],  # 16 x 29 = 464 cells
    "3d-15k": [[4, 6], [4, 6], [3, 5]],  # 29 x 29 x 19 = 15,979 cells
    "4d-150k": [[4, 6], [3, 5], [3, 4], [4, 3]],  # 29 x 19 x 16 x 17 = 149,872 cells
}
QUICK: dict[str, list[list[int]]] = {
    "2d-450": SIZES["2d-450"],
    "3d-2k": [[3, 3], [2, 3], [2, 3]],  # 13 x 9 x 9 = 1,053 cells
}


def synthetic_cells(
    fans: Sequence[Sequence[int]], seed: int, *, mean: float = 6.0
) -> tuple[pd.DataFrame, list[Hierarchy]]:
    """A full cells table with primaries from the threshold and p% rules.

    ``mean``: enterprises per leaf cell on average (Poisson); fewer gives more primaries.
    """
    rng = np.random.default_rng(seed)
    hs = [tree(chr(ord("r") + d), f) for d, f in enumerate(fans)]
    leaf_shape = tuple(len(h.leaves) for h in hs)
    n_leaf = int(np.prod(leaf_shape))
    k = rng.poisson(mean, size=n_leaf) * (rng.random(n_leaf) > 0.05)
    total = np.zeros(n_leaf)
    top1 = np.zeros(n_leaf)
    top2 = np.zeros(n_leaf)
    owners = np.repeat(np.arange(n_leaf), k)
    values = np.round(rng.lognormal(5.0, 1.6, size=owners.size)) + 1
    np.add.at(total, owners, values)
    order = np.lexsort((-values, owners))
    v_sorted, o_sorted = values[order], owners[order]
    first = np.r_[True, o_sorted[1:] != o_sorted[:-1]]
    top1[o_sorted[first]] = v_sorted[first]
    second = np.r_[False, (o_sorted[1:] == o_sorted[:-1]) & first[:-1]]
    top2[o_sorted[second]] = v_sorted[second]
    arrays = {"value": total, "contributors": k.astype(float), "top1": top1, "top2": top2}
    full = {name: a.reshape(leaf_shape) for name, a in arrays.items()}
    for d, h in enumerate(hs):
        full = {name: _expand(a, h, d, name) for name, a in full.items()}
        # top2 of a total: second largest among its parts' top1 and top2
    names = [h.name for h in hs]
    grids = np.meshgrid(*[np.arange(len(h.order)) for h in hs], indexing="ij")
    df = pd.DataFrame(
        {
            h.name: np.asarray(h.order, dtype=object)[g.ravel()]
            for h, g in zip(hs, grids, strict=True)
        }
    )
    for name in ("value", "contributors", "top1", "top2"):
        df[name] = full[name].ravel()
    df["records"] = df["contributors"].astype(int)
    df["contributors"] = df["contributors"].astype(int)
    t, x1, x2 = df["value"], df["top1"], df["top2"]
    threshold = (df["contributors"] > 0) & (df["contributors"] < 3)
    ppct = (t > 0) & (t - x1 - x2 < 0.10 * x1)
    req = np.maximum(
        np.where(ppct, 0.10 * x1 - (t - x1 - x2), 0.0), np.where(threshold, 0.10 * t, 0.0)
    )
    primary = threshold | ppct
    df["status"] = np.where(primary, "primary", "safe")
    df["rule"] = np.where(primary, "p%/threshold", "")
    df["lower_protection"] = np.where(primary, np.minimum(req, t), 0.0)
    df["upper_protection"] = np.where(primary, req, 0.0)
    return df[
        [
            *names,
            "records",
            "contributors",
            "value",
            "status",
            "rule",
            "lower_protection",
            "upper_protection",
            "top1",
            "top2",
        ]
    ], hs


def _expand(a: np.ndarray, h: Hierarchy, axis: int, name: str) -> np.ndarray:
    """From leaf positions along ``axis`` to every code of ``h`` (display order)."""
    leaf_pos = {c: i for i, c in enumerate(h.leaves)}
    out: dict[str, np.ndarray] = {}
    for code in reversed(h.order):  # children before parents
        kids = h.children[code]
        if not kids:
            out[code] = np.take(a, leaf_pos[code], axis=axis)
            continue
        parts = np.stack([out[c] for c in kids])
        if name in ("value", "contributors"):
            out[code] = parts.sum(axis=0)
        elif name == "top1":
            out[code] = parts.max(axis=0)
        else:  # top2: the second largest contributor over the parts (approximated by parts' top1)
            srt = np.sort(parts, axis=0)
            out[code] = srt[-2] if parts.shape[0] > 1 else parts[0]
    return np.stack([out[c] for c in h.order], axis=axis)


def run(
    name: str,
    fans: Sequence[Sequence[int]],
    methods: Sequence[str],
    time_limit: float,
    seed: int = 7,
    bound: bool = True,
) -> list[dict[str, object]]:
    """Protect one synthetic table with each method; audit each result."""
    df, hs = synthetic_cells(fans, seed)
    n_primary = int((df["status"] == "primary").sum())
    print(
        f"\n== {name}: {len(df):,} cells, {n_primary:,} primary "
        f"({n_primary / len(df):.1%}), dims {[len(h.order) for h in hs]}"
    )
    rows = []
    for method in methods:
        spec = SuppressionSpec(method=method, time_limit=time_limit)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        res = protect_secondary(df, hs, spec)
        seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        try:
            # the audit `table protect` ends with: singleton check on (as the spec's
            # default), exact intervals up to EXACT_AUDIT_MAX_CELLS, "check" above
            audit_safe: object = audit_table(
                res.cells,
                hs,
                singleton=spec.singleton,
                intervals="exact" if len(df) <= EXACT_AUDIT_MAX_CELLS else "check",
                witnesses=res.witnesses,  # verified by the audit, as in `table protect`
            ).safe
        except Exception as exc:  # the audit is another module: report, do not lose the run
            audit_safe = f"audit error: {type(exc).__name__}"
        audit_seconds = time.perf_counter() - t1
        loss = res.information_loss
        gap, lb, lb_seconds = res.gap, res.bound, 0.0
        if lb is None and bound:
            # a method without a bound of its own (`fast`): the relation-cut LP's
            t2 = time.perf_counter()
            problem = build_problem(df, build_structure(df, hs), spec, frequency=False)
            lb = lower_bound(problem, 900.0)
            lb_seconds = time.perf_counter() - t2
            if lb is not None and res.objective > 0:
                gap = max(0.0, (res.objective - lb) / res.objective)
        row = {
            "table": name,
            "cells": len(df),
            "primary": n_primary,
            "method": res.method,
            "status": res.solver_status,
            "seconds": round(seconds, 2),
            "secondary_cells": loss["secondary"]["cells"],
            "secondary_value": round(loss["secondary"]["value"]),
            "bound": None if lb is None else round(lb),
            "gap": None if gap is None else round(gap, 4),
            "bound_seconds": round(lb_seconds, 1),
            "audit_safe": audit_safe,
            "audit_seconds": round(audit_seconds, 2),
            "x_audit": round(seconds / max(audit_seconds, 1e-9), 1),
        }
        rows.append(row)
        print(
            "  "
            + "  ".join(
                f"{k}={v}" for k, v in row.items() if k not in ("table", "cells", "primary")
            )
        )
    return rows


def main() -> None:
    """Run the benchmark and print a Markdown table for bench/RESULTS.md."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small tables only (seconds)")
    ap.add_argument("--only", help="run only this size (e.g. 3d-15k)")
    ap.add_argument("--methods", help="comma-separated methods to run (default: the plan's)")
    ap.add_argument(
        "--no-bound",
        action="store_true",
        help="skip the relation-cut LP bound for methods without one (142 s on 4d-150k)",
    )
    args = ap.parse_args()
    sizes = QUICK if args.quick else SIZES
    plan = {
        "2d-450": (["optimal", "modular", "fast"], 2.0),
        "3d-2k": (["optimal", "modular", "fast"], 10.0),
        "3d-15k": (["optimal", "modular", "fast"], 55.0),  # the limit covers the whole method
        "4d-150k": (["fast"], 280.0),
    }
    rows: list[dict[str, object]] = []
    for name, fans in sizes.items():
        if args.only and name != args.only:
            continue
        methods, limit = plan[name]
        if args.methods:
            methods = args.methods.split(",")
        rows += run(name, fans, methods, limit, bound=not args.no_bound)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (max RSS): {peak:,.0f} MB")
    cols = list(rows[0]) if rows else []
    print("\n| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()
