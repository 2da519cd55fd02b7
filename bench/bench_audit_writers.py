"""Cost of signing a checkpoint at every commit (issue 14): 8 processes x 200 appends.

Each writer appends one event per transaction, as a service does, through a
session that signs checkpoints. Three modes, alternated in the same run on the same
database kind so that the machine's load hits all alike:

- ``1000`` (the old behaviour): a checkpoint every 1,000 events only;
- ``commit``: the head signed at every commit that appended, the note inserted in
  the same transaction and appended to the checkpoint file after the commit;
- ``batched`` (the default, checkpoint_batch_ms = 1000): as ``commit``, but at most
  once a second per process; a timer signs a head left unsigned.

The ratio of the wall time against ``1000`` is the cost (goal: under 1.10).

    .venv/bin/python bench/bench_audit_writers.py             # 8 x 200, 3 rounds per mode
    .venv/bin/python bench/bench_audit_writers.py --quick     # 4 x 50, 1 round
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import text

from bench_databases import database
from fivesafes.store.db import make_engine, migrate

# every 1,000 events (the old rule); at every commit; at most once a second (the default)
MODES = ("1000", "commit", "batched")

WORKER = """
import sys, time
from pathlib import Path
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fivesafes.audit.events import AuditEvent
from fivesafes.audit.log import CHECKPOINTER, Checkpointer, append_event
from fivesafes.store.db import make_engine, session_factory, transaction

url, name, count, go, mode, key_path, log_path = sys.argv[1:8]
key = load_pem_private_key(Path(key_path).read_bytes(), None)
checkpointer = Checkpointer(
    key, "fivesafes/bench", every=1000, log_path=Path(log_path),
    every_transaction=(mode != "1000"), batch_seconds=1.0 if mode == "batched" else 0.0,
)
engine = make_engine(url)
factory = session_factory(engine, **{CHECKPOINTER: checkpointer})
with transaction(factory) as session:  # connect before the start signal
    pass
while not Path(go).exists():
    time.sleep(0.005)
for i in range(int(count)):
    with transaction(factory) as session:
        append_event(session, AuditEvent(action="bench.write", actor=name, details={"i": i}))
engine.dispose()
"""


def one_round(url: str, mode: str, processes: int, each: int, tmp: Path, key: Path) -> float:
    """Wall seconds for ``processes`` writers of ``each`` appends in ``mode``."""
    script = tmp / "worker.py"
    script.write_text(WORKER)
    go = tmp / f"go-{mode}-{time.monotonic_ns()}"
    log = tmp / f"checkpoints-{mode}.log"
    args = [str(go), mode, str(key), str(log)]
    workers = [
        subprocess.Popen([sys.executable, str(script), url, f"w{k}", str(each), *args])
        for k in range(processes)
    ]
    time.sleep(1.5)  # let every worker import and connect
    start = time.perf_counter()
    go.touch()
    for worker in workers:
        if worker.wait() != 0:
            raise SystemExit(f"a writer failed in mode {mode}")
    return time.perf_counter() - start


def run(kind: str, processes: int, each: int, rounds: int) -> None:
    """Alternate the two modes ``rounds`` times on ``kind`` and print the medians."""
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    signed = 0
    with database(kind, "bench_writers") as url, tempfile.TemporaryDirectory() as tmp_name:
        if url is None:
            return
        tmp = Path(tmp_name)
        key = tmp / "key.pem"
        key.write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
            )
        )
        engine = make_engine(url)
        try:
            migrate(engine)
            for _ in range(rounds):
                for mode in MODES:
                    times[mode].append(one_round(url, mode, processes, each, tmp, key))
            with engine.connect() as connection:
                signed = connection.execute(text("SELECT count(*) FROM audit_checkpoint")).scalar()
        finally:
            engine.dispose()
    total = processes * each
    median = {mode: statistics.median(times[mode]) for mode in MODES}
    parts = [
        f"{mode}: {total / median[mode]:.0f} appends/s (median {median[mode]:.2f}s of "
        f"{[round(t, 2) for t in times[mode]]}; ratio {median[mode] / median['1000']:.3f})"
        for mode in MODES
    ]
    print(f"{kind:<10} {processes}x{each}: " + " | ".join(parts) + f" | {signed} signed")
    sys.stdout.flush()


def main() -> None:
    """Parse arguments and run both backends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 x 50, one round")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database kind")
    args = parser.parse_args()
    processes, each, rounds = (4, 50, 1) if args.quick else (8, 200, 3)
    rounds = args.rounds or rounds
    print(f"concurrent audit writers, one event per transaction; {rounds} round(s) per mode")
    for kind in (args.only,) if args.only else ("sqlite", "postgresql"):
        run(kind, processes, each, rounds)


if __name__ == "__main__":
    main()
