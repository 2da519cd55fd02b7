"""Administration pages (administrators only): people, courses and training, the declaration,
areas and datasets, rule sets.

Each change is a POST through the operation the CLI's server client runs (``people.add``,
``area.create``, ...) or, where the CLI calls a service directly (datasets, rule sets), the
same service inside ``acting_as``: the permission checks and audit events are the service's.
The page's role check only keeps the forms from people who could not use them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.responses import RedirectResponse, Response

from fivesafes.errors import NotFoundError, ValidationError
from fivesafes.governance.areas import Dataset
from fivesafes.governance.roles import Role, parse_roles
from fivesafes.server.acting import acting_as
from fivesafes.server.api import ServerContext
from fivesafes.server.operations import run
from fivesafes.services.governance import datasets as dataset_svc
from fivesafes.services.release import rule_sets as rule_set_svc
from fivesafes.web.auth import PREFIX
from fivesafes.web.render import page
from fivesafes.web.roles import require_any
from fivesafes.web.sessions import WebSession

ADMIN = f"{PREFIX}/admin"
SECTIONS = {
    "people": "People and roles",
    "training": "Courses, training and the declaration",
    "areas": "Areas and datasets",
    "rules": "Rule sets",
}
ALL_ROLES = tuple(r.value for r in Role)


def _text(form: Any, name: str, limit: int = 2000) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _roles(form: Any, name: str) -> list[str]:
    """Checked role boxes (each a role's value), validated as the CLI does."""
    return sorted(r.value for r in parse_roles(str(v) for v in form.getlist(name)))


def _day(text: str, what: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{what} {text!r} is not a date", hint="give YYYY-MM-DD") from None


def _back(section: str) -> Response:
    return RedirectResponse(f"{ADMIN}/{section}", status_code=303)


def admin_page(ctx: ServerContext, web: WebSession, section: str) -> Response:
    """One section of the administration pages, with its lists and forms."""
    if section not in SECTIONS:
        raise NotFoundError(f"no administration page {section!r}")
    require_any(ctx, web, (Role.ADMINISTRATOR,), f"{ADMIN}/{section}")
    values: dict[str, Any] = {}
    if section == "people":
        values["people"] = run(ctx.app, web.login, "people.list", {})
    elif section == "training":
        values["courses"] = run(ctx.app, web.login, "training.courses", {})
        values["people"] = run(ctx.app, web.login, "people.list", {})
    elif section == "areas":
        values["areas"] = run(ctx.app, web.login, "area.list", {})
        values["courses"] = run(ctx.app, web.login, "training.courses", {})
        with acting_as(ctx.app, web.login) as acting:
            values["datasets"] = dataset_svc.list_datasets(acting.session)
    else:
        with acting_as(ctx.app, web.login) as acting:
            values["rule_sets"] = rule_set_svc.list_rule_sets(acting.session)
    return page(
        f"admin_{section}.html",
        title=SECTIONS[section],
        me=web.login,
        csrf=web.csrf,
        sections=SECTIONS,
        section=section,
        all_roles=ALL_ROLES,
        **values,
    )


def admin_post(ctx: ServerContext, web: WebSession, action: str, form: Any) -> Response:
    """One administration action: the operation or service the CLI uses does it."""
    require_any(ctx, web, (Role.ADMINISTRATOR,), f"{ADMIN}/{action}")
    do = ACTIONS.get(action)
    if do is None:
        raise NotFoundError(f"no administration action {action!r}")
    return do(ctx, web.login, form)


def _person_add(ctx: ServerContext, login: str, form: Any) -> Response:
    params = {"login": _text(form, "login", 64), "name": _text(form, "name", 200)}
    run(ctx.app, login, "people.add", {**params, "roles": _roles(form, "roles")})
    return _back("people")


def _person_roles(ctx: ServerContext, login: str, form: Any) -> Response:
    who = _text(form, "login", 64)
    wanted = set(_roles(form, "roles"))
    held = {
        r for p in run(ctx.app, login, "people.list", {}) if p["login"] == who for r in p["roles"]
    }
    change = {"login": who, "add": sorted(wanted - held), "remove": sorted(held - wanted)}
    run(ctx.app, login, "people.roles", change)
    return _back("people")


def _person_leave(ctx: ServerContext, login: str, form: Any) -> Response:
    params = {"login": _text(form, "login", 64), "reason": _text(form, "reason") or "left"}
    run(ctx.app, login, "people.leave", params)
    return _back("people")


def _course_add(ctx: ServerContext, login: str, form: Any) -> Response:
    months = _text(form, "validity_months", 10)
    params = {
        "name": _text(form, "name", 200),
        "validity_months": int(months) if months else None,
        "mandatory": form.get("mandatory") == "yes",
    }
    run(ctx.app, login, "training.add_course", params)
    return _back("training")


def _training_record(ctx: ServerContext, login: str, form: Any) -> Response:
    params = {
        "login": _text(form, "login", 64),
        "course": _text(form, "course", 200),
        "completed": _day(_text(form, "completed", 10), "completed on"),
        "evidence": _text(form, "evidence") or None,
    }
    run(ctx.app, login, "training.record", params)
    return _back("training")


def _declaration_publish(ctx: ServerContext, login: str, form: Any) -> Response:
    run(ctx.app, login, "declaration.publish", {"text": str(form.get("text") or "")[:1_000_000]})
    return _back("training")


def _area_create(ctx: ServerContext, login: str, form: Any) -> Response:
    params = {
        "name": _text(form, "name", 64),
        "owner": _text(form, "owner", 64),
        "courses": [str(c) for c in form.getlist("courses")],
        "description": _text(form, "description"),
        "withhold_thresholds": form.get("withhold") == "yes",
    }
    run(ctx.app, login, "area.create", params)
    return _back("areas")


def _area_course(ctx: ServerContext, login: str, form: Any) -> Response:
    params = {"name": _text(form, "area", 64), "course": _text(form, "course", 200)}
    run(ctx.app, login, "area.require_course", params)
    return _back("areas")


def _area_policy(ctx: ServerContext, login: str, form: Any) -> Response:
    params = {"name": _text(form, "area", 64), "withhold": form.get("withhold") == "yes"}
    run(ctx.app, login, "area.set", params)
    return _back("areas")


def _dataset_add(ctx: ServerContext, login: str, form: Any) -> Response:
    # the form's boxes start ticked, as the CLI's defaults: identifiable, not public, harmful
    entry = Dataset(
        name=_text(form, "name", 64),
        area=_text(form, "area", 64),
        identifiable="yes" in form.getlist("identifiable"),
        not_public="yes" in form.getlist("not_public"),
        harmful="yes" in form.getlist("harmful"),
        source=_text(form, "source"),
        lawful_basis=_text(form, "lawful_basis"),
        retention_until=_day(_text(form, "retention", 10), "retention"),
        privacy_notice=_text(form, "privacy_notice") or None,
    )
    with acting_as(ctx.app, login) as acting:
        dataset_svc.register_dataset(acting.session, acting.actor, entry)
    return _back("areas")


def _number(form: Any, name: str, kind: type) -> Any:
    text = _text(form, name, 30)
    return kind(text) if text else None


def _rule_set(ctx: ServerContext, login: str, form: Any) -> Response:
    # the parameters `fivesafes rules set` takes, checked by the service's parser
    params: dict[str, Any] = {"threshold": _number(form, "threshold", int)}
    for name, kind in (("p_percent", float), ("frequency_threshold", int)):
        if (value := _number(form, name, kind)) is not None:
            params[name] = value
    dominance = _text(form, "dominance", 200)
    if dominance:
        params["dominance"] = [
            [float(x) for x in pair.split(",")] for pair in dominance.split(";") if pair.strip()
        ]
    if zeros := _text(form, "zeros", 20):
        params["zeros"] = zeros
    with acting_as(ctx.app, login) as acting:
        rule_set_svc.define_rule_set(
            acting.session, acting.actor, _text(form, "name", 64), params, _text(form, "note")
        )
    return _back("rules")


ACTIONS = {
    "people/add": _person_add,
    "people/roles": _person_roles,
    "people/leave": _person_leave,
    "training/course": _course_add,
    "training/record": _training_record,
    "training/declaration": _declaration_publish,
    "areas/create": _area_create,
    "areas/course": _area_course,
    "areas/policy": _area_policy,
    "areas/dataset": _dataset_add,
    "rules/set": _rule_set,
}
