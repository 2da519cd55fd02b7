"""Approved researchers and approved projects: the pure rules.

Accreditation validity, the project state machine (as data), change requests and
who may approve what. No database here: services gather plain facts, call these
functions, and record the outcome with its audit event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from fivesafes.errors import AccessDenied, ValidationError
from fivesafes.governance.roles import Role

ROLE_RESEARCHER = Role.APPROVED_RESEARCHER
ROLE_HEAD_OF_PROFESSION = Role.HEAD_OF_PROFESSION
ROLE_ASSET_OWNER = Role.INFORMATION_ASSET_OWNER

SAFE_RESEARCHER_COURSE = "Safe researcher training"
STATISTICAL_PURPOSE = "statistical"


class AccreditationLevel(StrEnum):
    """How far an accrediting body trusts a researcher."""

    FULL = "full"
    PROVISIONAL = "provisional"


# Maximum life of an accreditation, in years (ONS/UKSA Digital Economy Act pattern).
ACCREDITATION_YEARS: dict[AccreditationLevel, int] = {
    AccreditationLevel.FULL: 5,
    AccreditationLevel.PROVISIONAL: 3,
}


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def default_expiry(level: AccreditationLevel, granted: date) -> date:
    """The last valid day of an accreditation of ``level`` granted on ``granted``."""
    return add_years(granted, ACCREDITATION_YEARS[level]) - timedelta(days=1)


def parse_level(text: str) -> AccreditationLevel:
    """Read an accreditation level, or raise a ValidationError naming the choices."""
    try:
        return AccreditationLevel(text.strip().lower())
    except ValueError:
        choices = ", ".join(level.value for level in AccreditationLevel)
        raise ValidationError(
            f"unknown accreditation level {text!r}", hint=f"use one of: {choices}"
        ) from None


@dataclass(frozen=True)
class Accreditation:
    """A researcher's accreditation as recorded from the accrediting body."""

    researcher: str  # login
    body: str
    reference: str
    level: AccreditationLevel
    granted: date
    expires: date  # the last valid day, as decide_access reads it
    supervisor: str | None = None  # login of the named supervisor (provisional only)

    def valid_on(self, today: date) -> bool:
        """True when the accreditation counts on ``today`` (both ends inclusive)."""
        return self.granted <= today <= self.expires


def validate_accreditation(acc: Accreditation) -> None:
    """Raise ValidationError unless the accreditation record is well formed."""
    if not acc.body.strip():
        raise ValidationError(
            "the accrediting body is empty", hint="give --body, e.g. 'UK Statistics Authority'"
        )
    if not acc.reference.strip():
        raise ValidationError(
            "the accreditation reference is empty",
            hint="give --reference as printed on the accreditation letter",
        )
    if acc.expires < acc.granted:
        raise ValidationError(
            f"accreditation expires on {acc.expires}, before it was granted ({acc.granted})",
            hint="give an expiry date after the grant date, or leave --expires out for the default",
        )
    limit = default_expiry(acc.level, acc.granted)
    if acc.expires > limit:
        raise ValidationError(
            f"a {acc.level.value} accreditation lasts at most "
            f"{ACCREDITATION_YEARS[acc.level]} years (until {limit}), not until {acc.expires}",
            hint="use the expiry date on the accreditation letter, at most the maximum",
        )
    if acc.level is AccreditationLevel.PROVISIONAL:
        if not acc.supervisor:
            raise ValidationError(
                "a provisional accreditation needs a named supervisor",
                hint="give --supervisor LOGIN: a fully accredited researcher or staff member",
            )
        if acc.supervisor == acc.researcher:
            raise ValidationError(
                "a researcher cannot supervise themselves",
                hint="name another person as --supervisor",
            )
    elif acc.supervisor is not None:
        raise ValidationError(
            "only a provisional accreditation has a supervisor",
            hint="leave --supervisor out for a full accreditation",
        )


def is_staff(roles: Iterable[str]) -> bool:
    """True when a person holds any role besides approved researcher (i.e. is staff)."""
    return any(role != ROLE_RESEARCHER for role in roles)


@dataclass(frozen=True)
class SupervisorFacts:
    """What is known about a named supervisor on the day of a decision."""

    login: str
    active: bool
    is_staff: bool
    full_accreditation_valid: bool


def supervisor_ok(level: AccreditationLevel | None, supervisor: SupervisorFacts | None) -> bool:
    """True when the accreditation needs no supervisor or has a supervisor who still qualifies."""
    if level is AccreditationLevel.FULL:
        return True
    if level is None or supervisor is None:
        return False
    return supervisor.active and (supervisor.is_staff or supervisor.full_accreditation_valid)


def check_supervisor(supervisor: SupervisorFacts) -> None:
    """Raise ValidationError unless the person may supervise a provisional researcher."""
    if not supervisor.active:
        raise ValidationError(
            f"{supervisor.login} has left and cannot supervise",
            hint="name an active supervisor",
        )
    if not (supervisor.is_staff or supervisor.full_accreditation_valid):
        raise ValidationError(
            f"{supervisor.login} is neither staff nor a fully accredited researcher",
            hint="a supervisor must hold a valid full accreditation or be a member of staff",
        )


# ---------------------------------------------------------------------------
# Projects


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


_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{1,39}$")


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
