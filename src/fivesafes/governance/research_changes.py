"""Change requests on approved projects: extend, change scope, change team, close.

Each request moves requested -> approved | rejected, once; who may request and
who may decide each kind lives in :data:`CHANGE_RULES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from fivesafes.errors import AccessDenied, ValidationError
from fivesafes.governance.research_projects import (
    FINAL_STATES,
    ActorFacts,
    ApproverKind,
    ProjectFacts,
    ProjectStatus,
    can_approve,
    check_can_approve,
)


class ChangeKind(StrEnum):
    """Kinds of change request on an approved project."""

    EXTEND = "extend"
    CHANGE_SCOPE = "change-scope"
    CHANGE_TEAM = "change-team"
    CLOSE = "close"


class ChangeStatus(StrEnum):
    """Life-cycle of one change request."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ChangeRule:
    """Who may request and who may decide a kind of change, and its audit actions."""

    requesters: frozenset[ApproverKind]
    deciders: frozenset[ApproverKind]
    open_states: frozenset[ProjectStatus]


_LIVE = frozenset({ProjectStatus.APPROVED, ProjectStatus.ACTIVE, ProjectStatus.ENDED})
_LEAD_OR_APPROVER = frozenset({ApproverKind.LEAD, ApproverKind.PROJECT_APPROVER})
_APPROVER = frozenset({ApproverKind.PROJECT_APPROVER})

CHANGE_RULES: dict[ChangeKind, ChangeRule] = {
    ChangeKind.EXTEND: ChangeRule(_LEAD_OR_APPROVER, _APPROVER, _LIVE),
    ChangeKind.CHANGE_SCOPE: ChangeRule(_LEAD_OR_APPROVER, _APPROVER, _LIVE),
    ChangeKind.CHANGE_TEAM: ChangeRule(_LEAD_OR_APPROVER, _APPROVER, _LIVE),
    ChangeKind.CLOSE: ChangeRule(_LEAD_OR_APPROVER, _APPROVER, _LIVE),
}

# Each change request moves requested -> approved | rejected; nothing else.
CHANGE_TRANSITIONS: dict[ChangeStatus, frozenset[ChangeStatus]] = {
    ChangeStatus.REQUESTED: frozenset({ChangeStatus.APPROVED, ChangeStatus.REJECTED}),
    ChangeStatus.APPROVED: frozenset(),
    ChangeStatus.REJECTED: frozenset(),
}


def check_can_decide_change(actor: ActorFacts, project: ProjectFacts, kind: ChangeKind) -> None:
    """Raise AccessDenied unless ``actor`` may approve or reject a change of ``kind``."""
    rule = CHANGE_RULES[kind]
    if ApproverKind.LEAD in rule.deciders and actor.login == project.lead:
        return
    check_can_approve(actor, project)


def check_can_request_change(actor: ActorFacts, project: ProjectFacts, kind: ChangeKind) -> None:
    """Raise AccessDenied unless ``actor`` may request a change of ``kind``."""
    rule = CHANGE_RULES[kind]
    if ApproverKind.LEAD in rule.requesters and actor.login == project.lead:
        return
    if ApproverKind.PROJECT_APPROVER in rule.requesters and can_approve(actor, project):
        return
    raise AccessDenied(
        f"{actor.login} may not request a {kind.value} change on project {project.reference}",
        reasons=(f"only the project lead ({project.lead}) or an approver may request it",),
        hint="ask the project lead to request the change",
    )


@dataclass(frozen=True)
class ChangeRequest:
    """One requested change with its payload (only the fields of its kind are set)."""

    kind: ChangeKind
    reason: str
    new_end: date | None = None
    add_datasets: tuple[str, ...] = ()
    remove_datasets: tuple[str, ...] = ()
    add_members: tuple[str, ...] = ()
    remove_members: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectState:
    """The parts of a project a change request can alter."""

    reference: str
    status: ProjectStatus
    lead: str
    members: frozenset[str]
    datasets: frozenset[str]
    start: date
    end: date


@dataclass(frozen=True)
class ChangeOutcome:
    """The project's end, scope and team after a change is applied."""

    status: ProjectStatus
    end: date
    datasets: frozenset[str]
    members: frozenset[str]
    added_datasets: frozenset[str] = field(default_factory=frozenset)
    removed_datasets: frozenset[str] = field(default_factory=frozenset)
    added_members: frozenset[str] = field(default_factory=frozenset)
    removed_members: frozenset[str] = field(default_factory=frozenset)


