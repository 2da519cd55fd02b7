"""Reviews of access and arrangements (Code of Practice T6.5): the pure rules.

From plain facts about grants, training, declarations, accreditations and
projects, compute what a reviewer must look at today: what is overdue or lapsed,
and what falls due within the review window. Services gather the facts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from fivesafes.errors import ValidationError
from fivesafes.governance.review_categories import CATEGORIES, Category, CategoryInfo, Severity

__all__ = [
    "CATEGORIES",
    "DEFAULT_WINDOW_DAYS",
    "MAX_WINDOW_DAYS",
    "AccreditationFact",
    "Category",
    "CategoryInfo",
    "DeclarationFact",
    "Finding",
    "GrantFact",
    "ProjectFact",
    "ReviewFacts",
    "ReviewResult",
    "Severity",
    "TrainingFact",
    "check_window",
    "review",
]

MAX_WINDOW_DAYS = 3660
DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class GrantFact:
    """A grant that is approved (not revoked, rejected or recorded as expired)."""

    grant_id: str
    person: str
    person_active: bool
    area: str
    start: date
    end: date  # last day of access, inclusive


@dataclass(frozen=True)
class TrainingFact:
    """The latest expiry of one course an active person is required to hold."""

    person: str
    course: str
    expires: date | None  # None: never completed; the expiry day is the first day without it
    # the latest completion was recorded by the person themselves (a sole administrator)
    self_recorded: bool = False


@dataclass(frozen=True)
class DeclarationFact:
    """The declaration version an active person last signed."""

    person: str
    signed_version: int | None
    current_version: int


@dataclass(frozen=True)
class AccreditationFact:
    """An active approved researcher's current accreditation (level None: none recorded)."""

    person: str
    level: str | None
    expires: date | None  # last valid day, inclusive
    supervisor_ok: bool
    reference: str | None = None


@dataclass(frozen=True)
class ProjectFact:
    """An approved (not closed) project."""

    reference: str
    lead: str
    end: date  # last day of the project, inclusive


@dataclass(frozen=True)
class ReviewFacts:
    """Everything a review looks at, gathered by the service."""

    grants: tuple[GrantFact, ...] = ()
    training: tuple[TrainingFact, ...] = ()
    declarations: tuple[DeclarationFact, ...] = ()
    accreditations: tuple[AccreditationFact, ...] = ()
    projects: tuple[ProjectFact, ...] = ()
    declaration_published: bool = True  # False: nobody can sign, so every access is refused


@dataclass(frozen=True)
class Finding:
    """One thing a reviewer must act on, with the record it comes from."""

    category: Category
    subject: str  # the person's login or the project reference
    item: str  # the grant id, course, declaration version, accreditation or project
    due: date | None  # the day it lapses or lapsed
    days: int | None  # days left (>= 0) or overdue (< 0)
    detail: str

    @property
    def severity(self) -> Severity:
        """How soon the finding needs action."""
        return CATEGORIES[self.category].severity

    @property
    def remedy(self) -> str:
        """What to do about it."""
        return CATEGORIES[self.category].remedy


@dataclass(frozen=True)
class ReviewResult:
    """All findings of one review as of a day, for a window of days ahead."""

    as_of: date
    within_days: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def counts(self) -> dict[Category, int]:
        """Number of findings per category, every category present (zero included)."""
        found = Counter(f.category for f in self.findings)
        return {category: found.get(category, 0) for category in Category}

    def worst(self) -> Severity | None:
        """The most serious severity found, or None when there is nothing to do."""
        return max((f.severity for f in self.findings), default=None)

    def by_category(self, category: Category) -> tuple[Finding, ...]:
        """The findings of one category, in report order."""
        return tuple(f for f in self.findings if f.category is category)


def check_window(days: int) -> int:
    """Return ``days`` if it is a usable review window, else raise ValidationError."""
    if not 0 <= days <= MAX_WINDOW_DAYS:
        raise ValidationError(
            f"review window of {days} days is out of range",
            hint=f"give --within between 0 and {MAX_WINDOW_DAYS} days (default 30)",
        )
    return days


def _grants(facts: tuple[GrantFact, ...], today: date, horizon: date) -> list[Finding]:
    out: list[Finding] = []
    for g in facts:
        days = (g.end - today).days
        if not g.person_active and g.end >= today:
            out.append(
                Finding(
                    Category.LEAVER_WITH_GRANT,
                    g.person,
                    g.grant_id,
                    g.end,
                    days,
                    f"{g.person} has left but grant {g.grant_id} to area {g.area} "
                    f"runs until {g.end}",
                )
            )
        elif g.end < today:
            out.append(
                Finding(
                    Category.GRANT_OVERDUE,
                    g.person,
                    g.grant_id,
                    g.end,
                    days,
                    f"grant {g.grant_id} of {g.person} to area {g.area} ended on {g.end} "
                    f"({-days} days ago)",
                )
            )
        elif g.person_active and g.end <= horizon:
            out.append(
                Finding(
                    Category.GRANT_DUE,
                    g.person,
                    g.grant_id,
                    g.end,
                    days,
                    f"grant {g.grant_id} of {g.person} to area {g.area} ends on {g.end} "
                    f"(in {days} days)",
                )
            )
    return out


