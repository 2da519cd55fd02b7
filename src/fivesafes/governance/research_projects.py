"""Approved projects: the state machine as data, proposal validation, who approves.

Change requests on approved projects are in ``research_changes``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from fivesafes.errors import AccessDenied, ValidationError
from fivesafes.governance.research import (
    ROLE_ASSET_OWNER,
    ROLE_HEAD_OF_PROFESSION,
    STATISTICAL_PURPOSE,
)


class ProjectStatus(StrEnum):
    """Life-cycle state of a project (ACTIVE and ENDED are derived from the dates)."""

    PROPOSED = "proposed"
    APPROVED = "approved"  # approved, start date not reached yet
    ACTIVE = "active"  # approved and today lies between start and end (inclusive)
    ENDED = "ended"  # approved but past its end date: close it or extend it
    REJECTED = "rejected"
    CLOSED = "closed"


# Never stored: computed by ``effective_status`` from an APPROVED project's dates.
DERIVED_STATES = frozenset({ProjectStatus.ACTIVE, ProjectStatus.ENDED})


class ProjectAction(StrEnum):
    """Things that move a project between states."""

    APPROVE = "approve"
    REJECT = "reject"
    CLOSE = "close"


class ApproverKind(StrEnum):
    """Who may take an action (checked by ``check_can_decide``)."""

    PROJECT_APPROVER = "project_approver"  # head of profession or owner of every area in scope
    LEAD = "lead"


@dataclass(frozen=True)
class Transition:
    """One allowed move of the project state machine."""

    source: frozenset[ProjectStatus]
    target: ProjectStatus
    who: frozenset[ApproverKind]
    audit_action: str


# The state machine as data: docs and tests read it from here.
PROJECT_TRANSITIONS: dict[ProjectAction, Transition] = {
    ProjectAction.APPROVE: Transition(
        frozenset({ProjectStatus.PROPOSED}),
        ProjectStatus.APPROVED,
        frozenset({ApproverKind.PROJECT_APPROVER}),
        "project.approve",
    ),
    ProjectAction.REJECT: Transition(
        frozenset({ProjectStatus.PROPOSED}),
        ProjectStatus.REJECTED,
        frozenset({ApproverKind.PROJECT_APPROVER}),
        "project.reject",
    ),
    ProjectAction.CLOSE: Transition(
        frozenset({ProjectStatus.APPROVED, ProjectStatus.ACTIVE, ProjectStatus.ENDED}),
        ProjectStatus.CLOSED,
        frozenset({ApproverKind.PROJECT_APPROVER}),
        "project.close",
    ),
}

FINAL_STATES = frozenset({ProjectStatus.REJECTED, ProjectStatus.CLOSED})


def effective_status(stored: ProjectStatus, start: date, end: date, today: date) -> ProjectStatus:
    """The status as of ``today``: an approved project is ACTIVE from start to end, then ENDED."""
    if stored is ProjectStatus.APPROVED and start <= today:
        return ProjectStatus.ACTIVE if today <= end else ProjectStatus.ENDED
    return stored


def is_active(stored: ProjectStatus, start: date, end: date, today: date) -> bool:
    """True when researchers may use the project's data on ``today``."""
    return effective_status(stored, start, end, today) is ProjectStatus.ACTIVE


def state_diagram() -> str:
    """The project state machine as a mermaid diagram (docs/researchers-and-reviews.md)."""
    who = {ApproverKind.PROJECT_APPROVER: "approver", ApproverKind.LEAD: "lead"}
    lines = ["stateDiagram-v2", "    [*] --> proposed: propose (lead)"]
    for action, transition in PROJECT_TRANSITIONS.items():
        by = "/".join(sorted(who[w] for w in transition.who))
        for source in sorted(transition.source):
            lines.append(f"    {source.value} --> {transition.target.value}: {action.value} ({by})")
    lines += [
        "    approved --> active: start date reached",
        "    active --> ended: end date passed",
        "    ended --> active: extension approved",
        "    closed --> [*]",
        "    rejected --> [*]",
    ]
    return "\n".join(lines)


def next_status(current: ProjectStatus, action: ProjectAction) -> ProjectStatus:
    """The state after ``action``, or a ValidationError if the move is not allowed."""
    transition = PROJECT_TRANSITIONS[action]
    if current not in transition.source:
        allowed = ", ".join(sorted(s.value for s in transition.source))
        raise ValidationError(
            f"cannot {action.value} a project that is {current.value}",
            hint=f"only a project that is {allowed} can be {action.value}d"
            if action is not ProjectAction.CLOSE
            else f"only a project that is {allowed} can be closed",
        )
    return transition.target


# \Z, not $: $ also matches before a final newline, which would let "name\n" through.
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{1,39}\Z")


@dataclass(frozen=True)
class MemberFacts:
    """What decides whether a person may be on a project team."""

    login: str
    active: bool
    is_staff: bool
    accreditation_valid: bool