def _no_overlap(adds: tuple[str, ...], removes: tuple[str, ...], what: str) -> None:
    both = sorted(set(adds) & set(removes))
    if both:
        raise ValidationError(
            f"{what} {', '.join(both)} both added and removed", hint="list each one once"
        )


def apply_change(project: ProjectState, change: ChangeRequest) -> ChangeOutcome:
    """Validate ``change`` against ``project`` and return the resulting project."""
    if project.status not in CHANGE_RULES[change.kind].open_states:
        raise ValidationError(
            f"project {project.reference} is {project.status.value}; "
            f"a {change.kind.value} change needs an approved project",
            hint="a closed or rejected project cannot change; propose a new project"
            if project.status in FINAL_STATES
            else "approve the project first",
        )
    if not change.reason.strip():
        raise ValidationError("a change request needs a reason", hint="give --reason TEXT")
    if change.kind is ChangeKind.EXTEND:
        if change.new_end is None:
            raise ValidationError("an extension needs a new end date", hint="give --new-end DATE")
        if change.new_end <= project.end:
            raise ValidationError(
                f"the new end {change.new_end} is not after the current end {project.end}",
                hint="an extension must move the end date later",
            )
        return ChangeOutcome(project.status, change.new_end, project.datasets, project.members)
    if change.kind is ChangeKind.CHANGE_SCOPE:
        if not (change.add_datasets or change.remove_datasets):
            raise ValidationError(
                "a scope change adds or removes datasets",
                hint="give --add-dataset or --remove-dataset",
            )
        _no_overlap(change.add_datasets, change.remove_datasets, "dataset")
        already = sorted(set(change.add_datasets) & project.datasets)
        if already:
            raise ValidationError(
                f"already in scope: {', '.join(already)}", hint="add only new datasets"
            )
        absent = sorted(set(change.remove_datasets) - project.datasets)
        if absent:
            raise ValidationError(
                f"not in scope: {', '.join(absent)}", hint="remove only datasets in scope"
            )
        datasets = (project.datasets | set(change.add_datasets)) - set(change.remove_datasets)
        if not datasets:
            raise ValidationError(
                "the change would leave no dataset in scope", hint="close the project instead"
            )
        return ChangeOutcome(
            project.status,
            project.end,
            frozenset(datasets),
            project.members,
            added_datasets=frozenset(change.add_datasets),
            removed_datasets=frozenset(change.remove_datasets),
        )
    if change.kind is ChangeKind.CHANGE_TEAM:
        if not (change.add_members or change.remove_members):
            raise ValidationError(
                "a team change adds or removes members",
                hint="give --add-member or --remove-member",
            )
        _no_overlap(change.add_members, change.remove_members, "member")
        if project.lead in change.remove_members:
            raise ValidationError(
                f"{project.lead} leads the project and cannot be removed",
                hint="close the project, or propose a new one with another lead",
            )
        already = sorted(set(change.add_members) & (project.members | {project.lead}))
        if already:
            raise ValidationError(
                f"already on the team: {', '.join(already)}", hint="add only new members"
            )
        absent = sorted(set(change.remove_members) - project.members)
        if absent:
            raise ValidationError(
                f"not on the team: {', '.join(absent)}", hint="remove only current members"
            )
        members = (project.members | set(change.add_members)) - set(change.remove_members)
        return ChangeOutcome(
            project.status,
            project.end,
            project.datasets,
            frozenset(members),
            added_members=frozenset(change.add_members),
            removed_members=frozenset(change.remove_members),
        )
    # CLOSE: scope and team stay as they were, for the record.
    return ChangeOutcome(ProjectStatus.CLOSED, project.end, project.datasets, project.members)


def next_change_status(current: ChangeStatus, target: ChangeStatus) -> ChangeStatus:
    """``target`` if a change request may move there from ``current``; else ValidationError."""
    if target not in CHANGE_TRANSITIONS[current]:
        raise ValidationError(
            f"change request is already {current.value}",
            hint="a decided change request is final; make a new request",
        )
    return target


def parse_decision(text: str) -> ChangeStatus:
    """Read 'approve'/'reject' (or 'approved'/'rejected') as a change decision."""
    value = text.strip().lower()
    if value in {"approve", "approved"}:
        return ChangeStatus.APPROVED
    if value in {"reject", "rejected"}:
        return ChangeStatus.REJECTED
    raise ValidationError(f"unknown decision {text!r}", hint="use approve or reject")
