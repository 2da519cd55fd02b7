"""The whole demo: a protected table, then people, areas, the vault, a release and the evidence.

Each part is its own module and returns printable lines; this one runs them in
order in one workspace (``OUT/workspace``, a demo-identity workspace on SQLite), parts
2 and 3 through a ``fivesafes server`` started on it in the background (socket
``OUT/run/api.sock``) and stopped at the end, as a real deployment runs.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from fivesafes.app import App
from fivesafes.demo.governance import ADMIN, run_governance_demo
from fivesafes.demo.release_demo import run_release_demo
from fivesafes.demo.run import run_demo
from fivesafes.demo.served import demo_server
from fivesafes.errors import WorkspaceError
from fivesafes.services.audit_log import verify_log
from fivesafes.services.setup import init_workspace
from fivesafes.workspace import CONFIG_FILE, open_workspace
from fivesafes.workspace.identity import is_demo_workspace


def run_full_demo(
    out: Path, *, rows: int, seed: int, secondary: str | None, tables_only: bool = False
) -> list[str]:
    """Run every part of the demo into ``out``; return what to print."""
    start = time.perf_counter()
    home = out / "workspace"
    if not tables_only:
        _fresh_demo_workspace(home)  # before any work: refuse early, change nothing
    table = run_demo(out, rows=rows, seed=seed, secondary=secondary)
    lines = ["== 1. Protect a table: count every cell, flag disclosive ones, hide others, audit"]
    lines += table.summary().splitlines()
    if tables_only:
        return lines
    init_workspace(home, ADMIN, "Demo Administrator", demo_identity=True)[0].close()
    # one server for the rest: started in the background, stopped (SIGTERM) even on error
    with demo_server(home, out) as server:
        lines += [
            "",
            f"== 2. Safe people and settings (through a fivesafes server on {server.address}): "
            "register, training, declaration, grant, access",
        ]
        lines += run_governance_demo(home, server)
        lines += [
            "",
            "== 3. Safe data and outputs: encrypted area, a protected table kept in the area, "
            "output checking, release, register",
        ]
        lines += run_release_demo(home, server=server)
    lines.append("the demo's server has stopped (its log: server.log)")
    lines += ["", "== 4. Evidence: the audit log"]
    lines.append(_verify(home))
    lines += ["", f"demo finished in {time.perf_counter() - start:.1f} s; outputs in {out}"]
    return lines


def _fresh_demo_workspace(home: Path) -> None:
    """Start each demo from an empty workspace; only ever delete a demo's own workspace."""
    if not home.exists():
        return
    if (home / CONFIG_FILE).is_file():
        workspace = open_workspace(home, migrate=False)
        try:
            demo = is_demo_workspace(workspace)
        finally:
            workspace.close()
        if demo:
            shutil.rmtree(home)
            return
    raise WorkspaceError(
        f"{home} exists and is not a demo workspace; the demo will not touch it",
        hint="give the demo another --out folder",
    )


def _verify(home: Path) -> str:
    with App.open(home) as app:
        report = verify_log(app.workspace)
    verdict = "intact" if report.ok else f"BROKEN at {report.first_bad}"
    return (
        f"audit log: {report.events} events, {report.checkpoints_verified} signed checkpoints; "
        f"chain {verdict} (fivesafes audit verify)"
    )
