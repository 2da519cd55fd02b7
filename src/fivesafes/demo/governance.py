"""The demo's governance part: staff, training, a declaration, an area, a dataset,
a grant, and two access decisions (one allowed, one denied, with every reason).

Everything is synthetic and goes through the same services the CLI uses, so
every step lands in the workspace's audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from fivesafes.app import App
from fivesafes.governance.access import Decision
from fivesafes.governance.areas import Dataset
from fivesafes.governance.grants import GrantPolicy
from fivesafes.governance.people import PersonStatus
from fivesafes.governance.roles import Role
from fivesafes.governance.training import MANDATORY_COURSE
from fivesafes.services.governance import (
    access,
    areas,
    datasets,
    declarations,
    grants,
    people,
    training,
)
from fivesafes.services.setup import init_workspace
from fivesafes.workspace import CONFIG_FILE, Workspace, open_workspace

T = TypeVar("T")

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


def _reasons(decision: Decision) -> list[str]:
    return [f"    - {r.message}" for r in decision.reasons]


def run_governance_demo(home: Path) -> list[str]:
    """Run the governance demo in the workspace at ``home`` (created if absent); return its log."""
    if (home / CONFIG_FILE).exists():
        workspace = open_workspace(home)
        admin = admin_login(workspace)
    else:
        workspace, person = init_workspace(home, ADMIN, "Demo Administrator", demo_identity=True)
        admin = person.login
    today = datetime.now(UTC).date()
    app = App(workspace)

    def act(login: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with app.acting_as(login) as now:
            return fn(now.session, now.actor, *args, **kwargs)

    lines = [f"governance demo in {workspace.home} (administrator: {admin})"]
    try:
        act(admin, people.register_person, OWNER, "Iris Owner", [Role.INFORMATION_ASSET_OWNER])
        act(admin, people.register_person, ANALYST, "Ada Analyst", [Role.STATISTICIAN])
        act(admin, people.register_person, NEWCOMER, "Sam Newcomer", [Role.STATISTICIAN])
        lines.append(f"registered staff: {OWNER} (asset owner), {ANALYST}, {NEWCOMER}")

        act(admin, training.add_course, EXTRA_COURSE, 24)
        act(admin, areas.create_area, AREA, OWNER, [EXTRA_COURSE], "Business survey returns")
        lines.append(f"restricted area {AREA}: owner {OWNER}, extra course {EXTRA_COURSE!r}")
        entry = Dataset(
            name=DATASET,
            area=AREA,
            identifiable=True,
            not_public=True,
            harmful=True,
            source="Monthly Business Survey returns (synthetic)",
            lawful_basis="Statistics of Trade Act 1947 s.9",
            privacy_notice="PN-MBS-1",
        )
        act(OWNER, datasets.register_dataset, entry, today)
        lines.append(f"dataset {DATASET} registered in {AREA} (confidential by the definition)")

        version = act(admin, declarations.publish_declaration, DECLARATION)
        # The owner decides on access: she passes the same people checks as the analyst.
        for login in (ANALYST, OWNER):
            act(login, declarations.sign_declaration, version.version)
        lines.append(
            f"declaration v{version.version} published (sha256 {version.text_hash[:12]}...); "
            f"signed by {ANALYST} and {OWNER}"
        )
        for login in (ANALYST, OWNER):
            for course in (MANDATORY_COURSE, EXTRA_COURSE):
                act(admin, training.record_completion, login, course, today, "LMS-DEMO", today)
        act(admin, training.record_completion, NEWCOMER, MANDATORY_COURSE, today, None, today)
        lines.append(
            f"training: {ANALYST} and {OWNER} both courses; {NEWCOMER} only {MANDATORY_COURSE!r}"
        )

        policy = GrantPolicy(
            int(workspace.setting("grant_default_months")),
            int(workspace.setting("grant_max_months")),
        )
        asked = act(
            ANALYST, grants.request_grant, ANALYST, AREA, "Monthly turnover tables", policy=policy
        )
        approved = act(OWNER, grants.approve_grant, asked.id, "needed for the bulletin")
        lines.append(
            f"grant #{approved.id}: {ANALYST} -> {AREA} approved by {approved.approver} "
            f"until {approved.end_on.isoformat()}"
        )

        for login in (ANALYST, NEWCOMER):
            decision = act(admin, access.check_access, login, DATASET, "statistical")
            verdict = "ALLOWED" if decision.allowed else "DENIED"
            lines.append(f"access check {login} -> {DATASET} (statistical): {verdict}")
            lines.extend(_reasons(decision))
    finally:
        workspace.close()
    lines.append(
        "every step above is in the audit log: fivesafes audit verify (anyone registered); "
        "fivesafes audit log (auditors and administrators)"
    )
    return lines
