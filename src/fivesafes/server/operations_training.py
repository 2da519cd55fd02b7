"""Operations of training and the confidentiality declaration (the onboarding of a person)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from fivesafes.app import Acting, App
from fivesafes.errors import NotFoundError
from fivesafes.server.operation import Login, Operation, Params, in_one
from fivesafes.services.governance import declarations as declaration_svc
from fivesafes.services.governance import training as training_svc

Course = Field(min_length=1, max_length=200)


class NoParams(Params):
    """No parameters."""


class CourseAdd(Params):
    name: str = Course
    validity_months: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    mandatory: bool = False


class TrainingRecord(Params):
    login: str = Login
    course: str = Course
    completed: date
    evidence: str | None = Field(default=None, max_length=2000)


class TrainingStatus(Params):
    login: str | None = Field(default=None, max_length=64)


class DeclarationText(Params):
    text: str = Field(max_length=1_000_000)


class DeclarationSign(Params):
    version: int = Field(ge=-(2**31), le=2**31 - 1)


def _add_course(app: App, login: str, p: CourseAdd) -> Any:
    default = int(app.workspace.setting("training_validity_months"))
    # 0 is a bad value to refuse, not "unset": only an absent option takes the default
    months = default if p.validity_months is None else p.validity_months
    return in_one(
        app,
        login,
        lambda a: training_svc.add_course(a.session, a.actor, p.name, months, p.mandatory),
    )


def _courses(app: App, login: str, _p: NoParams) -> Any:
    return in_one(app, login, lambda a: training_svc.list_courses(a.session))


def _record(app: App, login: str, p: TrainingRecord) -> Any:
    return in_one(
        app,
        login,
        lambda a: training_svc.record_completion(
            a.session, a.actor, p.login, p.course, p.completed, p.evidence
        ),
    )


def _status(app: App, login: str, p: TrainingStatus) -> Any:
    return in_one(
        app, login, lambda a: training_svc.training_of(a.session, p.login or a.actor.login)
    )


def _publish(app: App, login: str, p: DeclarationText) -> Any:
    def act(a: Acting) -> Any:
        version = declaration_svc.publish_declaration(a.session, a.actor, p.text)
        return {"version": version.version, "text_hash": version.text_hash}

    return in_one(app, login, act)


def _show(app: App, login: str, _p: NoParams) -> Any:
    def act(a: Acting) -> Any:
        current = declaration_svc.current_declaration(a.session)
        if current is None:
            raise NotFoundError(
                "no declaration has been published",
                hint="an administrator publishes one: fivesafes declaration publish FILE",
            )
        return current

    return in_one(app, login, act)


def _sign(app: App, login: str, p: DeclarationSign) -> Any:
    return in_one(
        app, login, lambda a: declaration_svc.sign_declaration(a.session, a.actor, p.version)
    )


TRAINING_OPERATIONS = (
    Operation("training.add_course", CourseAdd, _add_course, "Register a course (admins)."),
    Operation("training.courses", NoParams, _courses, "Every course."),
    Operation("training.record", TrainingRecord, _record, "Record a completion (admins)."),
    Operation("training.status", TrainingStatus, _status, "A person's courses, valid or not."),
    Operation("declaration.publish", DeclarationText, _publish, "Publish the next version."),
    Operation("declaration.show", NoParams, _show, "The current declaration."),
    Operation("declaration.sign", DeclarationSign, _sign, "Sign the current version."),
)
