"""The release demo: ingest, protect, submit, two reviews, publish, then a blocked answer.

The table is protected through the audited read path and stays in the area, encrypted
(``table protect --dataset``); it is submitted as that stored output, so its source
(dataset and measure) is the one the system recorded, not one the author typed.
The second output is an answer to a request: one figure, region R without industry
I. On its own it hides nothing; with the published total of region R it gives the
suppressed cell (R, I) by subtraction, so the differencing check blocks its approval
and says which published cells reveal it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from fivesafes.app import App
from fivesafes.demo.run import choose_secondary, hidden_note, write_inputs
from fivesafes.errors import ConflictError, FivesafesError, UnsafeTableError
from fivesafes.governance.areas import Dataset
from fivesafes.governance.roles import Role
from fivesafes.governance.training import MANDATORY_COURSE
from fivesafes.release.submission import TableSubmission
from fivesafes.release.votes import Vote
from fivesafes.sdc import STATUS, VALUE, Hierarchy, Status, load_spec
from fivesafes.services.governance import areas, datasets, declarations, grants, people, training
from fivesafes.services.release import publish as release_publish
from fivesafes.services.release import requests as release_requests
from fivesafes.services.release import reviews as release_reviews
from fivesafes.services.release import rule_sets
from fivesafes.services.release.requests import SubmissionContext
from fivesafes.services.setup import init_workspace
from fivesafes.services.vault.lifecycle import ingest_dataset
from fivesafes.services.vault.tables import protect_dataset_for, stored_table
from fivesafes.workspace import CONFIG_FILE, Workspace, open_workspace

T = TypeVar("T")

ADMIN = "demo-admin"
OWNER = "rita.owner"
AUTHOR = "alan.author"
CHECKERS = ("olga.checker", "oscar.checker")
AREA = "release-demo"
DATASET = "release-demo-survey"
SOURCE = f"{DATASET}:turnover"  # what `table protect` records: the dataset read, the measure
ROWS = 2_000
DECLARATION_TEXT = (
    "I will use confidential data only for statistical purposes and never disclose "
    "information that identifies a person or a business."
)


def _admin(workspace: Workspace) -> str:
    from fivesafes.demo.governance import admin_login

    return admin_login(workspace)


def _answer(table: TableSubmission) -> tuple[TableSubmission, str]:
    """One figure that, subtracted from a published total, reveals a primary cell."""
    cells = table.cells
    region_h, industry_h = table.hierarchies
    totals = cells[cells["industry"] == industry_h.root].set_index("region")
    for _, cell in cells[cells[STATUS] == Status.PRIMARY.value].iterrows():
        region, industry = str(cell["region"]), str(cell["industry"])
        if industry == industry_h.root or totals.loc[region, STATUS] != Status.SAFE.value:
            continue
        inside = set(industry_h.leaves_under(industry))
        pairs: list[tuple[str, str | None]] = [("all", None), ("rest", "all"), ("asked", "all")]
        pairs += [(leaf, "asked" if leaf in inside else "rest") for leaf in industry_h.leaves]
        grouping = Hierarchy.from_pairs("industry", pairs)
        value = float(str(totals.loc[region, VALUE])) - float(cell[VALUE])
        frame = pd.DataFrame(
            [{"region": region, "industry": "rest", "records": 0, VALUE: value, STATUS: "safe"}]
        )
        text = frame.to_csv(index=False)
        spec = f"answer: region {region} without industry {industry}"
        answer = TableSubmission(
            name="answer to request 42",
            cells_csv=text,
            report={"rules": dict(table.report.get("rules", {}))},
            spec_text=spec,
            spec_hash=hashlib.sha256(spec.encode()).hexdigest(),
            frequency=False,
            a_priori_percent=None,
            hierarchies=(region_h, grouping),
            files={"answer.csv": hashlib.sha256(text.encode()).hexdigest()},
        )
        return answer, f"region {region} without industry {industry}"
    raise FivesafesError("the demo table has no primary cell under a published region total")


def _qualify(
    workspace: Workspace, act: Callable[..., Any], admin: str, login: str, today: date
) -> None:
    """Give ``login`` what access needs besides a grant: training and the signed declaration."""
    act(admin, training.record_completion, login, MANDATORY_COURSE, today, "LMS-DEMO", today)
    with workspace.transaction() as session:
        current = declarations.current_declaration(session)
    if current is None:
        current = act(admin, declarations.publish_declaration, DECLARATION_TEXT)
    with suppress(ConflictError):  # already signed in an earlier run
        act(login, declarations.sign_declaration, current.version)


def run_release_demo(home: Path, *, rows: int = ROWS) -> list[str]:
    """Run the release demo in the workspace at ``home`` (created if absent); return its log."""
    if (home / CONFIG_FILE).exists():
        workspace = open_workspace(home)
        admin = _admin(workspace)
    else:
        workspace, person = init_workspace(home, ADMIN, "Demo Administrator", demo_identity=True)
        admin = person.login
    app = App(workspace)
    vault = app.vault()
    today = datetime.now(UTC).date()

    def act(login: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with app.acting_as(login) as now:
            return fn(now.session, now.actor, *args, **kwargs)

    lines = [f"release demo in {workspace.home}"]
    try:
        staff = [
            (OWNER, Role.INFORMATION_ASSET_OWNER),
            (AUTHOR, Role.STATISTICIAN),
            *((c, Role.OUTPUT_CHECKER) for c in CHECKERS),
        ]
        for login, role in staff:
            with suppress(ConflictError):  # already there from an earlier run
                act(admin, people.register_person, login, login.title(), [role])
        try:
            act(admin, areas.create_area, AREA, OWNER, [], "Survey returns for the release demo")
            entry = Dataset(
                DATASET, AREA, True, True, True, "synthetic survey", "demo", privacy_notice="PN-1"
            )
            act(OWNER, datasets.register_dataset, entry, today)
        except ConflictError:
            pass
        # Whoever opens the area or sees hidden values passes the analyst's people checks.
        for login in (OWNER, AUTHOR, *CHECKERS):
            _qualify(workspace, act, admin, login, today)
        asked = act(AUTHOR, grants.request_grant, AUTHOR, AREA, "Monthly turnover bulletin")
        act(OWNER, grants.approve_grant, asked.id, "needed for the bulletin")
        inputs = write_inputs(workspace.home / "release-demo" / "input", rows=rows, seed=7)
        try:
            stored = ingest_dataset(
                workspace.transaction, vault, OWNER, AREA, inputs.data, name=DATASET
            )
            lines.append(f"ingested {stored.rows:,} rows into {AREA} (encrypted at rest)")
            inputs.data.unlink()  # from here on the survey exists only encrypted, in the area
        except FivesafesError as exc:
            lines.append(f"ingest skipped: {exc}")
        method, _note = choose_secondary(None)
        # The author reads the dataset only through the audited access decision; the
        # protected table (true values of every cell) stays in the area, encrypted.
        (made,) = protect_dataset_for(
            workspace.transaction,
            vault,
            AUTHOR,
            AREA,
            DATASET,
            [load_spec(inputs.spec)],
            secondary=method,
        )
        output = f"{AREA}/{made.output.name}"
        lines.append(f"{AUTHOR} opened {AREA}/{DATASET} through the access decision (audited)")
        lines.append(
            f"protected {made.table}: {made.cells:,} cells, "
            f"{made.by_status.get('primary', 0)} primary, "
            f"{made.by_status.get('secondary', 0)} secondary; audit: {made.audit}"
        )
        lines += hidden_note(
            made.cells, made.by_status.get("primary", 0), made.by_status.get("secondary", 0)
        )
        lines.append(f"stored encrypted as output {output} (provenance: {made.source})")
        rules = {"threshold": 3, "dominance": [[1, 50], [2, 85]], "p_percent": 10}
        in_force = act(admin, rule_sets.define_rule_set, "standard", rules, "demo policy")
        lines.append(f"rule set in force: {in_force.label} ({rules})")

        context = SubmissionContext("Monthly turnover bulletin", (DATASET,), "modular", "MBS-1")
        view = act(AUTHOR, release_requests.submit_stored_output, vault, output, context)
        lines.append(f"submitted request #{view.id} by {AUTHOR}:")
        lines += [f"  check {c.name}: {c.verdict} - {c.summary}" for c in view.versions[0].checks]
        for checker in CHECKERS:
            view = act(
                checker,
                release_reviews.review_request,
                vault.provider,
                view.id,
                Vote.APPROVE,
                "checked",
            )
            lines.append(f"  {checker} approved -> {view.state.value}")
        done = act(
            AUTHOR,
            release_publish.publish_request,
            vault.provider,
            workspace.releases_dir,
            view.id,
            organisation="Demo Statistics Office",
        )
        lines.append(
            f"published {done.release_id}: {done.cells} cells in the register; "
            f"bundle {done.bundle_path}"
        )

        # An answer to a request, worked out inside the area from the stored table; its
        # source is declared (it was not made by `table protect`), so it is flagged.
        with workspace.transaction() as session:
            table, _origin = stored_table(session, vault, AREA, made.output.name)
        answer, what = _answer(table)
        second = act(
            AUTHOR,
            release_requests.submit_output,
            vault.provider,
            AREA,
            answer,
            SubmissionContext("FOI request 42", (DATASET,), "one figure", "FOI-42"),
            source=SOURCE,
        )
        lines.append(f"submitted request #{second.id}: an answer giving {what}")
        lines += [
            f"  check {c.name}: {c.verdict} - {c.summary}"
            for c in second.versions[0].checks
            if c.name == "source"
        ]
        try:
            act(
                CHECKERS[0],
                release_reviews.review_request,
                vault.provider,
                second.id,
                Vote.APPROVE,
            )
            lines.append("  (unexpected) the answer was approved")
        except UnsafeTableError as exc:
            lines.append("  approval BLOCKED by the differencing check:")
            lines += [f"    {line}" for line in exc.message.splitlines()]
    finally:
        workspace.close()
    return lines
