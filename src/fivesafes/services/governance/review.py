"""Reviews of access and arrangements (T6.5): gather the facts, compute the findings,
and record that a periodic review was carried out (who, when, the report's hashes)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fivesafes.audit.log import chain_head
from fivesafes.errors import AccessDenied, WorkspaceError
from fivesafes.governance import permissions
from fivesafes.governance.grants import GrantState
from fivesafes.governance.research import (
    SAFE_RESEARCHER_COURSE,
    AccreditationLevel,
    supervisor_ok,
)
from fivesafes.governance.research_projects import (
    ProjectStatus,
)
from fivesafes.governance.review import (
    DEFAULT_WINDOW_DAYS,
    AccreditationFact,
    DeclarationFact,
    GrantFact,
    ProjectFact,
    ReviewFacts,
    ReviewResult,
    TrainingFact,
    review,
)
from fivesafes.governance.roles import Role
from fivesafes.review_report import render_html, render_markdown
from fivesafes.services.context import Actor, now, record, today_or
from fivesafes.services.research.facts import (
    as_json,
    current_accreditation,
    roles_of,
    supervisor_facts,
)
from fivesafes.store.models.governance import (
    AreaRow,
    CompletionRow,
    CourseRow,
    DeclarationVersionRow,
    GrantRow,
    PersonRow,
    SignatureRow,
)
from fivesafes.store.models.research import ProjectRow, ReviewRow

# Who may sign off a periodic review of the arrangements.
REVIEWER_ROLES = frozenset(
    {
        Role.ADMINISTRATOR,
        Role.HEAD_OF_PROFESSION,
        Role.DATA_PROTECTION_OFFICER,
        Role.INFORMATION_ASSET_OWNER,
    }
)


def _open_grants(session: Session) -> list[GrantRow]:
    return list(
        session.scalars(
            select(GrantRow)
            .where(GrantRow.state == GrantState.APPROVED.value)
            .order_by(GrantRow.id)
        ).all()
    )


def _latest_expiries(session: Session) -> dict[tuple[int, int], date]:
    rows = session.execute(
        select(
            CompletionRow.person_id, CompletionRow.course_id, func.max(CompletionRow.expires_on)
        ).group_by(CompletionRow.person_id, CompletionRow.course_id)
    ).all()
    return {(int(p), int(c)): e for p, c, e in rows}


def _self_recorded(session: Session, latest: dict[tuple[int, int], date]) -> set[tuple[int, int]]:
    """(person, course) whose latest completion only the person themselves recorded.

    One recorded by another administrator with the same expiry clears it: that is the
    second pair of eyes the finding asks for.
    """
    rows = session.execute(
        select(
            CompletionRow.person_id,
            CompletionRow.course_id,
            CompletionRow.expires_on,
            CompletionRow.recorded_by,
            PersonRow.login,
        ).join(PersonRow, PersonRow.id == CompletionRow.person_id)
    ).all()
    own: set[tuple[int, int]] = set()
    checked: set[tuple[int, int]] = set()
    for person_id, course_id, expires_on, recorded_by, login in rows:
        key = (int(person_id), int(course_id))
        if latest.get(key) != expires_on:
            continue
        (own if recorded_by == login else checked).add(key)
    return own - checked


def gather_facts(session: Session, today: date) -> ReviewFacts:
    """Read the register into the plain facts the review rules look at."""
    people = session.scalars(select(PersonRow).order_by(PersonRow.login)).all()
    active = [p for p in people if p.status == "active"]
    grants = _open_grants(session)
    grant_facts = tuple(
        GrantFact(
            grant_id=str(g.id),
            person=g.person.login,
            person_active=g.person.status == "active",
            area=g.area.name,
            start=g.start_on,
            end=g.end_on,
        )
        for g in grants
    )

    # Required training: mandatory courses for everyone active, the extra courses of
    # each area they hold a live grant on, and safe-researcher training for researchers.
    courses = session.scalars(select(CourseRow)).all()
    by_name = {c.name: c for c in courses}
    mandatory = [c for c in courses if c.mandatory]
    area_courses: dict[int, list[CourseRow]] = {
        a.id: [ac.course for ac in a.courses] for a in session.scalars(select(AreaRow)).all()
    }
    expiries = _latest_expiries(session)
    self_recorded = _self_recorded(session, expiries)
    training: list[TrainingFact] = []
    for p in active:
        required = {c.id: c for c in mandatory}
        for g in grants:
            if g.person_id == p.id and g.end_on >= today:
                required.update({c.id: c for c in area_courses.get(g.area_id, [])})
        if Role.APPROVED_RESEARCHER.value in roles_of(p) and SAFE_RESEARCHER_COURSE in by_name:
            course = by_name[SAFE_RESEARCHER_COURSE]
            required[course.id] = course
        for course in sorted(required.values(), key=lambda c: c.name):
            key = (p.id, course.id)
            training.append(
                TrainingFact(p.login, course.name, expiries.get(key), key in self_recorded)
            )

    current = session.scalar(select(func.max(DeclarationVersionRow.version)))
    declarations: list[DeclarationFact] = []
    if current is not None:
        signed: dict[int, set[int]] = {}
        for person_id, version in session.execute(
            select(SignatureRow.person_id, SignatureRow.version)
        ).all():
            signed.setdefault(int(person_id), set()).add(int(version))
        for p in active:
            versions = signed.get(p.id, set())
            last = current if current in versions else max(versions, default=None)
            declarations.append(DeclarationFact(p.login, last, int(current)))

    accreditations: list[AccreditationFact] = []
    for p in active:
        if Role.APPROVED_RESEARCHER.value not in roles_of(p):
            continue
        acc = current_accreditation(session, p.id, today)
        if acc is None:
            accreditations.append(AccreditationFact(p.login, None, None, False))
            continue
        sup = supervisor_facts(session, acc.supervisor, today) if acc.supervisor else None
        accreditations.append(
            AccreditationFact(
                p.login,
                acc.level,
                acc.expires_on,
                supervisor_ok(AccreditationLevel(acc.level), sup),
                acc.reference,
            )
        )

    projects = tuple(
        ProjectFact(r.reference, r.lead.login, r.end_on)
        for r in session.scalars(
            select(ProjectRow)
            .where(ProjectRow.status == ProjectStatus.APPROVED.value)
            .order_by(ProjectRow.reference)
        ).all()
    )
    return ReviewFacts(
        grants=grant_facts,
        training=tuple(training),
        declarations=tuple(declarations),
        accreditations=tuple(accreditations),
        projects=projects,
        declaration_published=current is not None,
    )


def review_access(
    session: Session, today: date | None = None, within_days: int = DEFAULT_WINDOW_DAYS
) -> ReviewResult:
    """Every finding of an access review as of ``today`` for the next ``within_days`` days."""
    day = today_or(today)
    return review(gather_facts(session, day), day, within_days)


@dataclass(frozen=True)
class RegisterTotals:
    """The size of what was reviewed, for the report's context."""

    people_active: int
    leavers: int
    grants_open: int
    researchers: int
    projects_live: int
    audit_events: int
    audit_head: str

    def as_rows(self) -> list[tuple[str, int | str]]:
        """(label, value) pairs in display order."""
        return [
            ("Active people", self.people_active),
            ("Leavers", self.leavers),
            ("Approved grants (not revoked)", self.grants_open),
            ("Approved researchers", self.researchers),
            ("Approved projects (not closed)", self.projects_live),
            ("Audit events so far", self.audit_events),
        ]