def _training(facts: tuple[TrainingFact, ...], today: date, horizon: date) -> list[Finding]:
    out: list[Finding] = []
    for t in facts:
        if t.expires is None:
            out.append(
                Finding(
                    Category.TRAINING_MISSING,
                    t.person,
                    t.course,
                    None,
                    None,
                    f"{t.person} has never completed {t.course!r}",
                )
            )
            continue
        days = (t.expires - today).days
        if t.expires <= today:
            out.append(
                Finding(
                    Category.TRAINING_EXPIRED,
                    t.person,
                    t.course,
                    t.expires,
                    days,
                    f"{t.person}'s {t.course!r} expired on {t.expires}",
                )
            )
        elif t.expires <= horizon:
            out.append(
                Finding(
                    Category.TRAINING_EXPIRING,
                    t.person,
                    t.course,
                    t.expires,
                    days,
                    f"{t.person}'s {t.course!r} expires on {t.expires} (in {days} days)",
                )
            )
        if t.self_recorded and t.expires > today:
            out.append(
                Finding(
                    Category.TRAINING_SELF_RECORDED,
                    t.person,
                    t.course,
                    None,
                    None,
                    f"{t.person} recorded their own {t.course!r} (the only administrator "
                    "then): nobody else has checked its evidence",
                )
            )
    return out


def _declarations(facts: tuple[DeclarationFact, ...], published: bool) -> list[Finding]:
    out: list[Finding] = []
    if not published:
        out.append(
            Finding(
                Category.NO_DECLARATION,
                "everyone",
                "none",
                None,
                None,
                "no confidentiality declaration has been published, so every access is refused",
            )
        )
    for d in facts:
        if d.signed_version != d.current_version:
            last = f"last signed version {d.signed_version}" if d.signed_version else "never signed"
            out.append(
                Finding(
                    Category.DECLARATION_UNSIGNED,
                    d.person,
                    f"version {d.current_version}",
                    None,
                    None,
                    f"{d.person} has not signed declaration version {d.current_version} ({last})",
                )
            )
    return out


def _accreditations(
    facts: tuple[AccreditationFact, ...], today: date, horizon: date
) -> list[Finding]:
    out: list[Finding] = []
    for a in facts:
        item = a.reference or "none"
        if a.level is None or a.expires is None:
            out.append(
                Finding(
                    Category.ACCREDITATION_LAPSED,
                    a.person,
                    item,
                    None,
                    None,
                    f"{a.person} is an approved researcher with no accreditation recorded",
                )
            )
            continue
        days = (a.expires - today).days
        if a.expires < today:
            out.append(
                Finding(
                    Category.ACCREDITATION_LAPSED,
                    a.person,
                    item,
                    a.expires,
                    days,
                    f"{a.person}'s {a.level} accreditation {item} lapsed (valid until {a.expires})",
                )
            )
        elif a.expires <= horizon:
            out.append(
                Finding(
                    Category.ACCREDITATION_EXPIRING,
                    a.person,
                    item,
                    a.expires,
                    days,
                    f"{a.person}'s {a.level} accreditation {item} is valid until {a.expires} "
                    f"(in {days} days)",
                )
            )
        if not a.supervisor_ok and a.expires >= today:
            out.append(
                Finding(
                    Category.SUPERVISOR_MISSING,
                    a.person,
                    item,
                    None,
                    None,
                    f"{a.person}'s {a.level} accreditation {item} has no valid supervisor",
                )
            )
    return out


def _projects(facts: tuple[ProjectFact, ...], today: date, horizon: date) -> list[Finding]:
    out: list[Finding] = []
    for p in facts:
        days = (p.end - today).days
        if p.end < today:
            out.append(
                Finding(
                    Category.PROJECT_PAST_END,
                    p.reference,
                    p.reference,
                    p.end,
                    days,
                    f"project {p.reference} (lead {p.lead}) ended on {p.end} but is not closed",
                )
            )
        elif p.end <= horizon:
            out.append(
                Finding(
                    Category.PROJECT_ENDING,
                    p.reference,
                    p.reference,
                    p.end,
                    days,
                    f"project {p.reference} (lead {p.lead}) ends on {p.end} (in {days} days)",
                )
            )
    return out


_ORDER = {category: index for index, category in enumerate(Category)}


def review(facts: ReviewFacts, today: date, within_days: int = DEFAULT_WINDOW_DAYS) -> ReviewResult:
    """Compute every review finding as of ``today`` for the next ``within_days`` days."""
    check_window(within_days)
    horizon = today + timedelta(days=within_days)
    findings = [
        *_grants(facts.grants, today, horizon),
        *_training(facts.training, today, horizon),
        *_declarations(facts.declarations, facts.declaration_published),
        *_accreditations(facts.accreditations, today, horizon),
        *_projects(facts.projects, today, horizon),
    ]
    findings.sort(
        key=lambda f: (
            -f.severity,
            _ORDER[f.category],
            f.due or date.min,
            f.subject,
            f.item,
        )
    )
    return ReviewResult(today, within_days, tuple(findings))
