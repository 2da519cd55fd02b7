"""Operations on restricted areas (the register's side; their keys stay in the vault)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from fivesafes.app import Acting, App
from fivesafes.errors import ValidationError
from fivesafes.server.operation import Operation, Params, in_one
from fivesafes.services.governance import areas as area_svc

AreaName = Field(min_length=1, max_length=64)


class NoParams(Params):
    """No parameters."""


class AreaCreate(Params):
    name: str = AreaName
    owner: str = Field(min_length=1, max_length=64)
    courses: list[str] = Field(default_factory=list, max_length=20)
    description: str = Field(default="", max_length=2000)
    withhold_thresholds: bool = False


class AreaCourse(Params):
    name: str = AreaName
    course: str = Field(min_length=1, max_length=200)


class AreaPolicy(Params):
    name: str = AreaName
    withhold: bool | None = None
    max_rows: int | None = Field(default=None, ge=0, le=area_svc.MAX_ROWS_LIMIT)


class AreaRef(Params):
    name: str = AreaName


def _create(app: App, login: str, p: AreaCreate) -> Any:
    return in_one(
        app,
        login,
        lambda a: area_svc.create_area(
            a.session,
            a.actor,
            p.name,
            p.owner,
            tuple(p.courses),
            p.description,
            withhold_thresholds=p.withhold_thresholds,
        ),
    )


def _require_course(app: App, login: str, p: AreaCourse) -> Any:
    return in_one(
        app, login, lambda a: area_svc.require_course(a.session, a.actor, p.name, p.course)
    )


def _set(app: App, login: str, p: AreaPolicy) -> Any:
    if p.withhold is None and p.max_rows is None:
        raise ValidationError(
            "say what to set: --withhold-thresholds, --state-thresholds or --max-rows N",
            hint="see `fivesafes area set --help`",
        )

    def act(a: Acting) -> Any:
        # both in one transaction: either setting refused leaves the other unchanged
        changed = None
        if p.withhold is not None:
            changed = area_svc.set_threshold_policy(a.session, a.actor, p.name, p.withhold)
        if p.max_rows is not None:
            changed = area_svc.set_max_rows(a.session, a.actor, p.name, p.max_rows)
        return changed

    return in_one(app, login, act)


def _show(app: App, login: str, p: AreaRef) -> Any:
    return in_one(app, login, lambda a: area_svc.get_area(a.session, p.name))


def _list(app: App, login: str, _p: NoParams) -> Any:
    return in_one(app, login, lambda a: area_svc.list_areas(a.session))


AREA_OPERATIONS = (
    Operation("area.create", AreaCreate, _create, "Create a restricted area (admins)."),
    Operation("area.require_course", AreaCourse, _require_course, "Require a course."),
    Operation("area.set", AreaPolicy, _set, "Set an area's note policy or row limit."),
    Operation("area.show", AreaRef, _show, "One area."),
    Operation("area.list", NoParams, _list, "Every area."),
)
