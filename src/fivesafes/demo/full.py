"""The whole demo: a protected table, then people, areas, the vault, a release and the evidence.

Each part is its own module and returns printable lines. Part 1 (the survey and the
protected table) is written by :func:`run_demo` into a folder that ``fivesafes demo``
moves into place whole (cli/output_folder.py); parts 2 to 4 then run in
``OUT/workspace`` (a demo-identity workspace on SQLite), 2 and 3 through a
``fivesafes server`` started on it in the background (socket ``OUT/run/api.sock``) and
stopped at the end, as a real deployment runs. The workspace is made where it stays:
it records its own paths (the published bundle's folder), so it cannot be staged and
moved; if a later part fails, the workspace it made is removed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from fivesafes.app import App
from fivesafes.demo.governance import ADMIN, run_governance_demo
from fivesafes.demo.release_demo import run_release_demo
from fivesafes.demo.run import TABLE_NAME
from fivesafes.demo.served import demo_server
from fivesafes.errors import FivesafesError
from fivesafes.services.audit_log import verify_log
from fivesafes.services.setup import init_workspace
from fivesafes.workspace import CONFIG_FILE, open_workspace
from fivesafes.workspace.identity import is_demo_workspace

WORKSPACE = "workspace"
# the files a demo writes into OUT besides its workspace and the table's outputs (those
# of table protect, in OUT/tables/<table>/): the survey, its hierarchies and spec
# (OUT/input/), the server's log and socket (OUT/run/)
DEMO_FILES = frozenset(
    {"survey.csv", f"{TABLE_NAME}.toml", "region.csv", "industry.csv", "server.log", "api.sock"}
)
DEMO_DEPTH = 2  # the levels of folders of them: OUT/tables/<table>/cells.csv


def earlier_demo_workspace(folder: Path) -> bool:
    """Whether ``folder`` is an earlier demo's workspace (``OUT/workspace``), which a new
    demo replaces; any other workspace is someone's, never touched."""
    if folder.name != WORKSPACE or not (folder / CONFIG_FILE).is_file():
        return False
    try:
        workspace = open_workspace(folder, migrate=False)
    except FivesafesError:
        return False  # unreadable: not shown to be a demo's
    try:
        return is_demo_workspace(workspace)
    finally:
        workspace.close()


def run_workspace_demo(out: Path) -> list[str]:
    """Parts 2 to 4 in ``out/workspace`` (made here; removed if a part fails)."""
    home = out / WORKSPACE
    try:
        return _run_workspace_parts(home, out)
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)  # half a demo's workspace is no demo
        raise


def _run_workspace_parts(home: Path, out: Path) -> list[str]:
    init_workspace(home, ADMIN, "Demo Administrator", demo_identity=True)[0].close()
    lines: list[str] = []
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
    return lines


def _verify(home: Path) -> str:
    with App.open(home) as app:
        report = verify_log(app.workspace)
    verdict = "intact" if report.ok else f"BROKEN at {report.first_bad}"
    return (
        f"audit log: {report.events} events, {report.checkpoints_verified} signed checkpoints; "
        f"chain {verdict} (fivesafes audit verify)"
    )
