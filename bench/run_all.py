"""Run every bench/bench_*.py script in turn (``--quick`` is passed through); fail if one fails.

.venv/bin/python bench/run_all.py            # full sizes (long)
.venv/bin/python bench/run_all.py --quick    # smoke run of every benchmark
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    """Run the scripts one after the other (they share 2 cores); return the exit status."""
    quick = "--quick" in sys.argv[1:]
    scripts = sorted(Path(__file__).resolve().parent.glob("bench_*.py"))
    failed: list[str] = []
    for script in scripts:
        print(f"== {script.name}{' --quick' if quick else ''}", flush=True)
        t = time.perf_counter()
        cmd = [sys.executable, str(script), *(["--quick"] if quick else [])]
        status = subprocess.run(cmd, check=False).returncode
        print(f"== {script.name}: exit {status} in {time.perf_counter() - t:.1f}s", flush=True)
        if status != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
