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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from fivesafes.app import App
from fivesafes.demo.run import choose_secondary, hidden_note, write_inputs
from fivesafes.demo.served import DemoServer, demo_server
from fivesafes.errors import FivesafesError, UnsafeTableError
from fivesafes.governance.roles import Role
from fivesafes.governance.training import MANDATORY_COURSE
from fivesafes.release.submission import TableSubmission
from fivesafes.release.votes import Vote
from fivesafes.sdc import STATUS, VALUE, Hierarchy, Status, load_spec
from fivesafes.server.operations_tables import spec_text
from fivesafes.services.release import requests as release_requests
from fivesafes.services.release.requests import SubmissionContext
from fivesafes.services.setup import init_workspace
from fivesafes.services.vault.sealing import key_held_for_sealing
from fivesafes.services.vault.tables import stored_table
from fivesafes.workspace import CONFIG_FILE, Workspace, open_workspace

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


@contextmanager
def _unless(code: str) -> Iterator[None]:
    """Go on when the server says ``code`` (e.g. a conflict: done in an earlier run)."""
    try:
        yield
    except FivesafesError as exc:
        if exc.code != code:
            raise


def _qualify(server: DemoServer, admin: str, login: str, today: date) -> None:
    """Give ``login`` what access needs besides a grant: training and the signed declaration."""
    act = server.call
    act(admin, "training.record", login=login, course=MANDATORY_COURSE, completed=today,
        evidence="LMS-DEMO")  # fmt: skip
    try:
        current = act(admin, "declaration.show")
    except FivesafesError as exc:
        if exc.code != "not_found":
            raise
        current = act(admin, "declaration.publish", text=DECLARATION_TEXT)
    with _unless("conflict"):  # already signed in an earlier run
        act(login, "declaration.sign", version=current["version"])


def run_release_demo(
    home: Path, *, rows: int = ROWS, server: DemoServer | None = None
) -> list[str]:
    """Run the release demo in the workspace at ``home`` (created if absent) through a
    server (``server``, else one started here for the run); return its log."""
    if (home / CONFIG_FILE).exists():
        workspace = open_workspace(home)
        admin = _admin(workspace)
    else:
        workspace, person = init_workspace(home, ADMIN, "Demo Administrator", demo_identity=True)
        admin = person.login
    workspace.close()
    if server is None:
        with demo_server(home, home.parent) as started:
            return _release(home, admin, started, rows)
    return _release(home, admin, server, rows)


