"""The demo's governance part: staff, training, a declaration, an area, a dataset,
a grant, and two access decisions (one allowed, one denied, with every reason).

Everything is synthetic and goes through a server on the demo workspace, as the CLI
does with --server, so every step lands in the workspace's audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fivesafes.demo.served import DemoServer, demo_server
from fivesafes.governance.people import PersonStatus
from fivesafes.governance.roles import Role
from fivesafes.governance.training import MANDATORY_COURSE
from fivesafes.services.governance import people
from fivesafes.services.setup import init_workspace
from fivesafes.workspace import CONFIG_FILE, Workspace, open_workspace

ADMIN = "demo-admin"
OWNER = "iris.owner"
ANALYST = "ada.analyst"
NEWCOMER = "sam.newcomer"
AREA = "business-survey"
DATASET = "monthly-business-survey"
EXTRA_COURSE = "Handling business survey data"
DECLARATION = (
    "I will use confidential data only for statistical purposes, keep them in the "
    "restricted area, and never disclose information that identifies a person or a business."
)


def admin_login(workspace: Workspace) -> str:
    """The login of the demo workspace's administrator."""
    with workspace.transaction() as session:
        admins = [
            p.login
            for p in people.list_people(session)
            if Role.ADMINISTRATOR in p.roles and p.status is PersonStatus.ACTIVE
        ]
        if not admins:
            people.bootstrap_administrator(session, ADMIN, "Demo Administrator")
            return ADMIN
        return ADMIN if ADMIN in admins else admins[0]


def _reasons(decision: dict[str, Any]) -> list[str]:
    return [f"    - {r['message']}" for r in decision["reasons"]]


def run_governance_demo(home: Path, server: DemoServer | None = None) -> list[str]:
    """Run the governance demo in the workspace at ``home`` (created if absent) through a
    server (``server``, else one started here for the run); return its log."""
    if (home / CONFIG_FILE).exists():
        workspace = open_workspace(home)
        admin = admin_login(workspace)
    else:
        workspace, person = init_workspace(home, ADMIN, "Demo Administrator", demo_identity=True)
        admin = person.login
    workspace.close()
    if server is None:
        with demo_server(home, home.parent) as started:
            return _governance(home, admin, started)
    return _governance(home, admin, server)


def _governance(home: Path, admin: str, server: DemoServer) -> list[str]:
    today = datetime.now(UTC).date()
    act = server.call
    lines = [f"governance demo in {home} (administrator: {admin}; through {server.address})"]
    act(admin, "people.add", login=OWNER, name="Iris Owner",
        roles=[Role.INFORMATION_ASSET_OWNER.value])  # fmt: skip
    act(admin, "people.add", login=ANALYST, name="Ada Analyst", roles=[Role.STATISTICIAN.value])
    act(admin, "people.add", login=NEWCOMER, name="Sam Newcomer", roles=[Role.STATISTICIAN.value])
    lines.append(f"registered staff: {OWNER} (asset owner), {ANALYST}, {NEWCOMER}")

    act(admin, "training.add_course", name=EXTRA_COURSE, validity_months=24)
    act(admin, "area.create", name=AREA, owner=OWNER, courses=[EXTRA_COURSE],
        description="Business survey returns")  # fmt: skip
    lines.append(f"restricted area {AREA}: owner {OWNER}, extra course {EXTRA_COURSE!r}")
    act(
        OWNER,
        "dataset.add",
        name=DATASET,
        area=AREA,
        source="Monthly Business Survey returns (synthetic)",
        lawful_basis="Statistics of Trade Act 1947 s.9",
        privacy_notice="PN-MBS-1",
    )
    lines.append(f"dataset {DATASET} registered in {AREA} (confidential by the definition)")

    version = act(admin, "declaration.publish", text=DECLARATION)
    for login in (ANALYST, OWNER):
        act(login, "declaration.sign", version=version["version"])
    lines.append(
        f"declaration v{version['version']} published (sha256 {version['text_hash'][:12]}...); "
        f"signed by {ANALYST} and {OWNER}"
    )
    for login in (ANALYST, OWNER):
        for course in (MANDATORY_COURSE, EXTRA_COURSE):
            act(admin, "training.record", login=login, course=course, completed=today,
                evidence="LMS-DEMO")  # fmt: skip
    act(admin, "training.record", login=NEWCOMER, course=MANDATORY_COURSE, completed=today)
    lines.append(
        f"training: {ANALYST} and {OWNER} both courses; {NEWCOMER} only {MANDATORY_COURSE!r}"
    )

    asked = act(ANALYST, "grant.request", login=ANALYST, area=AREA,
                justification="Monthly turnover tables")  # fmt: skip
    approved = act(OWNER, "grant.approve", grant_id=asked["id"], note="needed for the bulletin")
    lines.append(
        f"grant #{approved['id']}: {ANALYST} -> {AREA} approved by {approved['approver']} "
        f"until {approved['end_on']}"
    )

    for login in (ANALYST, NEWCOMER):
        decision = act(admin, "access.check", person=login, dataset=DATASET,
                       purpose="statistical")  # fmt: skip
        verdict = "ALLOWED" if decision["allowed"] else "DENIED"
        lines.append(f"access check {login} -> {DATASET} (statistical): {verdict}")
        lines.extend(_reasons(decision))
    lines.append(
        "every step above is in the audit log: fivesafes audit verify (anyone registered); "
        "fivesafes audit log (auditors and administrators)"
    )
    return lines
