"""The server's operations: one typed entry per use case, shared by the API and the CLI.

Each operation takes a pydantic model of its parameters and the acting login, calls
the services inside the composition root (``fivesafes.app.App``) and returns
JSON-ready data. The HTTP API mounts every one as ``POST /api/v1/<name>`` (a name like
``grant.request`` becomes ``/api/v1/grant/request``); the CLI runs the same entry in
process (a workspace it may open) or through the server (``--server``), so both print
the same data and every decision has one code path.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from fivesafes.app import Acting, App
from fivesafes.errors import ValidationError
from fivesafes.governance.roles import parse_roles
from fivesafes.server.acting import resolving
from fivesafes.server.operation import Login, Operation, Params, Text, in_one, plain
from fivesafes.server.operations_areas import AREA_OPERATIONS
from fivesafes.server.operations_audit import AUDIT_OPERATIONS
from fivesafes.server.operations_data import DATA_OPERATIONS, DATA_UPLOADS
from fivesafes.server.operations_projects import PROJECT_OPERATIONS
from fivesafes.server.operations_release import RELEASE_OPERATIONS, RELEASE_UPLOADS
from fivesafes.server.operations_requests import REQUEST_OPERATIONS
from fivesafes.server.operations_researchers import RESEARCHER_OPERATIONS
from fivesafes.server.operations_review import REVIEW_OPERATIONS
from fivesafes.server.operations_session_folder import SESSION_UPLOADS
from fivesafes.server.operations_tables import TABLE_OPERATIONS
from fivesafes.server.operations_training import TRAINING_OPERATIONS
from fivesafes.server.upload import UploadOperation
from fivesafes.services import signin
from fivesafes.services.audit_log import LogQuery, read_log
from fivesafes.services.governance import access as access_svc
from fivesafes.services.governance import grants as grant_svc
from fivesafes.services.governance import people as people_svc


class NoParams(Params):
    """An operation without parameters."""


class LoginParams(Params):
    login: str = Login


class PersonAdd(Params):
    login: str = Login
    name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(default_factory=list, max_length=20)


class PersonRoles(Params):
    login: str = Login
    add: list[str] = Field(default_factory=list, max_length=20)
    remove: list[str] = Field(default_factory=list, max_length=20)


class PersonLeave(Params):
    login: str = Login
    reason: str = Field(default="left", min_length=1, max_length=2000)


class GrantRequest(Params):
    login: str = Login
    area: str = Field(min_length=1, max_length=64)
    justification: str = Text
    purpose: str = Field(default="statistical", max_length=64)
    start: date | None = None
    end: date | None = None


class GrantDecision(Params):
    grant_id: int = Field(ge=1, le=2**31 - 1)
    note: str | None = Field(default=None, max_length=2000)


class GrantReason(Params):
    grant_id: int = Field(ge=1, le=2**31 - 1)
    reason: str = Text


class GrantFilter(Params):
    person: str | None = Field(default=None, max_length=64)
    area: str | None = Field(default=None, max_length=64)


class AccessCheck(Params):
    person: str = Login
    dataset: str = Field(min_length=1, max_length=64)
    purpose: str = Field(min_length=1, max_length=64)
    project: str | None = Field(default=None, max_length=64)


class AuditLogQuery(Params):
    person: str | None = Field(default=None, max_length=64)
    actor: str | None = Field(default=None, max_length=64)
    subject: str | None = Field(default=None, max_length=200)
    area: str | None = Field(default=None, max_length=64)
    dataset: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=64)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=100, ge=1, le=100_000)


class Password(Params):
    password: str = Field(min_length=1, max_length=1024)


def _whoami(app: App, login: str, _p: NoParams) -> Any:
    return in_one(app, login, lambda a: a.actor.person)


def _people_list(app: App, login: str, _p: NoParams) -> Any:
    return in_one(app, login, lambda a: people_svc.list_people(a.session))


def _people_show(app: App, login: str, p: LoginParams) -> Any:
    return in_one(app, login, lambda a: people_svc.summarise_person(a.session, p.login))


def _people_add(app: App, login: str, p: PersonAdd) -> Any:
    return in_one(
        app,
        login,
        lambda a: people_svc.register_person(
            a.session, a.actor, p.login, p.name, parse_roles(tuple(p.roles))
        ),
    )


def _people_roles(app: App, login: str, p: PersonRoles) -> Any:
    return in_one(
        app,
        login,
        lambda a: people_svc.change_roles(
            a.session, a.actor, p.login, parse_roles(tuple(p.add)), parse_roles(tuple(p.remove))
        ),
    )


def _people_leave(app: App, login: str, p: PersonLeave) -> Any:
    return in_one(
        app, login, lambda a: people_svc.mark_leaver(a.session, a.actor, p.login, p.reason)
    )


def _grant_request(app: App, login: str, p: GrantRequest) -> Any:
    policy = app.grant_policy()
    return in_one(
        app,
        login,
        lambda a: grant_svc.request_grant(
            a.session,
            a.actor,
            p.login,
            p.area,
            p.justification,
            purpose=p.purpose,
            start_on=p.start,
            end_on=p.end,
            policy=policy,
        ),
    )


def _grant_approve(app: App, login: str, p: GrantDecision) -> Any:
    return in_one(
        app, login, lambda a: grant_svc.approve_grant(a.session, a.actor, p.grant_id, p.note)
    )


def _grant_reject(app: App, login: str, p: GrantReason) -> Any:
    return in_one(
        app, login, lambda a: grant_svc.reject_grant(a.session, a.actor, p.grant_id, p.reason)
    )


def _grant_revoke(app: App, login: str, p: GrantReason) -> Any:
    return in_one(
        app, login, lambda a: grant_svc.revoke_grant(a.session, a.actor, p.grant_id, p.reason)
    )


def _grant_expire(app: App, login: str, _p: NoParams) -> Any:
    return in_one(app, login, lambda a: {"expired": grant_svc.expire_grants(a.session)})


def _grant_list(app: App, login: str, p: GrantFilter) -> Any:
    return in_one(app, login, lambda a: grant_svc.list_grants(a.session, p.person, p.area))


def _access_check(app: App, login: str, p: AccessCheck) -> Any:
    def act(a: Acting) -> Any:
        decision = access_svc.check_access(
            a.session, a.actor, p.person, p.dataset, p.purpose, None, p.project
        )
        return {
            "person": p.person,
            "dataset": p.dataset,
            "purpose": p.purpose,
            "allowed": decision.allowed,
            "reasons": [{"code": r.code.value, "message": r.message} for r in decision.reasons],
        }

    return in_one(app, login, act)


def _audit_log(app: App, login: str, p: AuditLogQuery) -> Any:
    query = LogQuery(**p.model_dump())
    # the actor is resolved in the transaction that records the decision (one, not two)
    actor = resolving(login)
    return plain(read_log(app.workspace.transaction, app.workspace.reader, actor, query))


def _signin_password(app: App, login: str, p: Password) -> Any:
    def act(a: Acting) -> Any:
        signin.set_password(a.session, a.actor, p.password)
        return {"login": a.actor.login, "password": "set"}

    return in_one(app, login, act)


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("whoami", NoParams, _whoami, "The registered person you act as."),
        Operation("people.list", NoParams, _people_list, "Every registered person."),
        Operation("people.show", LoginParams, _people_show, "One person: roles, training, grants."),
        Operation("people.add", PersonAdd, _people_add, "Register a person (administrators)."),
        Operation("people.roles", PersonRoles, _people_roles, "Give or take away roles."),
        Operation("people.leave", PersonLeave, _people_leave, "Mark a leaver."),
        Operation("grant.request", GrantRequest, _grant_request, "Request access to an area."),
        Operation("grant.approve", GrantDecision, _grant_approve, "Approve a grant (area owner)."),
        Operation("grant.reject", GrantReason, _grant_reject, "Reject a requested grant."),
        Operation("grant.revoke", GrantReason, _grant_revoke, "Revoke an approved grant."),
        Operation("grant.expire", NoParams, _grant_expire, "Record lapsed grants as expired."),
        Operation("grant.list", GrantFilter, _grant_list, "Grants with their state today."),
        Operation("access.check", AccessCheck, _access_check, "Decide (and audit) an access."),
        Operation("audit.log", AuditLogQuery, _audit_log, "Audit events (auditors, admins)."),
        *TRAINING_OPERATIONS,
        *AREA_OPERATIONS,
        *REQUEST_OPERATIONS,
        *DATA_OPERATIONS,
        *TABLE_OPERATIONS,
        *RELEASE_OPERATIONS,
        *REVIEW_OPERATIONS,
        *AUDIT_OPERATIONS,
        *PROJECT_OPERATIONS,
        *RESEARCHER_OPERATIONS,
        Operation(
            "auth.password",
            Password,
            _signin_password,
            "Set your own password (socket only).",
            socket_only=True,
        ),
    )
}


UPLOADS: dict[str, UploadOperation] = {
    op.name: op for op in (*DATA_UPLOADS, *RELEASE_UPLOADS, *SESSION_UPLOADS)
}


def run(app: App, login: str, name: str, params: dict[str, Any] | Params) -> Any:
    """Run operation ``name`` as ``login`` (in this process) and return its JSON-ready result."""
    op = OPERATIONS[name]
    return op.run(app, login, _checked(op.params, name, params))


def run_upload(app: App, login: str, name: str, params: dict[str, Any], path: Path) -> Any:
    """Run upload operation ``name`` as ``login`` on the file at ``path``."""
    op = UPLOADS[name]
    return op.run(app, login, _checked(op.params, name, params), path)


def _checked(model: type[Params], name: str, params: dict[str, Any] | Params) -> Params:
    try:
        return params if isinstance(params, Params) else model.model_validate(params)
    except PydanticValidationError as exc:
        reasons = tuple(
            f"{'.'.join(str(p) for p in e['loc']) or 'parameters'}: {e['msg']}"
            for e in exc.errors()
        )
        raise ValidationError(
            f"the parameters of {name} are not valid: " + "; ".join(reasons[:5]),
            hint="see the command's --help",
        ) from None


__all__ = ["OPERATIONS", "UPLOADS", "Operation", "Params", "plain", "run", "run_upload"]