def _release(home: Path, admin: str, server: DemoServer, rows: int) -> list[str]:
    today = datetime.now(UTC).date()
    act = server.call
    lines = [f"release demo in {home} (through {server.address})"]
    staff = [
        (OWNER, Role.INFORMATION_ASSET_OWNER),
        (AUTHOR, Role.STATISTICIAN),
        *((c, Role.OUTPUT_CHECKER) for c in CHECKERS),
    ]
    for login, role in staff:
        with _unless("conflict"):  # already there from an earlier run
            act(admin, "people.add", login=login, name=login.title(), roles=[role.value])
    with _unless("conflict"):
        act(admin, "area.create", name=AREA, owner=OWNER,
            description="Survey returns for the release demo")  # fmt: skip
        act(OWNER, "dataset.add", name=DATASET, area=AREA, source="synthetic survey",
            lawful_basis="demo", privacy_notice="PN-1")  # fmt: skip
    # Whoever opens the area or sees hidden values passes the analyst's people checks.
    for login in (OWNER, AUTHOR, *CHECKERS):
        _qualify(server, admin, login, today)
    asked = act(AUTHOR, "grant.request", login=AUTHOR, area=AREA,
                justification="Monthly turnover bulletin")  # fmt: skip
    act(OWNER, "grant.approve", grant_id=asked["id"], note="needed for the bulletin")
    inputs = write_inputs(home / "release-demo" / "input", rows=rows, seed=7)
    try:
        stored = server.upload(OWNER, "dataset.ingest", inputs.data, area=AREA, name=DATASET)
        lines.append(f"ingested {stored['rows']:,} rows into {AREA} (encrypted at rest)")
        inputs.data.unlink()  # from here on the survey exists only encrypted, in the area
    except FivesafesError as exc:
        lines.append(f"ingest skipped: {exc}")
    method, _note = choose_secondary(None)
    # The author reads the dataset only through the audited access decision; the
    # protected table (true values of every cell) stays in the area, encrypted.
    (made,) = act(
        AUTHOR,
        "table.protect",
        dataset=f"{AREA}/{DATASET}",
        specs=[spec_text(load_spec(inputs.spec)).model_dump()],
        secondary=method,
    )
    output = made["output"]
    status = made["by_status"]
    lines.append(f"{AUTHOR} opened {AREA}/{DATASET} through the access decision (audited)")
    lines.append(
        f"protected {made['table']}: {made['cells']:,} cells, "
        f"{status.get('primary', 0)} primary, "
        f"{status.get('secondary', 0)} secondary; audit: {made['audit']}"
    )
    lines += hidden_note(made["cells"], status.get("primary", 0), status.get("secondary", 0))
    lines.append(f"stored encrypted as output {output} (provenance: {made['source']})")
    rules = {"threshold": 3, "dominance": [[1, 50], [2, 85]], "p_percent": 10}
    in_force = act(admin, "rules.set", name="standard", note="demo policy", **rules)
    lines.append(f"rule set in force: {in_force['label']} ({rules})")
    view = act(AUTHOR, "release.submit", output=output, purpose="Monthly turnover bulletin",
               datasets=[DATASET], method_notes="modular", for_release="MBS-1")  # fmt: skip
    lines.append(f"submitted request #{view['id']} by {AUTHOR}:")
    lines += [
        f"  check {c['name']}: {c['verdict']} - {c['summary']}"
        for c in view["versions"][0]["checks"]
    ]
    for checker in CHECKERS:
        view = act(checker, "release.review", request_id=view["id"], vote=Vote.APPROVE.value,
                   comment="checked")  # fmt: skip
        lines.append(f"  {checker} approved -> {view['state']}")
    done = act(AUTHOR, "release.publish", request_id=view["id"],
               organisation="Demo Statistics Office")  # fmt: skip
    lines.append(
        f"published {done['release_id']}: {done['cells']} cells in the register; "
        f"bundle {done['bundle_path']}"
    )
    lines += _answer_blocked(home, server, output)
    return lines


def _answer_blocked(home: Path, server: DemoServer, output: str) -> list[str]:
    """An answer to a request, worked out inside the area from the stored table; its
    source is declared (it was not made by `table protect`), so it is flagged. Made in
    process (a hand-made table has no command to submit it), reviewed through the server."""
    with App.open(home) as app:
        vault = app.vault()
        with app.transaction() as session:
            table, _origin = stored_table(session, vault, AREA, output.split("/", 1)[1])
        answer, what = _answer(table)
        context = SubmissionContext("FOI request 42", (DATASET,), "one figure", "FOI-42")
        # sealed under the area's key, held for sealing as the server's submission does
        with key_held_for_sealing(app.transaction, vault, AREA), app.acting_as(AUTHOR) as now:
            second = release_requests.submit_output(
                now.session, now.actor, vault.provider, AREA, answer, context, source=SOURCE
            )
    lines = [f"submitted request #{second.id}: an answer giving {what}"]
    lines += [
        f"  check {c.name}: {c.verdict} - {c.summary}"
        for c in second.versions[0].checks
        if c.name == "source"
    ]
    try:
        server.call(CHECKERS[0], "release.review", request_id=second.id, vote=Vote.APPROVE.value)
        lines.append("  (unexpected) the answer was approved")
    except FivesafesError as exc:
        if exc.code != UnsafeTableError.code:
            raise
        lines.append("  approval BLOCKED by the differencing check:")
        lines += [f"    {line}" for line in exc.message.splitlines()]
    return lines
