"""``table show``'s views against the table.csv presentation, timed in one run.

The baseline is what ``table protect`` already does to lay a table out for people:
``present()`` (the two-way blocks of table.csv/table.xlsx). Measured: the view model
(published and checker's, without the audit), its HTML page and the rich terminal
rendering of every row, on seeded synthetic tables of 2-D ~2,000, 3-D ~16,000 and 4-D
~150,000 cells (20% primary, 10% secondary, statuses drawn at random: the views do not
care whether a pattern is safe).

    .venv/bin/python bench/bench_show.py           # all three sizes
    .venv/bin/python bench/bench_show.py --quick   # the smallest only
"""

from __future__ import annotations

import argparse
import io
import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console

from fivesafes.cli.table_show import render_terminal
from fivesafes.sdc import build_view, present, render_html
from fivesafes.sdc.synthetic import aggregate, balanced_tree

SHAPES = {
    "2-D ~2,000": [[6, 6], [6, 8]],
    "3-D ~16,000": [[4, 6], [4, 6], [5, 4]],
    "4-D ~150,000": [[4, 5], [4, 5], [3, 5], [3, 4]],
}


def table(fans: list[list[int]], seed: int = 1) -> tuple[pd.DataFrame, tuple[Any, ...]]:
    """Cells with random leaf values, every subtotal, and random statuses."""
    rng = np.random.default_rng(seed)
    hs = tuple(balanced_tree(f"d{i}", f) for i, f in enumerate(fans))
    leaves = rng.lognormal(5, 1, size=[len(h.leaves) for h in hs])
    full = np.zeros([len(h.order) for h in hs])
    full = aggregate(leaves, hs)
    keys = list(itertools.product(*(h.order for h in hs)))
    status = rng.choice(["safe", "primary", "secondary"], size=len(keys), p=[0.7, 0.2, 0.1])
    cells = pd.DataFrame(keys, columns=[h.name for h in hs])
    cells["records"] = 5
    cells["value"] = full.reshape(-1)
    cells["status"] = status
    cells["rule"] = np.where(status == "primary", "threshold", "")
    return cells, hs


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    shapes = dict(list(SHAPES.items())[:1]) if args.quick else SHAPES
    print(f"{'table':<14} {'cells':>8} {'present':>8} {'view':>7} {'checker':>8} "
          f"{'html':>7} {'terminal':>9}  ratios to present()")  # fmt: skip
    for label, fans in shapes.items():
        cells, hs = table(fans)
        dims = [h.name for h in hs]
        base = timed(lambda: present("t", cells, dims, hs))  # noqa: B023
        published = build_view("t", cells, hs)
        t_view = timed(lambda: build_view("t", cells, hs))  # noqa: B023
        checker = build_view("t", cells, hs, checker=True)
        t_checker = timed(lambda: build_view("t", cells, hs, checker=True))  # noqa: B023
        t_html = timed(lambda: render_html(checker))  # noqa: B023
        console = Console(file=io.StringIO(), width=200)
        t_term = timed(lambda: render_terminal(published, console, max_rows=0))  # noqa: B023
        print(
            f"{label:<14} {len(cells):>8,} {base:>7.2f}s {t_view:>6.2f}s {t_checker:>7.2f}s "
            f"{t_html:>6.2f}s {t_term:>8.2f}s  view {t_view / base:.1f}x, checker "
            f"{t_checker / base:.1f}x, html {t_html / base:.1f}x, terminal {t_term / base:.1f}x"
        )


if __name__ == "__main__":
    main()
