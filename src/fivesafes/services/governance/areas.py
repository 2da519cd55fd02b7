"""Create restricted areas, set the extra training they require and their methods-note policy."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import ConflictError, ValidationError
from fivesafes.governance import permissions
from fivesafes.governance.areas import Area, validate_name
from fivesafes.services.context import Actor, now, person_of, record
from fivesafes.services.governance.lookup import area_row, course_row, person_row
from fivesafes.store.models.governance import AreaCourseRow, AreaRow


def area_of(row: AreaRow) -> Area:
    """Return the domain view of an area row."""
    return Area(
        row.name,
        row.owner.login,
        frozenset(c.course.name for c in row.courses),
        withhold_thresholds=row.withhold_thresholds,
        max_rows=row.max_rows or 0,
    )


def create_area(
    session: Session,
    actor: Actor,
    name: str,
    owner: str,
    required_courses: Iterable[str] = (),
    description: str = "",
    *,
    withhold_thresholds: bool = False,
) -> Area:
    """Create a restricted area owned by an information asset owner (administrators only)."""
    permissions.check_administer(actor.person)
    validate_name("area", name)
    if session.scalars(select(AreaRow.id).where(AreaRow.name == name)).first() is not None:
        raise ConflictError(f"area {name!r} already exists", hint="see `fivesafes area list`")
    owner_row = person_row(session, owner)
    permissions.check_own_area(person_of(owner_row))
    courses = [course_row(session, c) for c in dict.fromkeys(required_courses)]
    row = AreaRow(
        name=name,
        owner=owner_row,
        description=description,
        created_at=now(),
        withhold_thresholds=withhold_thresholds,
    )
    row.courses = [AreaCourseRow(course=c) for c in courses]
    session.add(row)
    session.flush()
    area = area_of(row)
    record(
        session,
        actor.login,
        "area.create",
        area=name,
        details={
            "owner": owner,
            "required_courses": sorted(area.required_courses),
            "withhold_thresholds": withhold_thresholds,
        },
    )
    return area


def require_course(session: Session, actor: Actor, area: str, course: str) -> Area:
    """Add ``course`` to the courses ``area`` requires (administrators only)."""
    permissions.check_administer(actor.person)
    row = area_row(session, area)
    crow = course_row(session, course)
    if any(c.course_id == crow.id for c in row.courses):
        raise ConflictError(f"area {area} already requires {course!r}", hint="nothing to change")
    row.courses.append(AreaCourseRow(course=crow))
    session.flush()
    record(session, actor.login, "area.require_course", area=area, details={"course": course})
    return area_of(row)


def set_threshold_policy(session: Session, actor: Actor, area: str, withhold: bool) -> Area:
    """Set whether ``area``'s methods notes withhold exact thresholds (administrators only)."""
    permissions.check_administer(actor.person)
    row = area_row(session, area)
    if row.withhold_thresholds == withhold:
        state = "withholds" if withhold else "states"
        raise ConflictError(f"area {area} already {state} thresholds", hint="nothing to change")
    row.withhold_thresholds = withhold
    session.flush()
    record(
        session,
        actor.login,
        "area.set_threshold_policy",
        area=area,
        details={"withhold_thresholds": withhold, "was": not withhold},
    )
    return area_of(row)


# Above this an area would show whole datasets: a copy belongs in a release, not a screen.
MAX_ROWS_LIMIT = 100_000


def set_max_rows(session: Session, actor: Actor, area: str, max_rows: int) -> Area:
    """Set how many rows of a query result ``area`` may show (administrators only).

    0 (the default) shows summaries of a few groups and no rows; N lets any result of
    at most N rows be shown, each showing audited with its row count and hash.
    """
    permissions.check_administer(actor.person)
    if not 0 <= max_rows <= MAX_ROWS_LIMIT:
        raise ValidationError(
            f"--max-rows {max_rows} is outside 0..{MAX_ROWS_LIMIT:,}",
            hint="0 shows no rows (summaries only); rows beyond that leave through a release",
        )
    row = area_row(session, area)
    was = row.max_rows or 0
    if was == max_rows:
        raise ConflictError(
            f"area {area} already shows at most {max_rows} rows", hint="nothing to change"
        )
    row.max_rows = max_rows
    session.flush()
    record(
        session,
        actor.login,
        "area.set_max_rows",
        area=area,
        details={"max_rows": max_rows, "was": was},
    )
    return area_of(row)


def get_area(session: Session, name: str) -> Area:
    """The area called ``name``."""
    return area_of(area_row(session, name))


def list_areas(session: Session) -> list[Area]:
    """Every restricted area, by name."""
    return [area_of(r) for r in session.scalars(select(AreaRow).order_by(AreaRow.name))]
