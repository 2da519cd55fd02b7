"""Submitting an output as an approved researcher: a researcher reaches an area's microdata
only with a current accreditation and under an active project that covers the dataset and
includes them, so an output of that dataset leaves the area only so too, decided on the day
of submission (not when it was made), for a stored output and a declared one alike. A
refusal says why, is audited (access.decide, denied) and records nothing else (both
databases)."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from governance_register import TODAY
from release_world import AREA, CONTEXT
from sqlalchemy import Engine, select
from stored_world import PAY, Stored, build_stored

from fivesafes.errors import AccessDenied
from fivesafes.governance.access import ReasonCode
from fivesafes.governance.areas import Dataset
from fivesafes.governance.research import SAFE_RESEARCHER_COURSE, AccreditationLevel
from fivesafes.governance.research_projects import ProjectAction, ProjectProposal
from fivesafes.governance.roles import Role
from fivesafes.outputs import Session
from fivesafes.services.context import today_or
from fivesafes.services.governance import datasets, grants, people, training
from fivesafes.services.release import requests as release_requests
from fivesafes.services.release.requests import RequestView
from fivesafes.services.release.session_folder import submit_session_folder
from fivesafes.services.research import projects, researchers
from fivesafes.services.vault.lifecycle import ingest_dataset
from fivesafes.services.vault.read import open_dataset_for
from fivesafes.services.vault.tables import stored_table
from fivesafes.store.models.audit import AuditRecord

DAY = today_or(None)  # the services decide on the real day unless told otherwise
LATER = DAY + timedelta(days=20)


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    """The stored world plus rita, an approved researcher who passes the people checks and
    holds a grant to the area (her accreditation and projects are each test's)."""
    s = build_stored(engine, tmp_path)
    reg = s.world.reg
    reg.act("root", people.register_person, "rita", "Rita Researcher", [Role.APPROVED_RESEARCHER])
    reg.make_ready("rita")
    reg.act("root", training.record_completion, "rita", SAFE_RESEARCHER_COURSE, TODAY, "c", TODAY)
    asked = reg.act("rita", grants.request_grant, "rita", AREA, "her project's tables")
    reg.act("iris", grants.approve_grant, asked.id, "ok")
    return s


def _accredit(s: Stored, granted: date, expires: date, reference: str = "ACC-1") -> None:
    s.world.reg.act(
        "root",
        researchers.accredit,
        "rita",
        body="UKSA",
        reference=reference,
        level=AccreditationLevel.FULL,
        granted=granted,
        expires=expires,
        today=granted,
    )


def _project(
    s: Stored,
    ref: str = "P-1",
    datasets: tuple[str, ...] = ("ashe",),
    start: date = DAY - timedelta(days=30),
    end: date = DAY + timedelta(days=365),
) -> None:
    """An approved project led by rita over ``datasets`` (proposed and approved today)."""
    proposal = ProjectProposal(
        ref, "Pay", "regional pay", "statistical", "b", datasets, start, end, "rita"
    )
    s.world.reg.act("rita", projects.propose_project, proposal)
    s.world.reg.act("iris", projects.decide_project, ref, ProjectAction.APPROVE)


def _made(s: Stored) -> str:
    """A table of 'ashe' stored by ada (staff); anyone with a grant may submit it."""
    return f"{AREA}/{s.shifted().output.name}"


def _declared(s: Stored, output: str, login: str = "rita", **kw: Any) -> RequestView:
    with s.tx() as tx:
        table, _ = stored_table(tx, s.vault, AREA, output.partition("/")[2])
    context = kw.pop("context", CONTEXT)
    return s.world.reg.act(
        login,
        release_requests.submit_output,
        s.vault.provider,
        AREA,
        table,
        context,
        source="ashe:pay",
        **kw,
    )


def _stored(s: Stored, output: str, login: str = "rita", **kw: Any) -> RequestView:
    context = kw.pop("context", CONTEXT)
    return s.world.reg.act(
        login, release_requests.submit_stored_output, s.vault, output, context, **kw
    )


def _folder(s: Stored, folder: Path, login: str = "rita", **kw: Any) -> RequestView:
    context = kw.pop("context", CONTEXT)
    return submit_session_folder(s.tx, s.vault, login, folder, context, **kw)


SUBMIT = {"stored": _stored, "declared": _declared, "folder": _folder}


def _refused(
    s: Stored, how: str, output: Any, dataset: str = "ashe", **kw: Any
) -> tuple[AccessDenied, set[str]]:
    """Submit as rita, refused: the refusal, and the reason codes of its audit event (the
    only thing recorded)."""
    before = s.world.reg.snapshot()
    with pytest.raises(AccessDenied) as refused:
        SUBMIT[how](s, output, **kw)
    after = s.world.reg.changes(before)
    assert after == {"audit_log": 1} or set(after) <= {"audit_log", "audit_checkpoints"}
    assert after.get("audit_log") == 1
    with s.tx() as tx:
        event = tx.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert event is not None
        assert (event.action, event.actor, event.outcome, event.area, event.dataset) == (
            "access.decide",
            "rita",
            "denied",
            AREA,
            dataset,
        )
        details = json.loads(event.details_text)
    assert details["allowed"] is False and "submit" in details["for"]
    assert refused.value.hint
    return refused.value, {r["code"] for r in details["reasons"]}


@pytest.mark.parametrize("how", ["stored", "declared"])
def test_a_researcher_whose_accreditation_expired_cannot_submit(stored: Stored, how: str) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=10))
    _project(stored)
    output = _made(stored)
    refused, codes = _refused(stored, how, output, today=LATER)
    assert codes == {ReasonCode.ACCREDITATION_NOT_VALID.value}
    assert "accreditation" in str(refused)


