"""Benchmark of the tabulation engines: rows/s of DuckDB and of Spark (local mode), same table.

Data and spec: those of bench_tabulate.py (the seeded synthetic survey, 4 hierarchical
dimensions, 15,288 cells, one enterprise per 10 rows, a weight), one Parquet file
under bench/data/. Each engine runs in its own fresh process and reads that file
itself; the time is ``tabulate()`` alone (full contributor statistics, top-K, every
subtotal, the zero cells), the Spark session having been started before (its start
is reported apart), best of ``--runs`` (default 2) in one process: Spark's first run
also compiles its code in a cold JVM (reported as the first run). The two cells frames
are compared afterwards, outside the timing: counts equal, sums to 1e-9 relative. The
ratio is Spark's time over DuckDB's: DuckDB is the baseline, the engine fivesafes uses
on one machine.

    .venv/bin/python bench/bench_engine.py                  # 10 million rows
    .venv/bin/python bench/bench_engine.py --quick          # 200,000 rows, a smoke run
    .venv/bin/python bench/bench_engine.py --rows 1000000 --master 'local[2]'
    .venv/bin/python bench/bench_engine.py --conf spark.io.encryption.enabled=false
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

from bench_tabulate import prepare

SPARK_DRIVER_MEMORY = "4g"  # local mode: the driver JVM is the executor too


def child(
    engine: str, data: Path, spec_path: Path, out: Path, master: str, runs: int, conf: list[str]
) -> dict[str, object]:
    """One engine's tabulations of ``data`` (``runs`` in one process), timed; the cells
    written to ``out`` afterwards."""
    from fivesafes.engine import get_tabulator
    from fivesafes.sdc.spec import load_spec

    spec = load_spec(spec_path)
    started = 0.0
    options: dict[str, object] = {}
    if engine == "spark":
        config = {"spark.driver.memory": SPARK_DRIVER_MEMORY, **dict(c.split("=", 1) for c in conf)}
        options = {"master": master, "config": config}
    tabulator = get_tabulator(engine, **options)
    if engine == "spark":
        t = time.perf_counter()
        tabulator.session.sparkContext.setLogLevel("ERROR")
        started = time.perf_counter() - t
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        tab = tabulator.tabulate(spec, data)
        times.append(time.perf_counter() - t)
    tab.cells.to_parquet(out / f"{engine}.parquet")
    peak = {"python": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    if engine == "spark":
        from pyspark import SparkContext

        peak["jvm"] = _peak_mb(SparkContext._gateway.proc.pid)  # type: ignore[union-attr]
    return {
        "seconds": min(times),
        "first_seconds": times[0],
        "start_seconds": started,
        "cells": len(tab.cells),
        "stages": {k: round(v, 3) for k, v in tab.timings.items()},
        "peak_rss_mb": peak,
    }


def _peak_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return -1


def run_child(
    engine: str, data: Path, spec: Path, out: Path, master: str, runs: int, conf: list[str]
) -> dict[str, object]:
    """One engine's measurements in a fresh process."""
    cmd = [sys.executable, __file__, "--child", engine, "--data", str(data), "--spec", str(spec)]
    cmd += ["--out", str(out), "--master", master, "--runs", str(runs)]
    cmd += [f"--conf={c}" for c in conf]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{proc.stderr[-4000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def cross_check(out: Path) -> None:
    """Spark's cells equal DuckDB's: same rows and order, counts exact, sums to rounding."""
    import numpy as np
    import pandas as pd

    duck = pd.read_parquet(out / "duckdb.parquet")
    spark = pd.read_parquet(out / "spark.parquet")
    assert list(duck.columns) == list(spark.columns), "columns differ"
    assert len(duck) == len(spark), "cell counts differ"
    for col in duck.columns:
        if duck[col].dtype == np.float64:
            assert np.allclose(spark[col], duck[col], rtol=1e-9, atol=1e-6), col
        else:
            assert spark[col].tolist() == duck[col].tolist(), col
    print(f"cross-check: {len(duck):,} cells equal (counts exact, sums to 1e-9)")


def measure(rows: int, master: str, runs: int, conf: list[str]) -> dict[str, object]:
    """Both engines at one size, printed and returned."""
    data, spec = prepare(rows)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        duck = run_child("duckdb", data, spec, out, master, runs, conf)
        spark = run_child("spark", data, spec, out, master, runs, conf)
        cross_check(out)
    d, s = float(duck["seconds"]), float(spark["seconds"])  # type: ignore[arg-type]
    summary = {
        "rows": rows,
        "master": master,
        "spark_conf": conf,
        "duckdb_s": round(d, 2),
        "spark_s": round(s, 2),
        "runs": runs,
        "duckdb_first_s": round(float(duck["first_seconds"]), 2),  # type: ignore[arg-type]
        "spark_first_s": round(float(spark["first_seconds"]), 2),  # type: ignore[arg-type]
        "spark_start_s": round(float(spark["start_seconds"]), 2),  # type: ignore[arg-type]
        "duckdb_rows_per_s": round(rows / d),
        "spark_rows_per_s": round(rows / s),
        "ratio_spark_over_duckdb": round(s / d, 2),
        "load_before": [round(x, 2) for x in load],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "peak_rss_mb": {"duckdb": duck["peak_rss_mb"], "spark": spark["peak_rss_mb"]},
        "stages": {"duckdb": duck["stages"], "spark": spark["stages"]},
        "cells": duck["cells"],
    }
    print(
        f"{rows:>12,} rows | DuckDB {d:7.2f}s ({rows / d / 1e6:5.2f} M rows/s) | "
        f"Spark {master} {s:7.2f}s ({rows / s / 1e6:5.2f} M rows/s; first run "
        f"{summary['spark_first_s']}s, session start {summary['spark_start_s']}s) | "
        f"ratio Spark/DuckDB {s / d:5.2f} | "
        f"load {summary['load_before']} -> {summary['load_after']}",
        flush=True,
    )
    print(json.dumps(summary), flush=True)
    return summary


def main() -> None:
    """Parse the options and run the benchmark (or one child measurement)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="200,000 rows, a smoke run")
    parser.add_argument("--master", default="local[*]", help="Spark master (default local[*])")
    parser.add_argument("--runs", type=int, default=2, help="best of N in one process")
    parser.add_argument(
        "--conf", action="append", default=[], help="a Spark setting key=value (repeatable)"
    )
    parser.add_argument("--child", choices=["duckdb", "spark"])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--spec", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        result = child(
            args.child, args.data, args.spec, args.out, args.master, args.runs, args.conf
        )
        print(json.dumps(result))
        return
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SystemExit("PySpark is not installed: pip install 'fivesafes[spark]'") from None
    rows = 200_000 if args.quick else args.rows
    print(f"engine benchmark: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    measure(rows, args.master, args.runs, args.conf)


if __name__ == "__main__":
    main()
