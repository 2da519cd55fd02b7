"""A user with no grant sends hostile SQL to the area query: nothing reaches outside.

Before the fix, the query's tables were listed with DuckDB's ``get_table_names`` on its
process-wide default connection, which *binds* the statement: ``read_csv`` opened the
file, an ``https://`` path started an extension download (and created ``~/.duckdb``),
all before the access decision. Each attempt runs in a fresh process whose HOME and
working directory are empty folders, so whatever DuckDB would create shows up there;
the file it would read has an access time far in the past, which a read would update.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parents[1]  # tests/services: the shared worlds

SCRIPT = r"""
import csv, json, os, sys, threading, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from governance_register import TODAY, build_register
from sqlalchemy import select
from fivesafes.errors import FivesafesError
from fivesafes.services.vault.lifecycle import ingest_dataset
from fivesafes.services.vault.read import query_area_for
from fivesafes.services.vault.register import Vault
from fivesafes.store.db import make_engine, migrate, transaction
from fivesafes.store.models.audit import AuditRecord
from fivesafes.vault import FileKeyProvider

work = Path(sys.argv[2]); sql = sys.argv[3]
engine = make_engine(f"sqlite:///{work / 'db.sqlite'}")
migrate(engine)
reg = build_register(engine)
vault = Vault(work / "areas", FileKeyProvider(work / "keys"))
tx = lambda: transaction(engine)
src = work / "ashe.csv"
with open(src, "w", newline="") as f:
    w = csv.writer(f); w.writerow(["person_id", "pay"])
    w.writerows([f"ID{i}", 100 + i] for i in range(20))
ingest_dataset(tx, vault, "iris", "earnings", src, name="ashe")
src.unlink()

def unread(path):
    # atime far before mtime: (rel)atime updates it on the next read of the file
    path.write_text("a,b\n1,2\n"); os.utime(path, (1, time.time()))

results = []
for i, template in enumerate(json.loads(sql)):
    secret = work / f"secret-{i}.csv"; unread(secret)
    with transaction(engine) as s:
        before = max(s.scalars(select(AuditRecord.seq)).all())
    error = None
    query = template.format(
        secret=secret, out=Path.cwd() / f"leak-{i}.csv", db=Path.cwd() / f"x{i}.db")
    try:
        query_area_for(tx, vault, "bob", "earnings", query, today=TODAY)
    except FivesafesError as exc:
        error = [type(exc).__name__, exc.code]
    with transaction(engine) as s:
        events = [(r.action, r.outcome) for r in s.scalars(
            select(AuditRecord).where(AuditRecord.seq > before).order_by(AuditRecord.seq))]
    read = os.stat(secret).st_atime != 1
    results.append({"sql": template, "error": error, "events": events, "read": read})
probe = work / "probe.csv"; unread(probe); probe.read_text()
results.append({"atime_works": os.stat(probe).st_atime != 1})
print(json.dumps(results))
"""


HOSTILE = [
    "SELECT * FROM read_csv('{secret}')",
    "SELECT * FROM ashe, read_csv('{secret}')",
    "SELECT * FROM ashe WHERE pay IN (SELECT a FROM read_csv('{secret}'))",
    "SELECT * FROM read_csv('https://example.invalid/x.csv')",
    "SELECT * FROM ashe, 's3://bucket/x.parquet'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "COPY (SELECT * FROM ashe) TO '{out}'",
    "ATTACH '{db}' AS x",
    "SET temp_directory = '{out}'",
    "SELECT * FROM ashe; SELECT * FROM read_csv('{secret}')",
]


def test_hostile_sql_from_a_user_without_a_grant_does_nothing(tmp_path: Path) -> None:
    home, cwd, work = tmp_path / "home", tmp_path / "cwd", tmp_path / "work"
    for d in (home, cwd, work):
        d.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVESAFES_")}
    env["HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(HERE), str(work), json.dumps(HOSTILE)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    *results, probe = json.loads(done.stdout.strip().splitlines()[-1])
    if not probe["atime_works"]:
        pytest.skip("this filesystem does not update access times: file reads cannot be seen")
    assert [r["sql"] for r in results] == HOSTILE
    problems = []
    for r in results:
        events = [tuple(e) for e in r["events"]]
        if r["error"] is None:
            problems.append(f"{r['sql']}: not refused")
        if r["read"]:
            problems.append(f"{r['sql']}: the file named in the query was read")
        # Refused and audited: denials only, nothing allowed, nothing queried.
        if not events or any(e != ("access.decide", "denied") for e in events):
            problems.append(f"{r['sql']}: audit events {events}")
    assert problems == []
    assert list(home.iterdir()) == [], "DuckDB wrote to HOME (an extension install attempt)"
    assert list(cwd.iterdir()) == [], "a file appeared in the working directory"