def register_totals(session: Session) -> RegisterTotals:
    """Count what the review covers, and the audit chain head it was taken against."""
    people = session.scalars(select(PersonRow)).all()
    seq, head = chain_head(session)
    return RegisterTotals(
        people_active=sum(1 for p in people if p.status == "active"),
        leavers=sum(1 for p in people if p.status != "active"),
        grants_open=len(_open_grants(session)),
        researchers=sum(1 for p in people if Role.APPROVED_RESEARCHER.value in roles_of(p)),
        projects_live=int(
            session.scalar(
                select(func.count(ProjectRow.id)).where(
                    ProjectRow.status == ProjectStatus.APPROVED.value
                )
            )
            or 0
        ),
        audit_events=seq,
        audit_head=head,
    )


def check_carry_out_review(actor: Actor) -> None:
    """Raise AccessDenied unless ``actor`` may sign off a periodic review."""
    permissions.check_active(actor.person)
    if not (actor.person.roles & REVIEWER_ROLES):
        raise AccessDenied(
            f"{actor.login} may not carry out the periodic review",
            reasons=(
                "a review is signed off by an administrator, the head of profession, "
                "the data protection officer or an information asset owner",
            ),
            hint="ask one of them to run `fivesafes review report`",
        )


@dataclass(frozen=True)
class ReviewRecord:
    """A periodic review that was carried out and where its report lies."""

    id: int
    carried_out_by: str
    carried_out_at: datetime
    as_of: date
    within_days: int
    findings_total: int
    counts: dict[str, int]
    markdown_path: str
    html_path: str
    markdown_sha256: str
    html_sha256: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return as_json(self)

    def placed(self, markdown: Path, html: Path) -> ReviewRecord:
        """This record with the paths its documents were written to."""
        return replace(self, markdown_path=str(markdown), html_path=str(html))


