"""The request gate: one figure checked against a register of about 1 million published cells.

Issue 17 target: the gate answers a single-figure check against a register of 1M
published cells in under 1 s. The register is the one of bench_differencing.py (100
four-dimensional releases of one source, 1.28M public cells, hidden cells with their
protection), held in memory as the gate receives it from ``area_releases``; loading it
from the database is measured by bench_differencing.py. Timed: the gate's checks of one
figure over a grouping no release has (regions r00+r05, industry 01), as
``services.requests.figures`` runs them: the figure as a one-cell table, then
``scoped_differencing_check`` against every release.

Baseline, measured in the same run: the differencing check of one more full release
(a 4-D table of about 12,800 cells) against the same register, as a release check runs it.

    .venv/bin/python bench/bench_request_gate.py            # 100 releases
    .venv/bin/python bench/bench_request_gate.py --quick    # 10 releases
"""

from __future__ import annotations

import argparse
import os
import time

from bench_differencing import SOURCE, make_tables
from fivesafes.release.differencing_scope import EarlierRelease, scoped_differencing_check
from fivesafes.requests.figure import answer_table, parse_cell


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 releases instead of 100")
    args = parser.parse_args()
    n = 10 if args.quick else 100
    started = time.perf_counter()
    tables = make_tables(n + 1, seed=7)
    earlier = [EarlierRelease(t, SOURCE, True) for t in tables[:n]]
    cells = sum(len(t.cells) for t in tables[:n])
    print(
        f"register: {n} releases, {cells:,} cells (built in {time.perf_counter() - started:.1f} s)"
    )
    print(f"load average: {os.getloadavg()[0]:.1f}")

    cell = parse_cell("region=r00+r05,industry=01")
    leaves = {"region": ("r00", "r05"), "industry": ("01",)}
    figure = answer_table("request-1-new", cell, leaves, 12345.0)
    t0 = time.perf_counter()
    gate = scoped_differencing_check(figure, SOURCE, True, earlier)
    gate_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    release = scoped_differencing_check(tables[n], SOURCE, True, earlier)
    release_s = time.perf_counter() - t1

    print(f"gate (one figure):      {gate_s:.2f} s  verdict {gate.verdict.name}")
    print(f"baseline (one release): {release_s:.2f} s  verdict {release.verdict.name}")
    print(f"ratio gate / release:   {gate_s / release_s:.2f}")
    print(f"target under 1 s: {'met' if gate_s < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
