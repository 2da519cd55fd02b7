"""Several processes appending at once still build one valid chain without gaps."""

from __future__ import annotations

import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest

from fivesafes.store.db import make_engine, migrate

PROCESSES = 8
EVENTS_EACH = 200

WORKER = """
import sys, time
from pathlib import Path
from fivesafes.audit.events import AuditEvent
from fivesafes.audit.log import append_event
from fivesafes.store.db import make_engine, session_factory, transaction

url, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
engine = make_engine(url)
if engine.dialect.name == "postgresql":
    from sqlalchemy import event

    # Under test is the ordering of appends, not durability: without waiting for
    # each commit's WAL flush the 1,600 serialised commits take seconds, not a minute.
    @event.listens_for(engine, "connect")
    def _fast_commit(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        dbapi_connection.commit()
factory = session_factory(engine)
while not go.exists():  # start together, so the appends really interleave
    time.sleep(0.01)
for i in range(count):
    with transaction(factory) as session:  # one transaction per event, as a service does
        append_event(session, AuditEvent(action="test.concurrent", actor=name, details={"i": i}))
engine.dispose()
"""


@pytest.mark.slow
def test_concurrent_writers_build_one_chain(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        script = tmp_path / "worker.py"
        script.write_text(WORKER)
        go = tmp_path / "go"
        workers = [
            subprocess.Popen(
                [sys.executable, str(script), db_url, f"writer{k}", str(EVENTS_EACH), str(go)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for k in range(PROCESSES)
        ]
        time.sleep(0.5)
        go.touch()
        for worker in workers:
            _, err = worker.communicate(timeout=600)
            assert worker.returncode == 0, err

        from fivesafes.audit.log import verify_chain

        report = verify_chain(engine)
        assert report.ok, report.problems
        assert report.events == report.head_seq == PROCESSES * EVENTS_EACH
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT actor, details FROM audit_log ORDER BY seq"
            ).all()
        per_writer: dict[str, list[str]] = {}
        for actor, details in rows:
            per_writer.setdefault(actor, []).append(details)
        assert sorted(per_writer) == sorted(f"writer{k}" for k in range(PROCESSES))
        # each writer's events are all there, in its own order
        for details in per_writer.values():
            assert details == [f'{{"i":{i}}}' for i in range(EVENTS_EACH)]
        # and the writers really interleaved (otherwise the test proves little)
        switches = sum(1 for a, b in pairwise(rows) if a[0] != b[0])
        assert switches > PROCESSES
    finally:
        engine.dispose()
