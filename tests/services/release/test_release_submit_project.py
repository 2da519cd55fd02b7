"""The project named at submission, and the datasets a submission says it used (both
databases).

A project a staff member names (``--project``) is recorded with the version, so it must be
true: it exists, is active on the day of submission and covers the output's dataset; else
the submission is refused, audited (``release.project_check`` denied) and nothing else is
recorded. A researcher's "datasets used" (``--dataset``) are each decided as a read under
her project: one it does not cover (or no registered dataset at all) refuses the
submission, naming it, audited (``access.decide`` denied for that dataset); a staff
member's, as their read under a grant."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from release_world import CONTEXT
from sqlalchemy import select
from stored_world import PAY, Stored
from test_release_submit_as_researcher import (
    DAY,
    LATER,
    SUBMIT,
    _accredit,
    _made,
    _project,
    stored,
)

from fivesafes.errors import AccessDenied
from fivesafes.governance.access import ReasonCode
from fivesafes.services.release.submitter import STAFF_PROJECT
from fivesafes.services.research import projects
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.release import RequestVersionRow

__all__ = ["stored"]  # the fixture, shared with the researcher's submission tests


def _last_event(s: Stored) -> tuple[AuditRecord, dict[str, Any]]:
    with s.tx() as tx:
        event = tx.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert event is not None
        tx.expunge(event)
    return event, json.loads(event.details_text)


def _refused(s: Stored, how: str, login: str, **kw: Any) -> tuple[AccessDenied, AuditRecord]:
    """Submit ``_made`` as ``login``, refused: the refusal and its audit event (the only
    row recorded)."""
    output = _made(s)
    before = s.world.reg.snapshot()
    with pytest.raises(AccessDenied) as refused:
        SUBMIT[how](s, output, login=login, **kw)
    after = s.world.reg.changes(before)
    assert after.get("audit_log") == 1 and set(after) <= {"audit_log", "audit_checkpoints"}
    event, _ = _last_event(s)
    assert event.outcome == "denied" and event.actor == login
    assert refused.value.hint
    return refused.value, event


def _recorded_project(s: Stored, request_id: int) -> str:
    with s.tx() as tx:
        version = tx.scalars(
            select(RequestVersionRow).where(RequestVersionRow.request_id == request_id)
        ).one()
        return str(json.loads(version.context_json)["project"])


# --- a project a staff member names ---------------------------------------------------


@pytest.mark.parametrize("how", ["stored", "declared"])
def test_staff_naming_a_project_that_does_not_exist_are_refused(stored: Stored, how: str) -> None:
    refused, event = _refused(stored, how, "ada", context=replace(CONTEXT, project="NOPE-1"))
    assert "there is no project NOPE-1" in str(refused)
    assert (event.action, event.subject, event.dataset) == (STAFF_PROJECT, "NOPE-1", "ashe")


@pytest.mark.parametrize("how", ["stored", "declared"])
def test_staff_naming_a_project_not_active_that_day_are_refused(stored: Stored, how: str) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    _project(stored, end=DAY + timedelta(days=10))
    named = replace(CONTEXT, project="P-1")
    refused, event = _refused(stored, how, "ada", context=named, today=LATER)
    assert "project P-1 is not active" in str(refused) and "ended" in str(refused)
    assert event.action == STAFF_PROJECT
    stored.world.reg.act("iris", projects.close_project, "P-1", "stopped early")
    refused, _ = _refused(stored, how, "ada", context=named)
    assert "closed" in str(refused)


@pytest.mark.parametrize("how", ["stored", "declared"])
def test_staff_naming_a_project_not_covering_the_dataset_are_refused(
    stored: Stored, how: str
) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    stored.add_dataset("other", PAY)
    _project(stored, datasets=("other",))
    refused, event = _refused(stored, how, "ada", context=replace(CONTEXT, project="P-1"))
    assert "project P-1 does not cover dataset ashe" in str(refused)
    assert event.action == STAFF_PROJECT


def test_staff_naming_an_active_project_covering_the_dataset_submit_under_it(
    stored: Stored,
) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    _project(stored)  # rita's; ada, staff, need not be a member
    named = replace(CONTEXT, project=" P-1 ")
    view = SUBMIT["stored"](stored, _made(stored), login="ada", context=named)
    assert view.author == "ada"
    with stored.tx() as tx:
        checked = tx.scalars(
            select(AuditRecord.outcome).where(AuditRecord.action == STAFF_PROJECT)
        ).all()
    assert checked == ["allowed"]
    assert _recorded_project(stored, view.id) == "P-1"  # the project checked is recorded


# --- the datasets a researcher's submission says it used --------------------------------


@pytest.mark.parametrize("how", ["stored", "declared"])
def test_a_researcher_naming_a_dataset_her_project_does_not_cover_is_refused(
    stored: Stored, how: str
) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    stored.add_dataset("other", PAY)
    _project(stored)  # over 'ashe' only
    used = replace(CONTEXT, datasets=("ashe", "other"))
    refused, event = _refused(stored, how, "rita", context=used)
    assert "naming dataset other among the datasets used" in str(refused)
    assert "leave out other" in (refused.hint or "")
    assert (event.action, event.dataset) == ("access.decide", "other")
    codes = {r["code"] for r in json.loads(event.details_text)["reasons"]}
    assert codes == {ReasonCode.PROJECT_EXCLUDES_DATASET.value}


def test_a_researcher_naming_a_dataset_that_is_not_registered_is_refused(stored: Stored) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    _project(stored)
    used = replace(CONTEXT, datasets=("ashe", "census-2021"))
    refused, event = _refused(stored, "stored", "rita", context=used)
    assert "census-2021" in str(refused)
    assert (event.action, event.dataset) == ("access.decide", "census-2021")


def test_every_dataset_a_researcher_used_is_decided_and_audited(stored: Stored) -> None:
    _accredit(stored, DAY - timedelta(days=100), DAY + timedelta(days=400))
    stored.add_dataset("other", PAY)
    _project(stored, datasets=("ashe", "other"))
    used = replace(CONTEXT, datasets=("other", " ashe ", "", "other"))
    view = SUBMIT["stored"](stored, _made(stored), context=used)
    assert view.author == "rita"
    with stored.tx() as tx:
        decided = tx.execute(
            select(AuditRecord.dataset, AuditRecord.outcome).where(
                AuditRecord.action == "access.decide", AuditRecord.actor == "rita"
            )
        ).all()
    # the output's dataset, then each other one named once
    assert [tuple(d) for d in decided][-2:] == [("ashe", "allowed"), ("other", "allowed")]
    assert _recorded_project(stored, view.id) == "P-1"


# --- the datasets a staff member's submission says it used ------------------------------


@pytest.mark.parametrize("how", ["stored", "declared"])
def test_staff_naming_a_dataset_that_is_not_registered_are_refused(
    stored: Stored, how: str
) -> None:
    # what the version records as used must be true of its author: staff read under
    # grants, so each dataset named is decided as their read of it
    used = replace(CONTEXT, datasets=("ashe", "census-2021"))
    refused, event = _refused(stored, how, "ada", context=used)
    assert "naming dataset census-2021 among the datasets used" in str(refused)
    assert "leave out census-2021" in (refused.hint or "")
    assert (event.action, event.dataset, event.actor) == ("access.decide", "census-2021", "ada")


def test_every_dataset_a_staff_member_used_is_decided_and_audited(stored: Stored) -> None:
    stored.add_dataset("other", PAY)
    used = replace(CONTEXT, datasets=(" other ", "ashe", "other", ""))
    view = SUBMIT["stored"](stored, _made(stored), login="ada", context=used)
    assert view.author == "ada"
    with stored.tx() as tx:
        version = tx.scalars(
            select(RequestVersionRow).where(RequestVersionRow.request_id == view.id)
        ).one()
        # the names as checked are what the version records
        assert json.loads(version.context_json)["datasets"] == ["other", "ashe"]
    with stored.tx() as tx:
        decided = tx.execute(
            select(AuditRecord.dataset, AuditRecord.outcome).where(
                AuditRecord.action == "access.decide",
                AuditRecord.actor == "ada",
                AuditRecord.dataset == "other",
            )
        ).all()
    assert [tuple(d) for d in decided] == [("other", "allowed")]