@dataclass(frozen=True)
class ProjectProposal:
    """A project as proposed, before approval."""

    reference: str
    title: str
    purpose: str
    purpose_category: str
    public_benefit: str
    datasets: tuple[str, ...]
    start: date
    end: date
    lead: str
    members: tuple[str, ...] = ()


def check_team_member(member: MemberFacts) -> None:
    """Raise ValidationError unless the person may join a project team."""
    if not member.active:
        raise ValidationError(
            f"{member.login} has left and cannot join a project",
            hint="remove them from the team",
        )
    if not (member.is_staff or member.accreditation_valid):
        raise ValidationError(
            f"{member.login} is neither staff nor an approved researcher with a valid "
            "accreditation",
            hint="record their accreditation first: "
            f"fivesafes researcher accredit {member.login} ...",
        )


def validate_dates(start: date, end: date) -> None:
    """Raise ValidationError unless the project ends after it starts."""
    if end <= start:
        raise ValidationError(
            f"the project ends on {end}, which is not after its start {start}",
            hint="give --end later than --start",
        )


def validate_proposal(proposal: ProjectProposal, team: Iterable[MemberFacts]) -> None:
    """Raise ValidationError at the first rule the proposal breaks."""
    if not _REFERENCE.match(proposal.reference):
        raise ValidationError(
            f"project reference {proposal.reference!r} is not valid",
            hint="use 2-40 letters, digits, '.', '_', '/' or '-', e.g. PRJ-2026-001",
        )
    for name, text in (
        ("title", proposal.title),
        ("purpose", proposal.purpose),
        ("public-benefit statement", proposal.public_benefit),
    ):
        if not text.strip():
            raise ValidationError(
                f"the project {name} is empty", hint=f"give the {name}; reviewers rely on it"
            )
    if proposal.purpose_category.strip().lower() != STATISTICAL_PURPOSE:
        raise ValidationError(
            f"purpose {proposal.purpose_category!r} is not lawful here: confidential data "
            "may be used for statistical purposes only",
            hint="a project must serve statistical purposes (--purpose-category statistical)",
        )
    if not proposal.datasets:
        raise ValidationError(
            "a project needs at least one dataset in scope", hint="give --dataset NAME"
        )
    if len(set(proposal.datasets)) != len(proposal.datasets):
        raise ValidationError("a dataset is listed twice", hint="list each dataset once")
    validate_dates(proposal.start, proposal.end)
    if len(set(proposal.members)) != len(proposal.members):
        raise ValidationError("a team member is listed twice", hint="list each member once")
    for member in team:
        check_team_member(member)


@dataclass(frozen=True)
class ActorFacts:
    """Who is acting: login, roles and the restricted areas they are asset owner of."""

    login: str
    roles: frozenset[str]
    owned_areas: frozenset[str] = frozenset()
    active: bool = True


@dataclass(frozen=True)
class ProjectFacts:
    """What the approval rules need to know about a project."""

    reference: str
    status: ProjectStatus
    lead: str
    members: frozenset[str]
    dataset_areas: frozenset[str]  # the restricted areas of the datasets in scope
    start: date
    end: date


def approver_reasons(actor: ActorFacts, project: ProjectFacts) -> tuple[str, ...]:
    """Every reason ``actor`` may not approve or decide on ``project`` (empty: allowed)."""
    reasons: list[str] = []
    if not actor.active:
        reasons.append(f"{actor.login} has left")
    if actor.login == project.lead:
        reasons.append(f"{actor.login} leads project {project.reference} and cannot approve it")
    elif actor.login in project.members:
        reasons.append(f"{actor.login} is a member of project {project.reference}")
    is_hop = ROLE_HEAD_OF_PROFESSION in actor.roles
    owns_all = (
        ROLE_ASSET_OWNER in actor.roles
        and bool(project.dataset_areas)
        and project.dataset_areas <= actor.owned_areas
    )
    if not (is_hop or owns_all):
        missing = sorted(project.dataset_areas - actor.owned_areas)
        reasons.append(
            f"{actor.login} is neither head of profession nor information asset owner of "
            f"every area in scope (missing: {', '.join(missing) or 'none'})"
        )
    return tuple(reasons)


def can_approve(actor: ActorFacts, project: ProjectFacts) -> bool:
    """True when ``actor`` may approve, reject, close or decide changes on ``project``."""
    return not approver_reasons(actor, project)


def check_can_approve(actor: ActorFacts, project: ProjectFacts) -> None:
    """Raise AccessDenied with every reason ``actor`` may not decide on ``project``."""
    reasons = approver_reasons(actor, project)
    if reasons:
        raise AccessDenied(
            f"{actor.login} may not decide on project {project.reference}",
            reasons=reasons,
            hint="ask the head of profession or the information asset owner of the datasets' area",
        )
