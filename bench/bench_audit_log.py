"""Benchmark of the tamper-evident audit log (issue 5), on SQLite and PostgreSQL.

1. Appends per second: each event in its own transaction (as a service writes
   it: lock the chain, read the head, hash, insert, commit), with automatic
   signed checkpoints every 1000 events. Baseline in the same run: a bare INSERT
   of the same row into a plain table, one per transaction, no lock, no hash.
2. ``audit verify`` on 1 million events: a valid chain is bulk-loaded (hashed in
   Python, inserted in large batches / COPY), then ``verify_chain`` is timed.
   Baselines in the same run: reading the rows alone, and SHA-256 over the same
   canonical bytes alone (in memory); verify should cost about their sum.

    .venv/bin/python bench/bench_audit_log.py            # 2,000 appends, 1,000,000 to verify
    .venv/bin/python bench/bench_audit_log.py --quick    # 200 appends, 20,000 to verify
    FIVESAFES_BENCH_PG_URL=postgresql+psycopg://me@host/db  (default 127.0.0.1:5432/test)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from fivesafes.audit.chain import GENESIS_HASH, StoredRow, canonical_at, fast_canonical_text
from fivesafes.audit.events import AuditEvent, Outcome
from fivesafes.audit.log import CHECKPOINTER, Checkpointer, append_event, verify_chain
from fivesafes.store.db import make_engine, migrate, session_factory, transaction

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 50_000
COLUMNS = "seq, at, action, actor, outcome, area, dataset, subject, details, prev_hash, hash"


@contextmanager
def sqlite_url() -> Iterator[str]:
    """A SQLite file in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="fivesafes-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def pg_url() -> Iterator[str | None]:
    """A fresh PostgreSQL schema (dropped afterwards), or None when no server answers."""
    server = os.environ.get("FIVESAFES_BENCH_PG_URL", PG_DEFAULT)
    libpq = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(libpq, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        print(f"  PostgreSQL skipped: {server}: {str(exc).strip().splitlines()[0]}")
        yield None
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


def event(i: int) -> AuditEvent:
    """A typical access-decision event."""
    return AuditEvent(
        action="access.decide",
        actor=f"analyst{i % 50}",
        outcome=Outcome.ALLOWED if i % 3 else Outcome.DENIED,
        area="earnings",
        dataset="ashe-2025",
        subject=f"analyst{i % 50}",
        details={"purpose": "statistical", "reasons": [] if i % 3 else ["training expired"]},
    )


def bench_appends(engine: Engine, n: int) -> tuple[float, float]:
    """(appends per second, bare inserts per second), one transaction each."""
    key = Ed25519PrivateKey.generate()
    checkpointer = Checkpointer(key, "fivesafes/bench", every=1000)
    factory = session_factory(engine, **{CHECKPOINTER: checkpointer})
    with engine.begin() as c:
        c.exec_driver_sql(
            "CREATE TABLE bench_plain (seq BIGINT PRIMARY KEY, at VARCHAR(32), action VARCHAR, "
            "actor VARCHAR, outcome VARCHAR(16), area VARCHAR, dataset VARCHAR, subject VARCHAR, "
            "details TEXT, prev_hash VARCHAR(64), hash VARCHAR(64))"
        )
    for i in range(min(50, n)):  # warm up connections and caches
        with transaction(factory) as s:
            append_event(s, event(i))
    t = time.perf_counter()
    for i in range(n):
        with transaction(factory) as s:
            append_event(s, event(i))
    appends = n / (time.perf_counter() - t)

    insert = (
        f"INSERT INTO bench_plain ({COLUMNS}) VALUES "
        "(:seq, :at, :action, :actor, :outcome, :area, :dataset, :subject, :details, :p, :h)"
    )
    from sqlalchemy import text

    statement = text(insert)
    t = time.perf_counter()
    for i in range(n):
        e = event(i)
        with engine.begin() as c:
            c.execute(
                statement,
                {
                    "seq": i,
                    "at": canonical_at(e.at),
                    "action": e.action,
                    "actor": e.actor,
                    "outcome": e.outcome.value,
                    "area": e.area,
                    "dataset": e.dataset,
                    "subject": e.subject,
                    "details": '{"purpose":"statistical","reasons":[]}',
                    "p": GENESIS_HASH,
                    "h": GENESIS_HASH,
                },
            )
    bare = n / (time.perf_counter() - t)
    return appends, bare


def chain_rows(n: int) -> Iterator[list[StoredRow]]:
    """A valid chain of n events, in batches, built straight from the canonical form."""
    prev = GENESIS_HASH
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch: list[StoredRow] = []
    for seq in range(1, n + 1):
        at = (start + timedelta(microseconds=seq * 37_000)).isoformat(timespec="microseconds")
        actor = f"analyst{seq % 50}"
        outcome = "allowed" if seq % 3 else "denied"
        details = (
            '{"purpose":"statistical","reasons":[]}'
            if seq % 3
            else '{"purpose":"statistical","reasons":["training expired"]}'
        )
        text_ = fast_canonical_text(
            seq, at, "access.decide", actor, outcome, "earnings", "ashe-2025", actor, details, prev
        )
        digest = hashlib.sha256(text_.encode("utf-8")).hexdigest()
        batch.append(
            (seq, at, "access.decide", actor, outcome, "earnings", "ashe-2025", actor, details,
             prev, digest)
        )  # fmt: skip
        prev = digest
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk_load(engine: Engine, n: int) -> float:
    """Load a valid chain of n events; return the seconds it took."""
    t = time.perf_counter()
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        if engine.dialect.name == "postgresql":
            # The append-only trigger fires per row; the bulk path is the owner's, not a user's.
            connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
            with raw.cursor() as cursor:
                for batch in chain_rows(n):
                    with cursor.copy(f"COPY audit_log ({COLUMNS}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)
            connection.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER USER")
        else:
            cursor = raw.cursor()
            placeholders = ",".join("?" * 11)
            for batch in chain_rows(n):
                cursor.executemany(
                    f"INSERT INTO audit_log ({COLUMNS}) VALUES ({placeholders})", batch
                )
            cursor.close()
    return time.perf_counter() - t


def bench_verify(engine: Engine, n: int) -> dict[str, float]:
    """Seconds for verify_chain over n events, and for its two baselines."""
    load = bulk_load(engine, n)
    t = time.perf_counter()
    report = verify_chain(engine)  # what `fivesafes audit verify` does
    verify = time.perf_counter() - t
    assert report.ok and report.events == n, report.problems[:3]
    t = time.perf_counter()
    report = verify_chain(engine, parallel=True)  # `audit verify --parallel`
    parallel = time.perf_counter() - t
    assert report.ok and report.events == n

    # Baseline 1: just read the rows from the driver.
    t = time.perf_counter()
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        select = f"SELECT {COLUMNS} FROM audit_log ORDER BY seq"
        if engine.dialect.name == "postgresql":
            with raw.cursor(name="bench_read") as cursor:
                cursor.itersize = 20_000
                cursor.execute(select)
                rows = sum(1 for _ in cursor)
        else:
            rows = sum(1 for _ in raw.execute(select))
    read = time.perf_counter() - t
    assert rows == n
    # Baseline 2: SHA-256 of the same canonical bytes, built in memory, no database.
    t = time.perf_counter()
    for _batch in chain_rows(n):
        pass
    generate = time.perf_counter() - t  # includes building the text and hashing once
    return {"load": load, "verify": verify, "parallel": parallel, "read": read, "hash": generate}


def run_appends(name: str, url: str, n: int) -> None:
    """Appends per second against bare inserts on one database."""
    engine = make_engine(url)
    try:
        migrate(engine)
        appends, bare = bench_appends(engine, n)
    finally:
        engine.dispose()
    print(
        f"  {name}: {appends:,.0f} appends/s (one transaction each, hash chain + lock); "
        f"bare INSERT {bare:,.0f}/s; ratio append/bare = {appends / bare:.2f}",
        flush=True,
    )


def run_verify(name: str, url: str, n: int) -> None:
    """verify_chain over n bulk-loaded events against its baselines."""
    engine = make_engine(url)
    try:
        migrate(engine)
        f = bench_verify(engine, n)
    finally:
        engine.dispose()
    print(
        f"  {name}: verify {n:,} events in {f['verify']:.1f}s "
        f"({n / f['verify']:,.0f} events/s; target < 20 s for 1,000,000); "
        f"with --parallel {f['parallel']:.1f}s; "
        f"baselines: read rows {f['read']:.1f}s, canonical text + SHA-256 {f['hash']:.1f}s; "
        f"ratio verify/(read+hash) = {f['verify'] / (f['read'] + f['hash']):.2f}; "
        f"bulk load {f['load']:.1f}s",
        flush=True,
    )


def main() -> None:
    """Run the audit-log benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--verify-events", type=int, help="events to verify (default 1,000,000)")
    parser.add_argument("--skip-appends", action="store_true", help="only the verify part")
    args = parser.parse_args()
    appends_n, verify_n = (200, 20_000) if args.quick else (2_000, 1_000_000)
    verify_n = args.verify_events or verify_n
    print(f"audit log benchmark ({'quick' if args.quick else 'full'}): cpu count {os.cpu_count()}")
    if not args.skip_appends:
        with sqlite_url() as url:
            run_appends("SQLite", url, appends_n)
    with sqlite_url() as url:
        run_verify("SQLite", url, verify_n)
    if not args.skip_appends:
        with pg_url() as url:
            if url is not None:
                run_appends("PostgreSQL", url, appends_n)
    with pg_url() as url:
        if url is not None:
            run_verify("PostgreSQL", url, verify_n)


if __name__ == "__main__":
    main()