def write_atomic(path: Path, text: str) -> str:
    """Write ``text`` to ``path`` via a temporary file in the same directory; return its SHA-256."""
    data = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


def report_paths(out_dir: Path, day: date) -> tuple[Path, Path]:
    """Free names for a review's markdown and HTML: an earlier report is never overwritten."""
    number = 1
    while True:
        stem = f"review-{day.isoformat()}" + (f"-{number}" if number > 1 else "")
        md_path, html_path = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
        if not (md_path.exists() or html_path.exists()):
            return md_path, html_path
        number += 1


@dataclass(frozen=True)
class ReviewReport:
    """A recorded periodic review and its two documents, for the caller to keep."""

    record: ReviewRecord
    markdown: str
    html: str


def carry_out_review(
    session: Session,
    actor: Actor,
    out_dir: Path,
    today: date | None = None,
    within_days: int = DEFAULT_WINDOW_DAYS,
) -> ReviewRecord:
    """Produce the periodic review report (markdown and HTML) in ``out_dir`` and record it."""
    check_carry_out_review(actor)
    prepare_report_dir(out_dir)
    md_path, html_path = report_paths(out_dir, today_or(today))
    done = review_report(
        session, actor, str(out_dir.resolve()), today, within_days, (md_path.name, html_path.name)
    )
    write_atomic(md_path, done.markdown)
    write_atomic(html_path, done.html)
    return done.record.placed(md_path, html_path)


def prepare_report_dir(out_dir: Path) -> None:
    """Create the report directory, or say why it cannot be (before anything is recorded)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(
            f"cannot create the report directory {out_dir}: {exc.strerror}",
            hint="give --out a directory you can write to",
        ) from None


def review_report(
    session: Session,
    actor: Actor,
    location: str,
    today: date | None = None,
    within_days: int = DEFAULT_WINDOW_DAYS,
    names: tuple[str, str] | None = None,
) -> ReviewReport:
    """Render the periodic review and record it (hashes, who, when) without writing a file.

    The documents go back to the caller, who keeps them where it chose (``location``, a
    label recorded as given): a server never writes to a path a client names.
    """
    check_carry_out_review(actor)
    day = today_or(today)
    result = review_access(session, day, within_days)
    totals = register_totals(session)
    at = now()
    markdown = render_markdown(result, totals, reviewer=actor.login, generated_at=at)
    html = render_html(result, totals, reviewer=actor.login, generated_at=at)
    md_hash = hashlib.sha256(markdown.encode("utf-8")).hexdigest()
    html_hash = hashlib.sha256(html.encode("utf-8")).hexdigest()
    md_name, html_name = names or (f"review-{day.isoformat()}.md", f"review-{day.isoformat()}.html")
    counts = {c.value: n for c, n in result.counts().items()}
    row = ReviewRow(
        carried_out_by=actor.login,
        carried_out_at=at,
        as_of=day,
        within_days=within_days,
        findings_total=len(result.findings),
        counts=counts,
        markdown_sha256=md_hash,
        html_sha256=html_hash,
        location=location,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor.login,
        "review.record",
        subject=str(row.id),
        details={
            "as_of": day.isoformat(),
            "within_days": within_days,
            "findings": len(result.findings),
            "counts": {k: v for k, v in counts.items() if v},
            "markdown": md_name,
            "markdown_sha256": md_hash,
            "html": html_name,
            "html_sha256": html_hash,
            "audit_head": totals.audit_head,
        },
    )
    rec = ReviewRecord(
        id=row.id,
        carried_out_by=actor.login,
        carried_out_at=at,
        as_of=day,
        within_days=within_days,
        findings_total=len(result.findings),
        counts=counts,
        markdown_path=md_name,
        html_path=html_name,
        markdown_sha256=md_hash,
        html_sha256=html_hash,
    )
    return ReviewReport(rec, markdown, html)


def list_reviews(session: Session) -> list[ReviewRow]:
    """Every recorded review, newest first."""
    return list(session.scalars(select(ReviewRow).order_by(ReviewRow.carried_out_at.desc())).all())
