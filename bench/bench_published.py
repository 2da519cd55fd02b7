"""Benchmark: `table protect` with the register's releases against protecting alone (issue 15 §4).

A seeded synthetic survey (turnover, one row per enterprise) tabulated over region x
industry: region has 8 groups of 6 leaves, industry 5 groups of 6 leaves, so
(1 + 8 + 48) x (1 + 5 + 30) = 2,052 cells. The first table (region grouped in blocks of
six) is protected and taken as published; the second groups region differently (each
group shifted by one leaf), as a later table of the same data would. It is protected

- alone (the baseline: what `--ignore-published` does; the differencing check at
  submission then blocks it), and
- with the release (the default of `table protect --dataset`),

and the table prints the time, the cells hidden and whether the differencing check over
both tables passes. Method `auto`, threshold 3, p% 10, singleton off (issue 15 §1 is
another helper's).

    .venv/bin/python bench/bench_published.py            # 2,052 cells
    .venv/bin/python bench/bench_published.py --quick    # 8 x 4 groups: 1,221 cells
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from fivesafes.sdc import (
    DimensionSpec,
    Hierarchy,
    OutputTable,
    RuleSet,
    SuppressionSpec,
    TableSpec,
    check_differencing,
    tables,
)


def grouping(name: str, leaves: list[str], groups: int, shift: int) -> Hierarchy:
    """Leaves in ``groups`` consecutive blocks, the blocks' borders moved by ``shift``."""
    size = len(leaves) // groups
    pairs: list[tuple[str, str | None]] = [("T", None)]
    pairs += [(f"{name[0].upper()}G{g}s{shift}", "T") for g in range(groups)]
    for i, leaf in enumerate(leaves):
        g = ((i + shift) // size) % groups
        pairs.append((leaf, f"{name[0].upper()}G{g}s{shift}"))
    return Hierarchy.from_pairs(name, pairs)


def spec(name: str) -> TableSpec:
    return TableSpec(
        name,
        (DimensionSpec("region"), DimensionSpec("industry")),
        response="turnover",
        contributor="ent",
        rules=RuleSet(threshold=3, p_percent=10),
        suppression=SuppressionSpec(method="auto", singleton=False, time_limit=60.0),
    )


def data(regions: list[str], industries: list[str], seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 12 * len(regions) * len(industries)
    rw = rng.dirichlet(np.full(len(regions), 2.0))
    iw = rng.dirichlet(np.full(len(industries), 2.0))
    return pd.DataFrame(
        {
            "ent": [f"e{i}" for i in range(n)],
            "region": rng.choice(regions, size=n, p=rw),
            "industry": rng.choice(industries, size=n, p=iw),
            "turnover": np.round(rng.lognormal(4, 1.2, size=n), 2),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller table (8 x 4 groups)")
    args = ap.parse_args()
    r_groups, i_groups = (8, 4) if args.quick else (8, 5)
    regions = [f"r{i:02d}" for i in range(6 * r_groups)]
    industries = [f"i{i:02d}" for i in range(6 * i_groups)]
    industry = grouping("industry", industries, i_groups, 0)
    micro = data(regions, industries)

    t = time.perf_counter()
    first = tables(
        spec("first"), micro, hierarchies=(grouping("region", regions, r_groups, 0), industry)
    )
    t_first = time.perf_counter() - t
    release = OutputTable("R1", first.hierarchies, first.cells)
    shifted = (grouping("region", regions, r_groups, 1), industry)

    t = time.perf_counter()
    alone = tables(spec("second"), micro, hierarchies=shifted)
    t_alone = time.perf_counter() - t
    check_alone = check_differencing(OutputTable("new", alone.hierarchies, alone.cells), [release])

    t = time.perf_counter()
    together = tables(spec("second"), micro, hierarchies=shifted, published=[release])
    t_with = time.perf_counter() - t
    check_with = check_differencing(
        OutputTable("new", together.hierarchies, together.cells), [release]
    )

    def hidden(r: object) -> int:
        return int((r.cells["status"] != "safe").sum())  # type: ignore[attr-defined]

    n = len(first.cells)
    primaries = int((first.cells["status"] == "primary").sum())
    section = together.report["published"]
    print(f"cells per table: {n:,}; primaries in the first: {primaries:,}")
    print(f"first table protected in {t_first:.1f} s, {hidden(first):,} hidden")
    print("| second table | time (s) | hidden | of which for the release | differencing check |")
    print("|---|---:|---:|---:|---|")
    print(
        f"| alone (baseline) | {t_alone:.1f} | {hidden(alone):,} | - | "
        f"{'pass' if check_alone.safe else f'FAIL: {len(check_alone.disclosures)} disclosed'} |"
    )
    print(
        f"| with the release | {t_with:.1f} | {hidden(together):,} | "
        f"{section['hidden_for_releases']:,} (+{section['carried_hidden']:,} carried) | "
        f"{'pass' if check_with.safe else 'FAIL'} |"
    )
    print(
        f"ratio with / alone: {t_with / t_alone:.2f}x time, "
        f"{hidden(together) / max(hidden(alone), 1):.2f}x hidden; repair rounds "
        f"{section['rounds']}, {section['seconds']:.1f} s of it in the repair, "
        f"{together.report['timings'].get('audit_published', 0.0):.1f} s re-auditing"
    )


if __name__ == "__main__":
    main()
