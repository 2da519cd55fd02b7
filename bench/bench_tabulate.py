"""Benchmark of tabulation + primary protection against a bare DuckDB GROUPING SETS query.

Data: the seeded synthetic business survey (fivesafes.demo.survey), 4 hierarchical
dimensions (region 12 leaves / 3 levels, product 10 / 3, size band 2 / 2, industry
20 / 3), a heavy-tailed turnover, a weight, and about one enterprise (contributor) per
10 rows. Written once to Parquet under bench/data/ (git-ignored).

Each measurement runs in its own fresh Python process (imports excluded from the
time), reading the same Parquet file with a warm page cache, and reports its own peak
RSS:

- baseline: the bare DuckDB query computing only count(*) and sum(turnover * w) over the
  same hierarchical grouping sets (level codes joined from the hierarchy), fetched to
  pandas;
- baseline_leaf (for information): the same counts and sums done the fast way (leaf
  cells first, then the grouping sets on the small leaf table);
- pipeline: the full primary protection, ``fivesafes.sdc.tables(spec, data,
  secondary="none")`` (tabulation with contributor statistics, primary rules, report)
  and writing cells.csv.

    .venv/bin/python bench/bench_tabulate.py                 # 10 million rows
    .venv/bin/python bench/bench_tabulate.py --quick         # 200,000 rows, a smoke run
    .venv/bin/python bench/bench_tabulate.py --rows 1000000
    .venv/bin/python bench/bench_tabulate.py --scaling       # 1, 10 and 50 million rows
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
DIMS = ("region", "product", "size_band", "industry")
SEED = 20240601
CHUNK_ROWS = 5_000_000
ROWS_PER_ENTERPRISE = 10
SPEC_TOML = """\
[table]
name = "bench_turnover"
response = "turnover"
contributor = "enterprise_id"
weight = "w"

{dimensions}
[rules]
threshold = 3
dominance = [[1, 50], [2, 85]]
p_percent = 10

