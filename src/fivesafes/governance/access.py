"""The access decision: facts in, decision out, with every reason that denies.

``decide_access`` is pure. Services gather the facts from the register (and from
RESEARCH's ``researcher_facts`` for approved researchers), call it, and write the
decision to the audit log whatever it says. Deny by default: a fact that is missing
or unknown counts as failing its condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from fivesafes.governance.grants import STATISTICAL, GrantState, is_active


class ReasonCode(StrEnum):
    """Stable codes of the reasons that deny access (for scripts and tests)."""

    UNKNOWN_PERSON = "unknown_person"
    PERSON_NOT_ACTIVE = "person_not_active"
    UNKNOWN_DATASET = "unknown_dataset"
    TRAINING_NOT_VALID = "training_not_valid"
    NO_DECLARATION_PUBLISHED = "no_declaration_published"
    DECLARATION_NOT_SIGNED = "declaration_not_signed"
    NO_ACTIVE_GRANT = "no_active_grant"
    PURPOSE_NOT_STATISTICAL = "purpose_not_statistical"
    RESEARCHER_FACTS_UNAVAILABLE = "researcher_facts_unavailable"
    ACCREDITATION_NOT_VALID = "accreditation_not_valid"
    SUPERVISOR_MISSING = "supervisor_missing"
    SAFE_RESEARCHER_TRAINING_NOT_VALID = "safe_researcher_training_not_valid"
    NO_ACTIVE_PROJECT = "no_active_project"
    PROJECT_EXCLUDES_PERSON = "project_excludes_person"
    PROJECT_EXCLUDES_DATASET = "project_excludes_dataset"


ACCREDITATION_LEVELS = frozenset({"full", "provisional"})


@dataclass(frozen=True)
class Reason:
    """One reason access is denied: a stable code and a sentence for people."""

    code: ReasonCode
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ResearcherFacts:
    """What the approved-researcher checks need (gathered by RESEARCH's services)."""

    accreditation_level: str | None
    accreditation_expires: date | None
    supervisor_ok: bool
    project_ref: str | None
    project_active: bool
    project_includes_person: bool
    project_includes_dataset: bool
    safe_researcher_training_valid: bool


@dataclass(frozen=True)
class TrainingFact:
    """A course the access requires and the person's latest expiry for it (None: never done)."""

    course: str
    expires_on: date | None
    completed_on: date | None = None


@dataclass(frozen=True)
class GrantFact:
    """A grant the person holds on some area."""

    area: str
    state: GrantState
    start_on: date
    end_on: date


@dataclass(frozen=True)
class AccessFacts:
    """Everything the access decision looks at; missing facts deny."""

    person: str  # login as asked for
    dataset: str  # name as asked for
    purpose: str
    person_known: bool = False
    person_active: bool = False
    approved_researcher: bool = False
    dataset_area: str | None = None  # None: the dataset is not registered
    training: tuple[TrainingFact, ...] = ()  # one per required course
    current_declaration: int | None = None
    signed_declarations: frozenset[int] = frozenset()
    grants: tuple[GrantFact, ...] = ()
    researcher: ResearcherFacts | None = None


@dataclass(frozen=True)
class Decision:
    """Allowed only when no reason denies."""

    allowed: bool
    reasons: tuple[Reason, ...]

    @property
    def codes(self) -> frozenset[ReasonCode]:
        """The codes of the denying reasons."""
        return frozenset(r.code for r in self.reasons)


def _training_valid(fact: TrainingFact, today: date) -> bool:
    if fact.expires_on is None or today >= fact.expires_on:
        return False
    return fact.completed_on is None or fact.completed_on <= today


def _researcher_reasons(facts: AccessFacts, today: date) -> list[Reason]:
    r = facts.researcher
    if r is None:
        return [
            Reason(
                ReasonCode.RESEARCHER_FACTS_UNAVAILABLE,
                f"{facts.person} is an approved researcher but researcher facts are "
                "unavailable (accreditation and project cannot be checked)",
            )
        ]
    out: list[Reason] = []
    if (
        r.accreditation_level not in ACCREDITATION_LEVELS
        or r.accreditation_expires is None
        or today > r.accreditation_expires
    ):
        out.append(
            Reason(
                ReasonCode.ACCREDITATION_NOT_VALID,
                f"{facts.person} has no valid researcher accreditation today",
            )
        )
    if r.accreditation_level == "provisional" and not r.supervisor_ok:
        out.append(
            Reason(
                ReasonCode.SUPERVISOR_MISSING,
                f"{facts.person} is provisionally accredited without a fully accredited supervisor",
            )
        )
    if not r.safe_researcher_training_valid:
        out.append(
            Reason(
                ReasonCode.SAFE_RESEARCHER_TRAINING_NOT_VALID,
                f"{facts.person} has no valid safe researcher training",
            )
        )
    if r.project_ref is None:
        out.append(Reason(ReasonCode.NO_ACTIVE_PROJECT, "no approved project was given"))
    elif not r.project_active:
        out.append(Reason(ReasonCode.NO_ACTIVE_PROJECT, f"project {r.project_ref} is not active"))
    if not r.project_includes_person:
        out.append(
            Reason(
                ReasonCode.PROJECT_EXCLUDES_PERSON,
                f"{facts.person} is not a member of the project",
            )
        )
    if not r.project_includes_dataset:
        out.append(
            Reason(
                ReasonCode.PROJECT_EXCLUDES_DATASET,
                f"dataset {facts.dataset} is not in the project's scope",
            )
        )
    return out


@dataclass(frozen=True)
class PeopleFacts:
    """The people checks alone: who they are, their training, their declaration.

    Everyone who sees confidential values or decides on access (analysts, output
    checkers, information asset owners) must pass these, whatever their role.
    """

    person: str
    person_known: bool = False
    person_active: bool = False
    training: tuple[TrainingFact, ...] = ()  # one per required course
    current_declaration: int | None = None
    signed_declarations: frozenset[int] = frozenset()


def _person_reasons(who: str, known: bool, active: bool) -> list[Reason]:
    if not known:
        return [Reason(ReasonCode.UNKNOWN_PERSON, f"{who} is not a registered person")]
    if not active:
        return [Reason(ReasonCode.PERSON_NOT_ACTIVE, f"{who} is a leaver")]
    return []


def _training_reasons(training: tuple[TrainingFact, ...], today: date) -> list[Reason]:
    reasons = []
    for fact in training:
        if not _training_valid(fact, today):
            when = (
                "never completed"
                if fact.expires_on is None
                else f"expired on {fact.expires_on.isoformat()}"
                if today >= fact.expires_on
                else "not yet valid"
            )
            reasons.append(
                Reason(
                    ReasonCode.TRAINING_NOT_VALID,
                    f"required training {fact.course!r} is not valid ({when})",
                )
            )
    return reasons


def _declaration_reasons(who: str, current: int | None, signed: frozenset[int]) -> list[Reason]:
    if current is None:
        return [
            Reason(
                ReasonCode.NO_DECLARATION_PUBLISHED,
                "no confidentiality declaration has been published",
            )
        ]
    if current not in signed:
        return [
            Reason(
                ReasonCode.DECLARATION_NOT_SIGNED,
                f"{who} has not signed the current declaration (version {current})",
            )
        ]
    return []


def decide_people(facts: PeopleFacts, today: date) -> Decision:
    """Whether ``facts.person`` passes the people checks today (registered, active,
    required training valid, current declaration signed), with every reason if not."""
    reasons = _person_reasons(facts.person, facts.person_known, facts.person_active)
    if facts.person_known:
        reasons += _training_reasons(facts.training, today)
        reasons += _declaration_reasons(
            facts.person, facts.current_declaration, facts.signed_declarations
        )
    return Decision(not reasons, tuple(reasons))


def decide_access(facts: AccessFacts, today: date) -> Decision:
    """Decide whether ``facts.person`` may use ``facts.dataset`` for ``facts.purpose`` today."""
    who, what = facts.person, facts.dataset
    reasons = _person_reasons(who, facts.person_known, facts.person_active)
    if facts.dataset_area is None:
        reasons.append(Reason(ReasonCode.UNKNOWN_DATASET, f"dataset {what} is not registered"))
    if facts.purpose != STATISTICAL:
        reasons.append(
            Reason(
                ReasonCode.PURPOSE_NOT_STATISTICAL,
                f"purpose {facts.purpose!r} is not statistical; confidential data are used "
                "for statistical purposes only",
            )
        )
    if not facts.person_known:
        # Nothing else can be checked for someone who is not in the register.
        return Decision(False, tuple(reasons))
    reasons += _training_reasons(facts.training, today)
    reasons += _declaration_reasons(who, facts.current_declaration, facts.signed_declarations)
    if facts.dataset_area is not None and not any(
        g.area == facts.dataset_area and is_active(g.state, g.start_on, g.end_on, today)
        for g in facts.grants
    ):
        reasons.append(
            Reason(
                ReasonCode.NO_ACTIVE_GRANT,
                f"{who} holds no active grant to area {facts.dataset_area}",
            )
        )
    if facts.approved_researcher:
        reasons.extend(_researcher_reasons(facts, today))
    return Decision(not reasons, tuple(reasons))
