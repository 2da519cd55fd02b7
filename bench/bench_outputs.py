"""fivesafes.outputs against acro 1.0.2: the same crosstabs on the same rows, both timed in one run.

Issue 20's target: at least 50x ACRO on 1M rows for a crosstab of a mean and of a count,
and at least 20x on 10M rows, with equal verdicts. Data: the seeded microdata of the
parity tests (tests/outputs/parity_data.py): region (12, Zipf) x industry (20: 18 Zipf
and 2 rare with 60 and 150 records whatever N is), income log-normal with giant
contributors in 8 cells; dimensions are pandas Categoricals.

Both sides make ``crosstab(region, industry, values=income, aggfunc="mean",
margins=True)`` and the count ``crosstab(region, industry, margins=True)``, each with
suppression on (ACRO: delete the records of flagged cells and re-run; fivesafes:
secondary suppression and the audit) and off (the checks only). acro runs in its own
venv (``make venv-acro``) in a subprocess; each side times only its calls (data made
before), after one small warm-up call. Verdicts compared: per-output status and the
checks flagging each cell.

    .venv/bin/python bench/bench_outputs.py              # 1M rows
    .venv/bin/python bench/bench_outputs.py --n 10000000 # 10M rows
    .venv/bin/python bench/bench_outputs.py --quick      # 100k rows, a smoke run

Each table is called ``--repeat`` times per side (5 up to 2M rows), each call on a
fresh session, and the best times are compared (the median ratio is printed beside):
a single call on the shared machine moved by 2-5x with the other sessions' load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "outputs"))

from parity import cell_sets, run_acro, run_ours  # noqa: E402
from parity_data import make_data  # noqa: E402

TABLES = {
    "mean": {"values": "income", "aggfunc": "mean"},
    "count": {},
}


def jobs(repeat: int = 1) -> list[dict[str, Any]]:
    """The timed calls (and a warm-up first), each made ``repeat`` times."""
    out: list[dict[str, Any]] = [
        {"id": "warm-up", "call": "pivot_table", "suppress": True,
         "args": {"values": "income", "index": "sex", "columns": "size", "aggfunc": "mean"}},
    ]  # fmt: skip
    for suppress in (True, False):
        for name, extra in TABLES.items():
            out.append(
                {
                    "id": f"{name}-{'suppress' if suppress else 'checks'}",
                    "call": "crosstab",
                    "suppress": suppress,
                    "repeat": repeat,
                    "args": {
                        "index": ["region"],
                        "columns": ["industry"],
                        "margins": True,
                        **extra,
                    },
                }
            )
    return out


def main() -> None:
    """Run both sides at one size, print times, ratios and the verdict comparison."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="calls per table and side, each on a fresh session; the best is compared "
        "(default 5 up to 2M rows, else 1: ACRO takes minutes a call at 10M)",
    )
    args = parser.parse_args()
    n = 100_000 if args.quick else args.n
    repeat = args.repeat or (5 if n <= 2_000_000 else 1)
    data = {"n": n, "seed": 20, "rare": [60, 150]}
    print(
        f"rows: {n:,}; best of {repeat} call(s) per side; "
        f"load average before: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    todo = jobs(repeat)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        acro = run_acro(data, todo, Path(tmp) / "acro")
        acro_wall = time.perf_counter() - t
        frame = make_data(n, 20, rare=(60, 150))
        ours = run_ours(frame, todo, Path(tmp) / "ours")
    print(f"load average after: {os.getloadavg()[0]:.1f}; acro subprocess wall {acro_wall:.1f}s")
    print(
        "| table | mode | acro s | fivesafes s | ratio | median ratio | status acro/ours "
        "| cells agree |"
    )
    print("|---|---|---:|---:|---:|---:|---|---|")
    agree_all = True
    for job in todo[1:]:
        a, o = acro[job["id"]], ours[job["id"]]
        same_cells = cell_sets(a["outcome"], stat_level=False) == cell_sets(
            o["outcome"], stat_level=False
        )
        same = same_cells and a["status"] == o["status"]
        agree_all &= same
        table, mode = job["id"].split("-")
        print(
            f"| {table} | {mode} | {a['seconds']:.3f} | {o['seconds']:.3f} | "
            f"{a['seconds'] / o['seconds']:.0f}x | {_median(a) / _median(o):.0f}x | "
            f"{a['status']}/{o['status']} | "
            f"{'yes' if same_cells else 'NO'} |"
        )
        record = o["record"]
        hidden = record.checks.get("hidden") or []
        secondary = sum(1 for h in hidden if h["why"] == ["SecondarySuppression"])
        protection = record.checks.get("protection") or {}
        print(
            f"|  | hidden: {len(hidden) - secondary} primary, {secondary} secondary; "
            f"of which secondary suppression and audit {protection.get('seconds', 0.0):.3f} s"
            " | | | | | | |"
        )
    print(f"verdicts equal: {'yes' if agree_all else 'NO'}")
    if not agree_all:
        sys.exit(1)


def _median(side: dict[str, Any]) -> float:
    """The median of a side's repeated times (the one time when not repeated)."""
    times = sorted(side.get("times") or [side["seconds"]])
    return float(times[len(times) // 2])


if __name__ == "__main__":
    main()
