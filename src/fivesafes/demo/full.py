"""The whole demo: a protected table, then people, areas, the vault, a release and the evidence.

Each part is its own module and returns printable lines; this one runs them in
order in one workspace (``OUT/workspace``, a demo-identity workspace on SQLite).
"""

from __future__ import annotations

import time
from pathlib import Path

from fivesafes.demo.governance import run_governance_demo
from fivesafes.demo.release_demo import run_release_demo
from fivesafes.demo.run import run_demo
from fivesafes.store.audit_log import verify_chain
from fivesafes.store.db import read_only
from fivesafes.workspace import open_workspace


def run_full_demo(
    out: Path, *, rows: int, seed: int, secondary: str | None, tables_only: bool = False
) -> list[str]:
    """Run every part of the demo into ``out``; return what to print."""
    start = time.perf_counter()
    table = run_demo(out, rows=rows, seed=seed, secondary=secondary)
    lines = ["== 1. Protect a table (issue: tabulation, primary and secondary suppression, audit)"]
    lines += table.summary().splitlines()
    if tables_only:
        return lines
    home = out / "workspace"
    lines += ["", "== 2. Safe people and settings: register, training, declaration, grant, access"]
    lines += run_governance_demo(home)
    lines += ["", "== 3. Safe data and outputs: encrypted area, output checking, release, register"]
    lines += run_release_demo(home)
    lines += ["", "== 4. Evidence: the audit log"]
    lines.append(_verify(home))
    lines += ["", f"demo finished in {time.perf_counter() - start:.1f} s; outputs in {out}"]
    return lines


def _verify(home: Path) -> str:
    workspace = open_workspace(home)
    try:
        report = verify_chain(
            read_only(workspace.engine()),
            public_key=workspace.public_key(),
            key_name=workspace.origin,
            checkpoint_file=workspace.checkpoint_log_path,
        )
    finally:
        workspace.close()
    verdict = "intact" if report.ok else f"BROKEN at {report.first_bad}"
    return (
        f"audit log: {report.events} events, {report.checkpoints_verified} signed checkpoints; "
        f"chain {verdict} (fivesafes audit verify)"
    )