@pytest.mark.parametrize("how", ["stored", "declared"])
def test_a_researcher_whose_project_ended_cannot_submit(stored: Stored, how: str) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    _project(stored, end=DAY + timedelta(days=10))
    output = _made(stored)
    # no project named: none of hers is active, so none is taken
    refused, codes = _refused(stored, how, output, today=LATER)
    assert ReasonCode.NO_ACTIVE_PROJECT.value in codes
    assert "--project" in (refused.hint or "")
    # named: it is the one that ended
    named = replace(CONTEXT, project="P-1")
    refused, codes = _refused(stored, how, output, today=LATER, context=named)
    assert codes == {ReasonCode.NO_ACTIVE_PROJECT.value}
    assert "P-1 is not active" in str(refused)


@pytest.mark.parametrize("how", ["stored", "declared"])
def test_a_researcher_whose_project_was_closed_cannot_submit(stored: Stored, how: str) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    _project(stored)
    output = _made(stored)
    stored.world.reg.act("iris", projects.close_project, "P-1", "stopped early")
    _, codes = _refused(stored, how, output)
    assert ReasonCode.NO_ACTIVE_PROJECT.value in codes


@pytest.mark.parametrize("how", ["stored", "declared"])
def test_a_researcher_without_a_project_covering_the_dataset_cannot_submit(
    stored: Stored, how: str
) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    stored.add_dataset("other", PAY)
    _project(stored, datasets=("other",))  # active, hers, but not over 'ashe'
    output = _made(stored)
    _refused(stored, how, output)
    named = replace(CONTEXT, project="P-1")
    _, codes = _refused(stored, how, output, context=named)
    assert codes == {ReasonCode.PROJECT_EXCLUDES_DATASET.value}


@pytest.mark.parametrize("how", ["stored", "declared"])
def test_a_researcher_with_a_valid_accreditation_and_an_active_project_submits(
    stored: Stored, how: str
) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    _project(stored)
    output = _made(stored)
    view = SUBMIT[how](stored, output)  # her only active project over 'ashe' is taken
    assert view.author == "rita"
    with stored.tx() as tx:
        decided = tx.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "access.decide", AuditRecord.actor == "rita")
            .order_by(AuditRecord.seq.desc())
        ).first()
        assert decided is not None and decided.outcome == "allowed"
        assert json.loads(decided.details_text)["project"] == "P-1"


def test_a_researcher_with_two_active_projects_over_the_dataset_names_one(
    stored: Stored,
) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    _project(stored, "P-1")
    _project(stored, "P-2")
    output = _made(stored)
    refused, codes = _refused(stored, "stored", output)
    assert ReasonCode.NO_ACTIVE_PROJECT.value in codes
    assert "P-1" in (refused.hint or "") and "P-2" in (refused.hint or "")
    view = _stored(stored, output, context=replace(CONTEXT, project="P-2"))
    assert view.author == "rita"


def _decisions(s: Stored, login: str) -> int:
    with s.tx() as tx:
        found = tx.scalars(
            select(AuditRecord.seq).where(
                AuditRecord.action == "access.decide", AuditRecord.actor == login
            )
        ).all()
    return len(found)


def test_staff_submit_as_before_without_a_project(stored: Stored) -> None:
    output = _made(stored)
    decided = _decisions(stored, "ada")
    view = stored.submit(output)  # ada, a statistician: no accreditation, no project
    assert view.author == "ada"
    assert _decisions(stored, "ada") == decided  # no researcher decision for staff


def _add_lfs(s: Stored, tmp_path: Path) -> None:
    """Dataset 'lfs' (region, grade) stored in the area."""
    entry = Dataset("lfs", AREA, True, True, True, "survey", "SRSA 2007")
    s.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    path = tmp_path / "incoming" / "lfs.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["region", "grade"])
        w.writerows(("NSEW"[i % 4], f"g{i % 3}") for i in range(240))
    ingest_dataset(s.tx, s.vault, "iris", AREA, path, name="lfs")
    path.unlink()


def _lfs_folder(s: Stored, tmp_path: Path) -> Path:
    """rita reads 'lfs' under P-1 and finalises a session's table of it (what `release
    submit FOLDER` sends)."""
    df = open_dataset_for(s.tx, s.vault, "rita", AREA, "lfs", project_ref="P-1").to_pandas()
    session = Session(suppress=True, area=AREA, dataset="lfs")
    session.crosstab(df.region, df.grade, margins=True)
    return session.finalise(str(tmp_path / "session")) / "tables" / "output_0"


def test_a_researchers_session_folder_goes_under_her_project_and_not_after_it_ended(
    stored: Stored, tmp_path: Path
) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    _add_lfs(stored, tmp_path)
    _project(stored, datasets=("ashe", "lfs"), end=DAY + timedelta(days=10))
    folder = _lfs_folder(stored, tmp_path)
    # refused before the dataset is read again: her project has ended by then
    _, codes = _refused(stored, "folder", folder, dataset="lfs", today=LATER)
    assert ReasonCode.NO_ACTIVE_PROJECT.value in codes
    # today: her only active project over 'lfs' is the one the table is read again under
    view = _folder(stored, folder)
    assert (view.author, view.source_verified) == ("rita", True)
