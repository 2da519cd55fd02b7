"""The FOI/SAR officer's pages: the cases, one case with its clock and moves, the disclosure log.

Every read and every move goes through the ``request.*`` operations the CLI's server
client runs (``request list``, ``request show``, ``request requester``, ``request assign``
...), or the requests services inside ``acting_as`` where no operation exists (a case's
figures, the disclosure log): the same permission checks and audit events.

The requester's details are personal data: the case page asks for them (``request
requester``, audited) only when the person is one of the case's officers, as the CLI
shows them only through that command; nobody else's page ever holds them.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response

from fivesafes.errors import AccessDenied, NotFoundError
from fivesafes.governance.roles import Role
from fivesafes.requests.cases import CaseState, Outcome
from fivesafes.requests.disclosure_log import COLUMNS
from fivesafes.requests.permissions import REPORT_ROLES, case_officers
from fivesafes.server.acting import acting_as
from fivesafes.server.api import ServerContext
from fivesafes.server.operations import run
from fivesafes.services.requests import disclosure_log as log_svc
from fivesafes.services.requests import exemptions as exemptions_svc
from fivesafes.services.requests import figures as figures_svc
from fivesafes.services.requests.cases import case_row
from fivesafes.web.auth import PREFIX
from fivesafes.web.render import page
from fivesafes.web.roles import require_any
from fivesafes.web.sessions import WebSession

# The moves the case page offers, by the state that allows them (the service still decides).
MOVES_BY_STATE: dict[str, tuple[str, ...]] = {
    CaseState.OPEN.value: ("assign",),
    CaseState.ASSIGNED.value: ("assign", "clarify", "extend", "close"),
    CaseState.CLARIFYING.value: ("clarified",),
}
MOVE_NAMES = frozenset(m for moves in MOVES_BY_STATE.values() for m in moves)
# What the page's move form may send beside the case: the move's one argument and the day.
FORM_FIELDS = ("officer", "reason", "outcome", "on")


def cases(ctx: ServerContext, web: WebSession) -> Response:
    """The cases (``request list``: no personal data), oldest first, overdue marked."""
    require_any(ctx, web, REPORT_ROLES, f"{PREFIX}/requests")
    listed = run(ctx.app, web.login, "request.list", {})
    return page("requests.html", title="Requests for information", me=web.login,
                csrf=web.csrf, cases=listed)  # fmt: skip


def _requester(ctx: ServerContext, web: WebSession, case: dict[str, Any]) -> str | None:
    """The requester's details, to the case's officers only (``request requester``, audited)."""
    if web.login not in case_officers(case["opened_by"], case["officer"]):
        return None  # not asked: nobody else's page holds them, and no denial is logged
    try:
        shown = run(ctx.app, web.login, "request.requester", {"case_id": case["id"]})
        return str(shown["requester"])
    except NotFoundError as gone:  # shredded at the end of retention
        return f"({gone.message})"
    except AccessDenied:  # an officer who no longer holds the role (recorded as denied)
        return None


def case_page(ctx: ServerContext, web: WebSession, case_id: int, done: str = "") -> Response:
    """One case: clock, state, withheld parts, figures and their verdicts, the move forms."""
    # Every case officer holds a report role (foi_officer or data_protection_officer), so
    # this refuses only those the service would, and records the refusal as the pages do.
    require_any(ctx, web, REPORT_ROLES, f"{PREFIX}/requests/{case_id}")
    case = run(ctx.app, web.login, "request.show", {"case_id": case_id})
    with acting_as(ctx.app, web.login) as acting:
        figures = figures_svc.case_figures(acting.session, acting.actor, case_id)
        withheld = exemptions_svc.withheld_parts(case_row(acting.session, case_id))
    officer = web.login in case_officers(case["opened_by"], case["officer"])
    return page(
        "request_case.html",
        title=f"Request #{case_id}",
        me=web.login,
        csrf=web.csrf,
        # only a move's own name: a link cannot put words of its own on the page
        notice=f"Done: {done}." if done in MOVE_NAMES else "",
        case=case,
        requester=_requester(ctx, web, case),
        officer=officer,
        moves=MOVES_BY_STATE.get(case["state"], ()) if officer else (),
        outcomes=[o.value for o in Outcome],
        withheld=withheld,
        figures=figures,
    )


def move(ctx: ServerContext, web: WebSession, case_id: int, form: Any) -> Response:
    """A move on the case through ``request.move`` (as ``fivesafes request assign`` ...)."""
    params: dict[str, Any] = {"case_id": case_id, "move": str(form.get("move") or "")}
    for field in FORM_FIELDS:
        value = str(form.get(field) or "").strip()
        if value:
            params[field] = value
    run(ctx.app, web.login, "request.move", params)
    return RedirectResponse(f"{PREFIX}/requests/{case_id}?done={params['move']}", status_code=303)


def disclosure_log(ctx: ServerContext, web: WebSession) -> Response:
    """The disclosure log as ``request disclosure-log`` generates it (no personal data)."""
    require_any(ctx, web, {Role.FOI_OFFICER}, f"{PREFIX}/requests/disclosure-log")
    with acting_as(ctx.app, web.login) as acting:
        entries = log_svc.disclosure_log(acting.session, acting.actor)
    return page("disclosure_log.html", title="Disclosure log", me=web.login, csrf=web.csrf,
                columns=COLUMNS, rows=[e.row() for e in entries])  # fmt: skip
