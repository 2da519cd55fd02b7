"""Backup and restore of a workspace against the simplest honest copy of the same folder.

A workspace with one dataset of N rows (default 1,000,000) is built with the CLI. Timed
in this process, alternated so the machine's load hits both alike:

- ``fivesafes backup``: database snapshot, every file hashed into a signed manifest, one
  tar written atomically; baseline: ``tar`` of the same folder with Python's tarfile (no
  snapshot, no hashes, no signature: what an operator would do by hand);
- ``fivesafes restore``: the archive extracted, the signature, the audit chain and every
  encrypted frame verified, the register checked; baseline: extracting the baseline tar.

The ratios say what verification costs beyond a plain copy.

    .venv/bin/python bench/bench_backup.py             # 1,000,000 rows, 3 rounds
    .venv/bin/python bench/bench_backup.py --quick     # 100,000 rows, 1 round
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fivesafes.services.backup import create_backup
from fivesafes.services.restore import restore_backup
from fivesafes.workspace import open_workspace

CLI = [sys.executable, "-m", "fivesafes.cli.main"]


def _run(home: Path, user: str | None, *args: str) -> None:
    env = {**os.environ, "FIVESAFES_HOME": str(home)}
    if user:
        env["FIVESAFES_USER"] = user
    subprocess.run([*CLI, *args], env=env, check=True, capture_output=True)


def build(folder: Path, rows: int) -> Path:
    """A demo-identity workspace with one encrypted dataset of ``rows`` rows."""
    home = folder / "ws"
    _run(home, None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root")
    _run(home, "root", "people", "add", "iris", "--name", "Iris", "--role", "iao")
    _run(home, "root", "area", "create", "earnings", "--owner", "iris")
    _run(home, "iris", "dataset", "add", "ashe", "--area", "earnings", "--source", "ASHE",
         "--lawful-basis", "SRSA 2007")  # fmt: skip
    rng = np.random.default_rng(5)
    src = folder / "ashe.csv"
    pd.DataFrame(
        {
            "person": np.arange(rows),
            "region": rng.choice(["N", "S", "E", "W"], rows),
            "age": rng.integers(16, 90, rows),
            "pay": rng.gamma(2.0, 15_000.0, rows).round(2),
        }
    ).to_csv(src, index=False)
    _run(home, "iris", "dataset", "ingest", "earnings", str(src), "--name", "ashe")
    src.unlink()
    return home


def _timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 1 round")
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    rounds = 1 if args.quick else 3
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        folder = Path(tmp)
        home = build(folder, rows)
        workspace = open_workspace(home)
        size = sum(p.stat().st_size for p in home.rglob("*") if p.is_file())
        print(f"workspace: {rows:,} rows, {size / 1e6:.1f} MB; load {os.getloadavg()[0]:.1f}")
        times: dict[str, list[float]] = {k: [] for k in ("backup", "tar", "restore", "untar")}
        for i in range(rounds):
            archive, plain = folder / f"b{i}.tar", folder / f"p{i}.tar"

            def plain_tar(target: Path = plain) -> None:
                with tarfile.open(target, "w") as tar:
                    tar.add(home, arcname="ws")

            times["backup"].append(_timed(lambda a=archive: create_backup(workspace, a, "root")))
            times["tar"].append(_timed(plain_tar))
            times["restore"].append(
                _timed(lambda a=archive, i=i: restore_backup(a, folder / f"r{i}", "root"))
            )

            def untar(source: Path = plain, i: int = i) -> None:
                with tarfile.open(source) as tar:
                    tar.extractall(folder / f"u{i}", filter="data")

            times["untar"].append(_timed(untar))
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{'step':<10}{'fivesafes':>12}{'plain tar':>12}{'ratio':>8}")
        for ours, base in (("backup", "tar"), ("restore", "untar")):
            print(f"{ours:<10}{med[ours]:>11.2f}s{med[base]:>11.2f}s{med[ours] / med[base]:>8.2f}")
        ours_mb, plain_mb = archive.stat().st_size / 1e6, plain.stat().st_size / 1e6
        print(f"archive: {ours_mb:.1f} MB (plain tar {plain_mb:.1f} MB)")


if __name__ == "__main__":
    main()
