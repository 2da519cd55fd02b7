"""Benchmark of access decisions with their audit writes (issue 5), on SQLite and PostgreSQL.

Each decision is what `fivesafes access check` does: one transaction that resolves
the acting person, gathers the facts from the register, decides, and appends the
decision to the hash-chained audit log. People alternate between one who is allowed
and ones denied for several reasons, so both paths are timed.

Baselines measured in the same run: the bare audit append (one event per
transaction, nothing else) and the pure decision (decide_access on ready facts,
no storage). The ratio says what gathering facts and deciding add to the write.

Checkpoint cost (issue 14): the decisions run through a workspace-like session that
signs checkpoints, alternately (in blocks, so the machine's load hits all alike)
with the old rule (a checkpoint every 1,000 events), the head signed at every commit
(note inserted in the transaction, appended to the checkpoint file after it), and
the default: at every commit but at most once a second per process (a timer signs
a head left unsigned). The ratio against the old rule is the cost (goal: under 1.10).

    .venv/bin/python bench/bench_access.py            # 3,000 decisions per database
    .venv/bin/python bench/bench_access.py --quick    # 200, a smoke run
    FIVESAFES_BENCH_PG_URL=postgresql+psycopg://me@host/db  (default 127.0.0.1:5432/test)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bench_databases import database
from fivesafes.audit.events import AuditEvent, Outcome
from fivesafes.audit.log import CHECKPOINTER, Checkpointer, append_event, sign_pending_now
from fivesafes.governance.access import decide_access
from fivesafes.governance.areas import Dataset
from fivesafes.governance.roles import Role
from fivesafes.governance.training import MANDATORY_COURSE
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance import (
    access,
    areas,
    datasets,
    declarations,
    grants,
    people,
    training,
)
from fivesafes.store.db import make_engine, migrate, session_factory, transaction

PEOPLE = 20


def build_register(engine: Engine) -> list[str]:
    """A register with an area, a dataset and PEOPLE analysts; even ones may access."""
    today = datetime.now(UTC).date()

    def act(login: str, fn: Callable[..., object], *args: object, **kw: object) -> object:
        with transaction(engine) as s:
            return fn(s, resolve_actor(s, login), *args, **kw)

    with transaction(engine) as s:
        people.bootstrap_administrator(s, "root", "Root")
    act("root", people.register_person, "iris", "Iris", [Role.INFORMATION_ASSET_OWNER])
    act("root", training.add_course, "Earnings data", 24)
    act("root", areas.create_area, "earnings", "iris", ["Earnings data"])
    act("iris", datasets.register_dataset, Dataset("ashe", "earnings", 1, 1, 1, "s", "b"), today)
    act("root", declarations.publish_declaration, "I will keep it confidential.")
    # whoever decides on access must be qualified too (issue 14): training and declaration
    act("root", training.record_completion, "iris", MANDATORY_COURSE, today, None, today)
    act("root", training.record_completion, "iris", "Earnings data", today, None, today)
    act("iris", declarations.sign_declaration, 1)
    logins = []
    for i in range(PEOPLE):
        login = f"analyst{i:02d}"
        logins.append(login)
        act("root", people.register_person, login, f"Analyst {i}", [Role.STATISTICIAN])
        act("root", training.record_completion, login, MANDATORY_COURSE, today, None, today)
        if i % 2 == 0:
            act("root", training.record_completion, login, "Earnings data", today, None, today)
            act(login, declarations.sign_declaration, 1)
            gid = act(login, grants.request_grant, login, "earnings", "tables").id  # type: ignore[attr-defined]
            act("iris", grants.approve_grant, gid)
    return logins


def time_decisions(
    engine: Engine | sessionmaker[Session], logins: list[str], n: int
) -> tuple[float, int]:
    """Seconds for ``n`` audited decisions, each in its own transaction; and how many allowed."""
    allowed = 0
    start = time.perf_counter()
    for i in range(n):
        with transaction(engine) as s:
            actor = resolve_actor(s, "root")
            decision = access.check_access(s, actor, logins[i % len(logins)], "ashe", "statistical")
            allowed += decision.allowed
    return time.perf_counter() - start, allowed


def time_bare_appends(engine: Engine, n: int) -> float:
    """Seconds for ``n`` audit appends of a decision-sized event, one per transaction."""
    details = {"person": "analyst00", "purpose": "statistical", "allowed": True, "reasons": []}
    start = time.perf_counter()
    for _ in range(n):
        with transaction(engine) as s:
            append_event(
                s,
                AuditEvent(
                    action="bench.append",
                    actor="root",
                    outcome=Outcome.ALLOWED,
                    area="earnings",
                    dataset="ashe",
                    subject="analyst00",
                    details=details,
                ),
            )
    return time.perf_counter() - start


def time_pure(engine: Engine, logins: list[str], n: int) -> float:
    """Seconds for ``n`` pure decisions on facts gathered once (no storage)."""
    today = datetime.now(UTC).date()
    with transaction(engine) as s:
        facts = [access.gather_facts(s, lg, "ashe", "statistical", today) for lg in logins]
    start = time.perf_counter()
    for i in range(n):
        decide_access(facts[i % len(facts)], today)
    return time.perf_counter() - start


BLOCKS = 10  # the checkpointing modes alternate this many times
# every 1,000 events (the old rule); at every commit; at most once a second (the default)
MODES = ("1000", "commit", "batched")


def time_checkpointing(engine: Engine, logins: list[str], n: int, tmp: Path) -> dict[str, float]:
    """Seconds for ``n`` decisions in each checkpointing mode (alternated in blocks)."""
    key = Ed25519PrivateKey.generate()
    factories = {
        mode: session_factory(
            engine,
            **{
                CHECKPOINTER: Checkpointer(
                    key,
                    "fivesafes/bench",
                    every=1000,
                    log_path=tmp / f"checkpoints-{mode}.log",
                    every_transaction=mode != "1000",
                    batch_seconds=1.0 if mode == "batched" else 0.0,
                )
            },
        )
        for mode in MODES
    }
    totals = dict.fromkeys(MODES, 0.0)
    block = max(1, n // BLOCKS)
    for _ in range(BLOCKS):
        for mode, factory in factories.items():
            totals[mode] += time_decisions(factory, logins, block)[0]
    sign_pending_now(engine)  # before the database is dropped
    return totals


def run(kind: str, n: int) -> None:
    """Benchmark one backend and print its lines."""
    with database(kind, "bench_access") as url, tempfile.TemporaryDirectory() as tmp:
        if url is None:
            return
        engine = make_engine(url)
        try:
            migrate(engine)
            logins = build_register(engine)
            time_decisions(engine, logins, min(50, n))  # warm-up: caches, statement compilation
            t_dec, allowed = time_decisions(engine, logins, n)
            t_app = time_bare_appends(engine, n)
            t_pure = time_pure(engine, logins, n * 10)
            t_modes = time_checkpointing(engine, logins, n, Path(tmp))
        finally:
            engine.dispose()
    dec_rate, app_rate, pure_rate = n / t_dec, n / t_app, n * 10 / t_pure
    print(
        f"{kind:<10} {n:>6} decisions ({allowed} allowed): {dec_rate:>8.0f}/s | "
        f"bare audit append {app_rate:>8.0f}/s | pure decision {pure_rate:>9.0f}/s | "
        f"decision costs {t_dec / t_app:.2f}x a bare append"
    )
    m = max(1, n // BLOCKS) * BLOCKS
    old, commit, batched = (t_modes[mode] for mode in MODES)
    print(
        f"{kind:<10} {m:>6} decisions signed: every 1000 events {m / old:>8.0f}/s | "
        f"every commit {m / commit:>8.0f}/s (ratio {commit / old:.3f}) | "
        f"batched 1 s (default) {m / batched:>8.0f}/s (ratio {batched / old:.3f})",
        flush=True,
    )


def main() -> None:
    """Parse arguments and run both backends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 decisions, a smoke run")
    parser.add_argument("-n", type=int, default=None, help="decisions per database")
    args = parser.parse_args()
    n = args.n or (200 if args.quick else 3000)
    print(f"access decisions with audit writes, one transaction each; {PEOPLE} people")
    for kind in ("sqlite", "postgresql"):
        run(kind, n)


if __name__ == "__main__":
    main()
