"""Benchmark of the repair `optimal` runs on every pattern (issue 15, section 2).

The 3-D benchmark tables' runs are chains of repairs (the start's, the shrink's, the
loop's): how much of a repair is the solver's own work decides how many fit in a
minute. On each instance of bench/bench_gap.py named, three MIP patterns over the
relation cuts (each round knowing the cuts the repair of the previous one found) and
their repaired patterns are repaired in turn, sharing one kept-move library as
`optimal` does. Baseline in the same run: the time HiGHS spends solving the attacker
LPs inside those repairs; the ratio is repair time over solver time (1.0 would be no
Python around the LPs). LPs and costs are printed so that a faster repair can be
checked to be the same repair.

    .venv/bin/python bench/bench_repair.py                  # 3d-2k and 3d-16k
    .venv/bin/python bench/bench_repair.py --quick          # 3d-2k only
"""

from __future__ import annotations

import argparse
import time

import highspy

from bench_gap import INSTANCES
from bench_secondary import synthetic_cells
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.secondary.cut_model import CutModel
from fivesafes.sdc.secondary.model import BoolArray, relation_cuts
from fivesafes.sdc.secondary.moves import MoveLibrary
from fivesafes.sdc.secondary.problem import build_problem
from fivesafes.sdc.secondary.repair import repair
from fivesafes.sdc.spec import SuppressionSpec

# time inside HiGHS's run(), every instance (attacker LPs, batch rounds, smallest moves)
_solver = [0.0]
_run = highspy.Highs.run


def _timed_run(self: highspy.Highs) -> object:
    began = time.perf_counter()
    try:
        return _run(self)
    finally:
        _solver[0] += time.perf_counter() - began


def patterns(name: str) -> tuple[object, list[BoolArray]]:
    """The instance's problem and six patterns: three MIP patterns and their repairs."""
    inst = INSTANCES[name]
    df, hs = synthetic_cells(inst.fans, 7, mean=inst.mean)
    spec = SuppressionSpec(method="optimal", singleton=True)
    problem = build_problem(df, build_structure(df, hs), spec, frequency=False)
    mip = CutModel(problem)
    mip.add(relation_cuts(problem))
    out: list[BoolArray] = []
    for _ in range(3):
        pattern, _, _ = mip.solve(None, 60.0, 0.02)
        assert pattern is not None
        seen: list = []
        fixed, _, _ = repair(problem, pattern | problem.forced, seen=seen)
        mip.add(seen)
        out += [pattern | problem.forced, fixed]
    return problem, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="3d-2k,3d-16k", help="comma-separated instances")
    ap.add_argument("--quick", action="store_true", help="3d-2k only (half a minute)")
    args = ap.parse_args()
    rows = []
    for name in ["3d-2k"] if args.quick else args.only.split(","):
        problem, pats = patterns(name)
        library = MoveLibrary(problem)  # type: ignore[arg-type]
        highspy.Highs.run = _timed_run  # type: ignore[method-assign]
        try:
            _solver[0] = 0.0
            began, lps, costs = time.perf_counter(), 0, []
            for pattern in pats:
                fixed, _, n = repair(problem, pattern.copy(), seen=[], library=library)  # type: ignore[arg-type]
                lps += n
                costs.append(problem.pattern_cost(fixed))  # type: ignore[attr-defined]
            total = time.perf_counter() - began
        finally:
            highspy.Highs.run = _run  # type: ignore[method-assign]
        rows.append((name, total, _solver[0], lps, costs))
        print(f"{name}: {total:.2f} s, HiGHS {_solver[0]:.2f} s, {lps:,} LPs", flush=True)
    print("\n| table | repairs | s | HiGHS s | ratio | LPs | repaired costs |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, total, solver, lps, costs in rows:
        shown = ", ".join(f"{c:,.0f}" for c in costs)
        print(
            f"| {name} | {len(costs)} | {total:.2f} | {solver:.2f} | {total / solver:.2f} | "
            f"{lps:,} | {shown} |"
        )


if __name__ == "__main__":
    main()