[suppression]
method = "none"
"""


def prepare(rows: int) -> tuple[Path, Path]:
    """Write the survey Parquet file and the spec (with its hierarchies) once; reuse them."""
    import pyarrow.parquet as pq

    from fivesafes.demo.survey import generate_survey, write_hierarchies

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    paths = write_hierarchies(DATA_DIR, DIMS)
    dims = "".join(f'[[dimension]]\nname = "{d}"\nhierarchy = "{paths[d].name}"\n' for d in DIMS)
    spec = DATA_DIR / "bench_tabulate.toml"
    spec.write_text(SPEC_TOML.format(dimensions=dims), encoding="utf-8")
    data = DATA_DIR / f"survey_{rows}.parquet"
    if data.exists():
        return data, spec
    t = time.perf_counter()
    fd, tmp = tempfile.mkstemp(dir=DATA_DIR, suffix=".parquet.tmp")
    os.close(fd)
    writer = None
    done = 0
    # Generated in chunks of enterprises so that 50 million rows fit in memory.
    for i in itertools.count():
        n = min(CHUNK_ROWS, rows - done)
        if n <= 0:
            break
        ents = max(1, n // ROWS_PER_ENTERPRISE)
        table = generate_survey(
            n, ents, SEED + i, DIMS, first_enterprise=i * (CHUNK_ROWS // ROWS_PER_ENTERPRISE)
        )
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table)
        done += n
    assert writer is not None
    writer.close()
    os.replace(tmp, data)
    print(f"generated {rows:,} rows in {time.perf_counter() - t:.1f}s -> {data}", flush=True)
    return data, spec


def child_baseline(
    data: Path, spec_path: Path, leaf_first: bool, out: Path | None = None
) -> dict[str, object]:
    """The bare DuckDB count/sum over the same grouping sets (no contributor statistics)."""
    import duckdb

    from fivesafes.sdc.hierarchy import Hierarchy
    from fivesafes.sdc.spec import load_spec

    spec = load_spec(spec_path)
    hiers = [Hierarchy.from_csv(d.name, d.hierarchy) for d in spec.dimensions if d.hierarchy]
    t = time.perf_counter()
    con = duckdb.connect()
    levels: list[list[str]] = []
    for i, h in enumerate(hiers):
        cols = [f"lv{i}_{d}" for d in range(1, h.max_depth + 1)]
        levels.append(cols)
        con.execute(f"CREATE TABLE m{i} (code VARCHAR, {', '.join(c + ' VARCHAR' for c in cols)})")
        con.executemany(
            f"INSERT INTO m{i} VALUES ({', '.join('?' * (len(cols) + 1))})",
            [
                (leaf, *(h.ancestor_at(leaf, d) for d in range(1, h.max_depth + 1)))
                for leaf in h.leaves
            ],
        )
    sets = ", ".join(
        "(" + ", ".join(c for c in combo if c) + ")"
        for combo in itertools.product(*([None, *cols] for cols in levels))
    )
    allcols = ", ".join(c for cols in levels for c in cols)
    names = spec.dimension_names
    src = f"read_parquet('{data}')"
    if leaf_first:
        keys = ", ".join(names)
        src = f"(SELECT {keys}, count(*) AS n, sum(turnover * w) AS v FROM {src} GROUP BY {keys})"
        measures = "sum(n) AS n, sum(v) AS v"
    else:
        measures = "count(*) AS n, sum(turnover * w) AS v"
    joins = " ".join(f"JOIN m{i} ON r.{quote(d)} = m{i}.code" for i, d in enumerate(names))
    frame = con.execute(
        f"SELECT {allcols}, {measures} FROM {src} r {joins} GROUP BY GROUPING SETS ({sets})"
    ).df()
    seconds = time.perf_counter() - t
    if out is not None:  # the cells, for the cross-check (outside the timing)
        codes = {
            d: frame[cols[::-1]].bfill(axis=1).iloc[:, 0].fillna(h.root) if cols else h.root
            for d, cols, h in zip(names, levels, hiers, strict=True)
        }
        cells = frame.assign(**codes)[[*names, "n", "v"]].drop_duplicates(subset=list(names))
        cells.to_csv(out / "baseline_cells.csv", index=False)
    return {"seconds": seconds, "cells": len(frame)}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def child_pipeline(data: Path, spec_path: Path, out: Path) -> dict[str, object]:
    """tables() with secondary="none", then cells.csv written atomically."""
    from fivesafes.sdc import tables
    from fivesafes.sdc.outputs.writers import published_cells, write_cells_csv

    t = time.perf_counter()
    result = tables(spec_path, data, secondary="none")
    t_tables = time.perf_counter() - t
    out.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".csv.tmp")
    os.close(fd)
    write_cells_csv(published_cells(result), Path(tmp))
    os.replace(tmp, out / "cells.csv")
    seconds = time.perf_counter() - t  # cells.csv stays in ``out`` for the cross-check
    stages = {
        k.removeprefix("tabulate."): round(float(v), 3)
        for k, v in result.report.get("timings", {}).items()
        if k.startswith("tabulate.")
    }
    return {
        "seconds": seconds,
        "tables_seconds": t_tables,
        "cells": len(result.cells),
        "primary": int((result.cells["status"] == "primary").sum()),
        "stages": stages,
    }


def run_child(kind: str, data: Path, spec: Path, out: Path) -> dict[str, object]:
    """One measurement in a fresh process; returns its timing and peak RSS."""
    cmd = [sys.executable, __file__, "--child", kind, "--data", str(data), "--spec", str(spec)]
    cmd += ["--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def cross_check(out: Path, spec_path: Path) -> None:
    """The pipeline's records and values equal the bare query's, cell by cell."""
    import numpy as np
    import pandas as pd

    from fivesafes.sdc.spec import load_spec

    names = list(load_spec(spec_path).dimension_names)
    dtypes = dict.fromkeys(names, str)
    base = pd.read_csv(out / "baseline_cells.csv", dtype=dtypes, keep_default_na=False)
    cells = pd.read_csv(out / "cells.csv", dtype=dtypes, keep_default_na=False)
    both = cells.merge(base, on=names, how="left", validate="one_to_one")
    present = both["n"].notna()
    assert (both.loc[~present, "records"] == 0).all(), (
        "a cell with rows is missing from the baseline"
    )
    assert len(base) == int(present.sum()), "the baseline has cells the pipeline lacks"
    assert (both.loc[present, "records"] == both.loc[present, "n"]).all(), "records differ"
    assert np.allclose(both.loc[present, "value"], both.loc[present, "v"], rtol=1e-9), (
        "values differ"
    )
    print(f"cross-check: {len(cells):,} cells, records and values equal the baseline's")


def measure(rows: int, repeat: int) -> dict[str, object]:
    """Baselines and pipeline at one size (best of ``repeat``), printed and returned."""
    data, spec = prepare(rows)
    best: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for _ in range(repeat):
            for kind in ("baseline", "baseline_leaf", "pipeline"):
                r = run_child(kind, data, spec, out)
                if kind not in best or float(r["seconds"]) < float(best[kind]["seconds"]):  # type: ignore[arg-type]
                    best[kind] = r
        cross_check(out, spec)
    base = float(best["baseline"]["seconds"])  # type: ignore[arg-type]
    pipe = float(best["pipeline"]["seconds"])  # type: ignore[arg-type]
    leaf = float(best["baseline_leaf"]["seconds"])  # type: ignore[arg-type]
    summary = {
        "rows": rows,
        "baseline_s": round(base, 3),
        "baseline_leaf_s": round(leaf, 3),
        "pipeline_s": round(pipe, 3),
        "ratio": round(pipe / base, 3),
        "ratio_vs_leaf_baseline": round(pipe / leaf, 3),
        "rows_per_s": round(rows / pipe),
        "peak_rss_mb": {k: v["peak_rss_mb"] for k, v in best.items()},
        "cells": best["pipeline"]["cells"],
        "baseline_cells": best["baseline"]["cells"],
        "primary_cells": best["pipeline"]["primary"],
        "pipeline_stages": best["pipeline"]["stages"],
    }
    print(
        f"{rows:>12,} rows | baseline {base:7.2f}s | pipeline {pipe:7.2f}s | "
        f"ratio {pipe / base:5.2f} (target <= 2) | {rows / pipe / 1e6:6.2f} M rows/s | "
        f"peak RSS pipeline {best['pipeline']['peak_rss_mb']} MB, "
        f"baseline {best['baseline']['peak_rss_mb']} MB | "
        f"leaf-first baseline {leaf:.2f}s (ratio {pipe / leaf:.2f})",
        flush=True,
    )
    print(json.dumps(summary), flush=True)
    return summary


def main() -> None:
    """Parse the options and run the benchmark (or one child measurement)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="200,000 rows, a smoke run")
    parser.add_argument("--scaling", action="store_true", help="1, 10 and 50 million rows")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per variant")
    parser.add_argument("--child", choices=["baseline", "baseline_leaf", "pipeline"])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--spec", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        if args.child == "pipeline":
            result = child_pipeline(args.data, args.spec, args.out)
        else:
            leaf = args.child == "baseline_leaf"
            result = child_baseline(args.data, args.spec, leaf, None if leaf else args.out)
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(result))
        return
    sizes = [1_000_000, 10_000_000, 50_000_000] if args.scaling else [args.rows]
    if args.quick:
        sizes = [200_000]
    print(f"tabulation benchmark: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    for rows in sizes:
        measure(rows, args.repeat)


if __name__ == "__main__":
    main()
