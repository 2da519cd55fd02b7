"""Benchmark of secondary suppression against a proven lower bound (issue 15, section 2).

For each generated instance (2-D ~450 and ~4,500 cells, 3-D ~2,000 and ~16,000, 4-D
~10,000 and ~150,000; about 20% primary cells from the threshold and p% rules, as
bench/bench_secondary.py makes them) and each method: secondary cells hidden, their
cost (the spec's cost function, default the hidden value), the proven lower bound on
the least cost of any safe pattern, the gap ``(cost - bound) / cost`` against the best
bound any method proved on the instance, the time, the load average, and the verdict of
the independent audit ``table protect`` ends with (singleton check as the spec says).

Each instance is also written in sdcTable's input form (``--export DIR``, see
bench/sdctable_export.py) so that sdcTable or tau-Argus can be run on the same cells.

    .venv/bin/python bench/bench_gap.py --quick                 # 2-D 450, 3-D 2k (a minute)
    .venv/bin/python bench/bench_gap.py --only 2d-4.5k,3d-16k   # chosen instances
    .venv/bin/python bench/bench_gap.py --export /tmp/instances # also write them out
    .venv/bin/python bench/bench_gap.py --singleton false       # outside attackers only
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

from bench_secondary import synthetic_cells
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.pipeline import EXACT_AUDIT_MAX_CELLS
from fivesafes.sdc.secondary import protect_secondary
from fivesafes.sdc.secondary.optimal import lower_bound
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.spec import SuppressionSpec
from sdctable_export import export_instance


@dataclass(frozen=True)
class Instance:
    """A generated table: hierarchy fans per dimension and enterprises per leaf."""

    fans: list[list[int]]
    mean: float  # Poisson mean of enterprises per leaf (sets the share of primaries)
    methods: tuple[str, ...]


INSTANCES: dict[str, Instance] = {
    "2d-450": Instance([[3, 4], [4, 6]], 5.0, ("fast", "modular", "optimal", "auto")),
    "2d-4.5k": Instance([[6, 10], [6, 10]], 5.5, ("fast", "modular", "optimal", "auto")),
    "3d-2k": Instance([[3, 3], [3, 3], [2, 4]], 3.0, ("fast", "modular", "optimal", "auto")),
    "3d-16k": Instance([[4, 6], [4, 6], [3, 5]], 4.2, ("fast", "optimal", "auto")),
    "4d-10k": Instance([[3, 3], [2, 3], [2, 3], [3, 2]], 1.7, ("fast", "optimal", "auto")),
    "4d-150k": Instance([[4, 6], [3, 5], [3, 4], [4, 3]], 2.0, ("fast", "auto")),
}
QUICK = ("2d-450", "3d-2k")
# time for the relation-cut LP bound where no method proves one (142 s on 4d-150k)
BOUND_SECONDS = 600.0


def run(
    name: str,
    inst: Instance,
    methods: tuple[str, ...],
    limit: float,
    export: Path | None,
    singleton: bool = True,
) -> list[dict[str, object]]:
    """Protect one instance with each method; audit each result."""
    df, hs = synthetic_cells(inst.fans, 7, mean=inst.mean)
    n_primary = int((df["status"] == "primary").sum())
    print(
        f"\n== {name}: {len(df):,} cells, {n_primary:,} primary ({n_primary / len(df):.1%})",
        flush=True,
    )
    if export is not None:
        print(f"  written to {export_instance(df, hs, export / name)}", flush=True)
    rows: list[dict[str, object]] = []
    for method in methods:
        spec = SuppressionSpec(method=method, time_limit=limit, singleton=singleton)  # type: ignore[arg-type]
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        res = protect_secondary(df, hs, spec)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        t1 = time.perf_counter()
        verdict = audit_table(
            res.cells,
            hs,
            singleton=spec.singleton,
            intervals="exact" if len(df) <= EXACT_AUDIT_MAX_CELLS else "check",
            witnesses=res.witnesses,
        ).safe
        rows.append(
            {
                "table": name,
                "cells": len(df),
                "primary": n_primary,
                "method": f"{method}->{res.method}" if method == "auto" else res.method,
                "status": res.solver_status,
                "secondary": res.information_loss["secondary"]["cells"],
                "cost": res.objective,
                "bound": res.bound,
                "seconds": seconds,
                "cpu": cpu,
                "audit": "safe" if verdict else "UNSAFE",
                "audit_s": time.perf_counter() - t1,
                "load": load,
            }
        )
        print(f"  {method}: {_line(rows[-1])}", flush=True)
    if all(r["bound"] is None for r in rows):
        # no method proved a bound (4-D: `fast` only): the relation-cut LP's, for the gap
        rows.append(_relation_bound(name, df, hs, n_primary, singleton))
        print(f"  relation-cut LP bound: {_line(rows[-1])}", flush=True)
    best = max((float(r["bound"]) for r in rows if r["bound"] is not None), default=None)  # type: ignore[arg-type]
    for r in rows:
        cost = float(r["cost"])  # type: ignore[arg-type]
        r["best_bound"] = best
        bound_only = r["status"] in ("bound", "bound not finished")
        r["gap"] = (
            None if best is None or cost <= 0 or bound_only else max(0.0, (cost - best) / cost)
        )
    return rows


def _relation_bound(
    name: str, df: object, hs: object, n_primary: int, singleton: bool
) -> dict[str, object]:
    """A row with the bound of `lower_bound` (no pattern: cost 0, nothing hidden)."""
    spec = SuppressionSpec(method="fast", singleton=singleton)
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    problem = build_problem(df, build_structure(df, hs), spec, frequency=False)  # type: ignore[arg-type]
    bound = lower_bound(problem, BOUND_SECONDS)
    return {
        "table": name,
        "cells": len(df),  # type: ignore[arg-type]
        "primary": n_primary,
        "method": "relation-cut LP (bound only)",
        "status": "bound" if bound is not None else "bound not finished",
        "secondary": 0,
        "cost": 0.0,
        "bound": bound,
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "audit": "-",
        "audit_s": 0.0,
        "load": load,
    }


def _line(r: dict[str, object]) -> str:
    bound = "-" if r["bound"] is None else f"{float(r['bound']):,.0f}"  # type: ignore[arg-type]
    return (
        f"{r['status']}, {r['secondary']} secondary, cost {float(r['cost']):,.0f}, "  # type: ignore[arg-type]
        f"bound {bound}, {float(r['seconds']):.1f} s ({float(r['cpu']):.1f} s CPU), "
        f"audit {r['audit']} "  # type: ignore[arg-type]
        f"({float(r['audit_s']):.1f} s), load {float(r['load']):.1f}"  # type: ignore[arg-type]
    )


def main() -> None:
    """Run the benchmark and print a Markdown table for bench/RESULTS.md."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2-D 450 and 3-D 2k only")
    ap.add_argument("--only", help="comma-separated instances (" + ", ".join(INSTANCES) + ")")
    ap.add_argument("--methods", help="comma-separated methods (default: per instance)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="spec time_limit (s)")
    ap.add_argument("--export", type=Path, help="also write each instance for sdcTable here")
    ap.add_argument(
        "--singleton",
        default="true",
        choices=["true", "false"],
        help="protect against single contributors too (the spec's default: true)",
    )
    args = ap.parse_args()
    names = QUICK if args.quick else tuple(INSTANCES)
    if args.only:
        names = tuple(args.only.split(","))
    rows: list[dict[str, object]] = []
    for name in names:
        inst = INSTANCES[name]
        methods = tuple(args.methods.split(",")) if args.methods else inst.methods
        rows += run(name, inst, methods, args.time_limit, args.export, args.singleton == "true")
    print(
        "\n| table | cells | primary | method | status | secondary cells | cost | "
        "proven bound | gap to best bound | seconds | CPU s | audit | load |"
    )
    print("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        bound = "-" if r["bound"] is None else f"{float(r['bound']):,.0f}"  # type: ignore[arg-type]
        gap = "-" if r["gap"] is None else f"{float(r['gap']):.1%}"  # type: ignore[arg-type]
        print(
            f"| {r['table']} | {r['cells']:,} | {r['primary']:,} | {r['method']} | "
            f"{r['status']} | {r['secondary']:,} | {float(r['cost']):,.0f} | {bound} | "  # type: ignore[arg-type]
            f"{gap} | {float(r['seconds']):.1f} | {float(r['cpu']):.1f} | {r['audit']} | "
            f"{float(r['load']):.1f} |"  # type: ignore[arg-type]
        )


if __name__ == "__main__":
    main()
