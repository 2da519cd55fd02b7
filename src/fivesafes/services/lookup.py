"""Find registered things by name, or say clearly that they are not registered."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import NotFoundError
from fivesafes.store.models.governance import AreaRow, CourseRow, DatasetRow, GrantRow, PersonRow


def person_row(session: Session, login: str) -> PersonRow:
    """Return the person with ``login`` or raise NotFoundError."""
    row = session.scalars(select(PersonRow).where(PersonRow.login == login)).one_or_none()
    if row is None:
        raise NotFoundError(
            f"no person with login {login!r} is registered",
            hint="check the login with `fivesafes people list`, or register them: "
            "fivesafes people add LOGIN --name NAME",
        )
    return row


def course_row(session: Session, name: str) -> CourseRow:
    """Return the course called ``name`` or raise NotFoundError."""
    row = session.scalars(select(CourseRow).where(CourseRow.name == name)).one_or_none()
    if row is None:
        raise NotFoundError(
            f"no course called {name!r} is registered",
            hint="see `fivesafes training courses`, or add it: fivesafes training add-course NAME",
        )
    return row


def area_row(session: Session, name: str) -> AreaRow:
    """Return the area called ``name`` or raise NotFoundError."""
    row = session.scalars(select(AreaRow).where(AreaRow.name == name)).one_or_none()
    if row is None:
        raise NotFoundError(
            f"no restricted area called {name!r}",
            hint="see `fivesafes area list`, or create it: "
            "fivesafes area create NAME --owner LOGIN",
        )
    return row


def dataset_row(session: Session, name: str) -> DatasetRow:
    """Return the dataset called ``name`` or raise NotFoundError."""
    row = session.scalars(select(DatasetRow).where(DatasetRow.name == name)).one_or_none()
    if row is None:
        raise NotFoundError(
            f"no dataset called {name!r} is registered",
            hint="see `fivesafes dataset list`, or register it: "
            "fivesafes dataset add NAME --area AREA ...",
        )
    return row


def grant_row(session: Session, grant_id: int) -> GrantRow:
    """Return grant number ``grant_id`` or raise NotFoundError."""
    row = session.get(GrantRow, grant_id)
    if row is None:
        raise NotFoundError(
            f"no grant number {grant_id}", hint="see the numbers in `fivesafes grant list`"
        )
    return row
