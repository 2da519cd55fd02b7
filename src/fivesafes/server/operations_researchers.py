"""Operations of approved researchers and their accreditations."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from fivesafes.app import App
from fivesafes.governance.research import parse_level
from fivesafes.server.operation import Login, Operation, Params, Text, in_one
from fivesafes.services.research import researchers as svc


class Accredit(Params):
    login: str = Login
    body: str = Text
    reference: str = Field(min_length=1, max_length=200)
    level: str = Field(min_length=1, max_length=32)
    granted: date | None = None
    expires: date | None = None
    supervisor: str | None = Field(default=None, max_length=64)


class Supervisor(Params):
    login: str = Login
    supervisor: str = Login


class NoParams(Params):
    """No parameters."""


class LoginParams(Params):
    login: str = Login


def _accredit(app: App, login: str, p: Accredit) -> Any:
    return in_one(
        app,
        login,
        lambda a: svc.accredit(
            a.session,
            a.actor,
            p.login,
            body=p.body,
            reference=p.reference,
            level=parse_level(p.level),
            granted=p.granted,
            expires=p.expires,
            supervisor=p.supervisor,
        ),
    )


def _supervisor(app: App, login: str, p: Supervisor) -> Any:
    return in_one(
        app, login, lambda a: svc.change_supervisor(a.session, a.actor, p.login, p.supervisor)
    )


def _list(app: App, login: str, _p: NoParams) -> Any:
    return in_one(app, login, lambda a: svc.list_researchers(a.session))


def _show(app: App, login: str, p: LoginParams) -> Any:
    return in_one(app, login, lambda a: svc.show_researcher(a.session, p.login))


RESEARCHER_OPERATIONS = (
    Operation("researcher.accredit", Accredit, _accredit, "Record an accreditation."),
    Operation("researcher.supervisor", Supervisor, _supervisor, "Name a new supervisor."),
    Operation("researcher.list", NoParams, _list, "Approved researchers, accredited today?"),
    Operation("researcher.show", LoginParams, _show, "Accreditations, training and projects."),
)
