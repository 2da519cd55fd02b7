"""Benchmark of a mid-size table end to end (issue 15, section 3): `table protect --data`.

A seeded synthetic survey of 60,000 rows (20,000 enterprises, turnover), four
hierarchical dimensions (region 2x3, industry 3x2, size 9, age 2x4: 9 x 10 x 10 x 11 =
9,900 cells), threshold 3, dominance (2, 85) and p% 10, `auto` secondary suppression.
The command is run as a user runs it, in a subprocess (`--json --quiet`); the stage
times come from its report.json. Baseline in the same run: the audit in `exact` mode
(every hidden cell's interval, what `table protect` did up to 20,000 cells) on the
very pattern the command produced.

    .venv/bin/python bench/bench_midsize.py                 # singleton check on (default)
    .venv/bin/python bench/bench_midsize.py --singleton false
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.hierarchy import Hierarchy

DIMS = {"region": [2, 3], "industry": [3, 2], "size": [9], "age": [2, 4]}
ROWS = 60_000
ENTERPRISES = 20_000


def write_case(folder: Path, singleton: bool, seed: int = 1) -> Path:
    """The survey, its hierarchies and the spec; returns the spec's path."""
    rng = np.random.default_rng(seed)
    leaves: dict[str, list[str]] = {}
    for dim, fans in DIMS.items():
        pairs: list[tuple[str, str]] = [("T", "")]
        level = ["T"]
        for fan in fans:
            nxt = []
            for parent in level:
                for i in range(fan):
                    code = f"{dim[0].upper()}{i}" if parent == "T" else f"{parent}.{i}"
                    pairs.append((code, parent))
                    nxt.append(code)
            level = nxt
        pd.DataFrame(pairs, columns=["code", "parent"]).to_csv(folder / f"{dim}.csv", index=False)
        leaves[dim] = level
    cols = {}
    for dim, codes in leaves.items():
        weights = rng.dirichlet(np.full(len(codes), 1.5))  # skewed: some sparse cells
        cols[dim] = rng.choice(codes, size=ENTERPRISES, p=weights)
    ents = pd.DataFrame(cols)
    ents["enterprise_id"] = [f"E{i:06d}" for i in range(ENTERPRISES)]
    rows = ents.sample(ROWS, replace=True, random_state=seed).reset_index(drop=True)
    rows["turnover"] = np.round(rng.lognormal(5, 1.5, size=ROWS), 2)
    rows.to_csv(folder / "data.csv", index=False)
    dims = "".join(f'[[dimension]]\nname = "{d}"\nhierarchy = "{d}.csv"\n' for d in DIMS)
    spec = folder / "spec.toml"
    spec.write_text(
        '[table]\nname = "mid4d"\nresponse = "turnover"\ncontributor = "enterprise_id"\n'
        f"{dims}[rules]\nthreshold = 3\ndominance = [[2, 85]]\np_percent = 10\n"
        f'[suppression]\nmethod = "auto"\nsingleton = {str(singleton).lower()}\n'
    )
    return spec


def main() -> None:
    """Run the command, then the exact-mode audit baseline; print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--singleton", default="true", choices=["true", "false"])
    ap.add_argument("--quick", action="store_true", help="accepted for run_all; same size")
    ap.add_argument(
        "--no-baseline", action="store_true", help="skip the exact-mode audit (minutes)"
    )
    args = ap.parse_args()
    singleton = args.singleton == "true"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec = write_case(folder, singleton)
        exe = Path(sys.executable).with_name("fivesafes")
        load = os.getloadavg()
        t0 = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        command = [str(exe), "table", "protect", str(spec), "--data", str(folder / "data.csv")]
        done = subprocess.run(
            [*command, "--out", str(folder / "out"), "--json", "--quiet"],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            print(done.stderr[-2000:])
            raise SystemExit(f"table protect failed with exit {done.returncode}")
        (summary,) = json.loads(done.stdout)["tables"]
        report = json.loads((folder / "out" / "report.json").read_text())
        timings = report["timings"]
        print(
            f"table protect --data: {summary['cells']:,} cells from {summary['rows']:,} rows, "
            f"{summary['by_status']} in {wall:.1f} s wall ({cpu:.1f} s CPU), load "
            f"{load[0]:.1f} -> {os.getloadavg()[0]:.1f}"
        )
        print(
            "  stages: "
            + ", ".join(
                f"{k} {timings[k]:.1f} s"
                for k in ("tabulate", "primary_rules", "secondary", "audit")
                if k in timings
            )
        )
        print(f"  secondary: {report['secondary'].get('method')}, audit: {summary['audit']}")
        audit = report.get("audit", {})
        print(
            "  audit detail: "
            + ", ".join(f"{k} {v}" for k, v in audit.items() if "witness" in k)
            + "; "
            + ", ".join(f"{k} {v:.1f} s" for k, v in audit.get("timings", {}).items())
        )
        if args.no_baseline:
            return
        cells = pd.read_csv(folder / "out" / "cells.csv", dtype={d: str for d in DIMS})
        hs = [Hierarchy.from_csv(d, folder / f"{d}.csv") for d in DIMS]
        t1, c1 = time.perf_counter(), time.process_time()
        exact = audit_table(
            cells, hs, singleton=singleton, dimensions=list(DIMS), intervals="exact"
        )
        base, base_cpu = time.perf_counter() - t1, time.process_time() - c1
        print(
            f"  baseline: the exact-mode audit of the same pattern: {base:.1f} s wall "
            f"({base_cpu:.1f} s CPU), {exact.lp_count:,} LPs, safe={exact.safe}; "
            f"command audit / exact audit = {timings['audit'] / base:.2f}"
        )


if __name__ == "__main__":
    main()
