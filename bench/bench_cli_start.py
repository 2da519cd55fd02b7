"""How long ``fivesafes`` takes to start: a help page, timed as a new process.

Each command runs as ``python -m fivesafes ...`` in a subprocess (best of 5; ``--quick``:
best of 2), with this checkout's ``src`` first on the path. The baselines in the same run
are a bare interpreter importing click, and one importing SQLAlchemy and click (what every
command needs anyway); the ratios against them are the figures that transfer between
machines.

    .venv/bin/python bench/bench_cli_start.py
    .venv/bin/python bench/bench_cli_start.py --src /other/checkout/src   # e.g. before a change
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

BASELINES = {
    "python -c 'import click'": ["-c", "import click"],
    "python -c 'import sqlalchemy, click'": ["-c", "import sqlalchemy, click"],
}
COMMANDS = {
    "fivesafes --help": ["-m", "fivesafes", "--help"],
    "fivesafes people --help": ["-m", "fivesafes", "people", "--help"],
    "fivesafes table protect --help": ["-m", "fivesafes", "table", "protect", "--help"],
}


def best_of(args: list[str], runs: int, src: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="best of 2 instead of 5")
    parser.add_argument("--src", type=Path, default=SRC, help=f"the package's src (default {SRC})")
    opts = parser.parse_args()
    runs = 2 if opts.quick else 5
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"load average before: {load}; src: {opts.src}; best of {runs}")
    base = {name: best_of(args, runs, opts.src) for name, args in BASELINES.items()}
    click_s, sqla_s = base.values()
    for name, seconds in base.items():
        print(f"{name:40s} {seconds:6.3f} s")
    for name, args in COMMANDS.items():
        seconds = best_of(args, runs, opts.src)
        print(
            f"{name:40s} {seconds:6.3f} s  {seconds / click_s:5.1f}x click"
            f"  {seconds / sqla_s:5.1f}x sqlalchemy+click"
        )
    with open("/proc/loadavg") as f:
        print(f"load average after: {' '.join(f.read().split()[:3])}")


if __name__ == "__main__":
    main()
