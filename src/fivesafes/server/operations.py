"""The server's operations: one typed entry per use case, shared by the API and the CLI.

Each operation takes a pydantic model of its parameters and the acting login, calls
the services inside the composition root (``fivesafes.app.App``) and returns
JSON-ready data. The HTTP API mounts every one as ``POST /api/v1/<name>`` (a name like
``grant.request`` becomes ``/api/v1/grant/request``); the CLI runs the same entry in
process (a workspace it may open) or through the server (``--server``), so both print
the same data and every decision has one code path.
"""

from __future__ import annotations

import importlib
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from fivesafes.app import Acting, App
from fivesafes.errors import ValidationError
from fivesafes.governance.roles import parse_roles
from fivesafes.server.acting import refusals_recorded, resolving
from fivesafes.server.operation import Login, Operation, Params, Text, in_one, plain
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


_OWN: tuple[Operation, ...] = (
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
)
_PASSWORD = Operation(
    "auth.password",
    Password,
    _signin_password,
    "Set your own password (socket only).",
    socket_only=True,
)

# The other operations live in fivesafes.server.operations_*; a module is imported only
# when one of its operations runs (or the server mounts them all): most of them bring
# the table code (pandas, SciPy, DuckDB, ...), which a governance command in process
# should not wait for. (module, its list), in the order the API lists them:
_PARTS = (
    ("training", "TRAINING_OPERATIONS"),
    ("areas", "AREA_OPERATIONS"),
    ("requests", "REQUEST_OPERATIONS"),
    ("data", "DATA_OPERATIONS"),
    ("tables", "TABLE_OPERATIONS"),
    ("release", "RELEASE_OPERATIONS"),
    ("review", "REVIEW_OPERATIONS"),
    ("audit", "AUDIT_OPERATIONS"),
    ("projects", "PROJECT_OPERATIONS"),
    ("researchers", "RESEARCHER_OPERATIONS"),
)
_UPLOAD_PARTS = (
    ("data", "DATA_UPLOADS"),
    ("release", "RELEASE_UPLOADS"),
    ("session_folder", "SESSION_UPLOADS"),
)
# an operation's first name part -> the modules whose operations have it (a test checks
# it against the lists; a name missing here is still found, after importing them all)
_MODULES_OF = {
    "training": ("training",),
    "declaration": ("training",),
    "area": ("areas", "data"),
    "request": ("requests",),
    "dataset": ("data",),
    "retention": ("data",),
    "query": ("data",),
    "table": ("tables",),
    "release": ("release", "session_folder"),
    "rules": ("release",),
    "review": ("review",),
    "audit": ("audit",),
    "project": ("projects",),
    "researcher": ("researchers",),
}

if TYPE_CHECKING:  # made on first use (``__getattr__``)
    OPERATIONS: dict[str, Operation]
    UPLOADS: dict[str, UploadOperation]


def _part(module: str, attribute: str) -> tuple[Any, ...]:
    return tuple(getattr(importlib.import_module(f"{__name__}_{module}"), attribute))


def __getattr__(name: str) -> Any:
    """``OPERATIONS`` and ``UPLOADS``: every operation, importing every module (PEP 562)."""
    if name == "OPERATIONS":
        parts = (op for part in _PARTS for op in _part(*part))
        value: Any = {op.name: op for op in (*_OWN, *parts, _PASSWORD)}
    elif name == "UPLOADS":
        value = {op.name: op for part in _UPLOAD_PARTS for op in _part(*part)}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def _find(name: str, parts: tuple[tuple[str, str], ...], every: str) -> Any:
    """Operation ``name`` from the modules its first name part says, else from ``every``."""
    wanted = _MODULES_OF.get(name.split(".")[0], ())
    for module, attribute in parts:
        if module in wanted:
            for op in _part(module, attribute):
                if op.name == name:
                    return op
    return (globals().get(every) or __getattr__(every))[name]


_OWN_BY_NAME = {op.name: op for op in (*_OWN, _PASSWORD)}


def run(app: App, login: str, name: str, params: dict[str, Any] | Params) -> Any:
    """Run operation ``name`` as ``login`` (in this process) and return its JSON-ready result."""
    op: Operation = _OWN_BY_NAME.get(name) or _find(name, _PARTS, "OPERATIONS")
    with refusals_recorded(app, login):  # every refusal leaves a record
        return op.run(app, login, _checked(op.params, name, params))


def run_upload(app: App, login: str, name: str, params: dict[str, Any], path: Path) -> Any:
    """Run upload operation ``name`` as ``login`` on the file at ``path``."""
    op: UploadOperation = _find(name, _UPLOAD_PARTS, "UPLOADS")
    with refusals_recorded(app, login):
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
