"""Operations of approved research projects and their change requests."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from fivesafes.app import Acting, App
from fivesafes.governance.research import STATISTICAL_PURPOSE
from fivesafes.governance.research_changes import ChangeKind, ChangeRequest, parse_decision
from fivesafes.governance.research_projects import ProjectAction, ProjectProposal
from fivesafes.server.operation import Operation, Params, Text, in_one
from fivesafes.services.research import projects as svc

Reference = Field(min_length=1, max_length=64)
Names: Any = Field(default_factory=list, max_length=200)
Note = Field(default=None, max_length=2000)


class ProjectPropose(Params):
    reference: str = Reference
    title: str = Text
    purpose: str = Text
    purpose_category: str = Field(default=STATISTICAL_PURPOSE, max_length=64)
    public_benefit: str = Text
    datasets: list[str] = Names
    start: date
    end: date
    lead: str | None = Field(default=None, max_length=64)
    members: list[str] = Names


class ProjectNote(Params):
    reference: str = Reference
    note: str | None = Note


class ProjectReason(Params):
    reference: str = Reference
    reason: str = Text


class ChangeAsk(Params):
    reference: str = Reference
    kind: ChangeKind
    reason: str = Text
    new_end: date | None = None
    add_datasets: list[str] = Names
    remove_datasets: list[str] = Names
    add_members: list[str] = Names
    remove_members: list[str] = Names


class ChangeDecision(Params):
    change_id: int = Field(ge=-(2**31), le=2**31 - 1)
    decision: str = Field(min_length=1, max_length=16)
    note: str | None = Note


class ProjectFilter(Params):
    status: str | None = Field(default=None, max_length=16)


class ReferenceParams(Params):
    reference: str = Reference


def _propose(app: App, login: str, p: ProjectPropose) -> Any:
    def act(a: Acting) -> Any:
        proposal = ProjectProposal(
            reference=p.reference,
            title=p.title,
            purpose=p.purpose,
            purpose_category=p.purpose_category,
            public_benefit=p.public_benefit,
            datasets=tuple(p.datasets),
            start=p.start,
            end=p.end,
            lead=p.lead or a.actor.login,
            members=tuple(p.members),
        )
        return svc.propose_project(a.session, a.actor, proposal)

    return in_one(app, login, act)


def _approve(app: App, login: str, p: ProjectNote) -> Any:
    return in_one(
        app,
        login,
        lambda a: svc.decide_project(
            a.session, a.actor, p.reference, ProjectAction.APPROVE, p.note
        ),
    )


def _reject(app: App, login: str, p: ProjectReason) -> Any:
    return in_one(
        app,
        login,
        lambda a: svc.decide_project(
            a.session, a.actor, p.reference, ProjectAction.REJECT, p.reason
        ),
    )


def _request_change(app: App, login: str, p: ChangeAsk) -> Any:
    def act(a: Acting) -> Any:
        change = ChangeRequest(
            kind=p.kind,
            reason=p.reason,
            new_end=p.new_end,
            add_datasets=tuple(p.add_datasets),
            remove_datasets=tuple(p.remove_datasets),
            add_members=tuple(p.add_members),
            remove_members=tuple(p.remove_members),
        )
        return svc.request_change(a.session, a.actor, p.reference, change)

    return in_one(app, login, act)


def _decide_change(app: App, login: str, p: ChangeDecision) -> Any:
    return in_one(
        app,
        login,
        lambda a: svc.decide_change(
            a.session, a.actor, p.change_id, parse_decision(p.decision), p.note
        ),
    )


def _close(app: App, login: str, p: ProjectReason) -> Any:
    return in_one(
        app, login, lambda a: svc.close_project(a.session, a.actor, p.reference, p.reason)
    )


def _list(app: App, login: str, p: ProjectFilter) -> Any:
    return in_one(app, login, lambda a: svc.list_projects(a.session, status=p.status))


def _show(app: App, login: str, p: ReferenceParams) -> Any:
    return in_one(app, login, lambda a: svc.show_project(a.session, p.reference))


PROJECT_OPERATIONS = (
    Operation("project.propose", ProjectPropose, _propose, "Propose a research project."),
    Operation("project.approve", ProjectNote, _approve, "Approve a proposed project."),
    Operation("project.reject", ProjectReason, _reject, "Reject a proposed project."),
    Operation("project.request_change", ChangeAsk, _request_change, "Ask to change a project."),
    Operation("project.decide_change", ChangeDecision, _decide_change, "Decide a change request."),
    Operation("project.close", ProjectReason, _close, "Close an approved project now."),
    Operation("project.list", ProjectFilter, _list, "Projects with their status today."),
    Operation("project.show", ReferenceParams, _show, "One project, team, scope and changes."),
)
