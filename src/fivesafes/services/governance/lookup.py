"""Find registered things by name, or say clearly that they are not registered."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from fivesafes.errors import NotFoundError
from fivesafes.store.models.governance import AreaRow, CourseRow, DatasetRow, GrantRow, PersonRow

RowT = TypeVar("RowT")


def one_by(
    session: Session,
    model: type[RowT],
    column: InstrumentedAttribute[Any],
    value: object,
    *,
    missing: str,
    hint: str,
) -> RowT:
    """Return the ``model`` row whose ``column`` equals ``value``, or raise NotFoundError."""
    row = session.scalars(select(model).where(column == value)).one_or_none()
    if row is None:
        raise NotFoundError(missing, hint=hint)
    return row


def person_row(session: Session, login: str) -> PersonRow:
    """Return the person with ``login`` or raise NotFoundError."""
    return one_by(
        session,
        PersonRow,
        PersonRow.login,
        login,
        missing=f"no person with login {login!r} is registered",
        hint="check the login with `fivesafes people list`, or register them: "
        "fivesafes people add LOGIN --name NAME",
    )


def course_row(session: Session, name: str) -> CourseRow:
    """Return the course called ``name`` or raise NotFoundError."""
    return one_by(
        session,
        CourseRow,
        CourseRow.name,
        name,
        missing=f"no course called {name!r} is registered",
        hint="see `fivesafes training courses`, or add it: fivesafes training add-course NAME",
    )


def area_row(session: Session, name: str) -> AreaRow:
    """Return the area called ``name`` or raise NotFoundError."""
    return one_by(
        session,
        AreaRow,
        AreaRow.name,
        name,
        missing=f"no restricted area called {name!r}",
        hint="see `fivesafes area list`, or create it: fivesafes area create NAME --owner LOGIN",
    )


def dataset_row(session: Session, name: str) -> DatasetRow:
    """Return the dataset called ``name`` or raise NotFoundError."""
    return one_by(
        session,
        DatasetRow,
        DatasetRow.name,
        name,
        missing=f"no dataset called {name!r} is registered",
        hint="see `fivesafes dataset list`, or register it: "
        "fivesafes dataset add NAME --area AREA ...",
    )


def grant_row(session: Session, grant_id: int) -> GrantRow:
    """Return grant number ``grant_id`` or raise NotFoundError."""
    row = session.get(GrantRow, grant_id)
    if row is None:
        raise NotFoundError(
            f"no grant number {grant_id}", hint="see the numbers in `fivesafes grant list`"
        )
    return row
