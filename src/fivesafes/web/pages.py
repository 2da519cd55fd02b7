"""The pages: each gathers what the services (or the API's operations) return and renders.

No rule lives here: every decision is the service's, through the same calls the CLI and
the API make (``server.operations.run`` where an operation exists, else the service
inside ``acting_as``), so permissions and audit events are the same.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response

from fivesafes.errors import NotFoundError
from fivesafes.governance.review_categories import CATEGORIES, Category
from fivesafes.governance.roles import Role
from fivesafes.release.permissions import can_review
from fivesafes.release.submission import FileSubmission, TableSubmission
from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState
from fivesafes.sdc import build_views
from fivesafes.server.acting import acting_as
from fivesafes.server.api import ServerContext
from fivesafes.server.operations import run
from fivesafes.services import audit_evidence as evidence_svc
from fivesafes.services.audit_log import verify_log
from fivesafes.services.governance import areas as areas_svc
from fivesafes.services.governance import review as access_review
from fivesafes.services.release import inspect as inspect_svc
from fivesafes.services.release import requests as requests_svc
from fivesafes.services.release import reviews as reviews_svc
from fivesafes.services.release import views as views_svc
from fivesafes.web import outputs
from fivesafes.web.auth import PREFIX, deny_page
from fivesafes.web.cells import cells_tables
from fivesafes.web.render import page
from fivesafes.web.roles import require_any
from fivesafes.web.sessions import WebSession

AWAITING = (RequestState.SUBMITTED, RequestState.PARTIALLY_REVIEWED)


def _roles(ctx: ServerContext, login: str) -> set[str]:
    return set(run(ctx.app, login, "whoami", {})["roles"])


def _require(ctx: ServerContext, web: WebSession, role: Role, path: str) -> None:
    if role.value not in _roles(ctx, web.login):
        raise deny_page(ctx, web.login, path, f"this page needs the role {role.value}")


def status(ctx: ServerContext, web: WebSession, notice: str = "") -> Response:
    """My roles, training (what is due), the declaration to sign, my grants and requests."""
    summary = run(ctx.app, web.login, "people.show", {"login": web.login})
    try:
        declaration = run(ctx.app, web.login, "declaration.show", {})
    except NotFoundError:
        declaration = None
    with acting_as(ctx.app, web.login) as acting:
        mine = [
            r
            for r in requests_svc.list_requests(acting.session, web.login)
            if r.author == web.login
        ]
    return page(
        "status.html",
        title="My status",
        me=web.login,
        csrf=web.csrf,
        s=summary,
        declaration=declaration,
        mine=mine,
        notice=notice,
    )


def sign_declaration(ctx: ServerContext, web: WebSession, form: Any) -> Response:
    """Sign the version the form showed (the service refuses one that is not current)."""
    run(ctx.app, web.login, "declaration.sign", {"version": int(form.get("version") or 0)})
    return RedirectResponse(f"{PREFIX}/", status_code=303)


def queue(ctx: ServerContext, web: WebSession) -> Response:
    """Requests awaiting review that this checker may review (never their own)."""
    _require(ctx, web, Role.OUTPUT_CHECKER, f"{PREFIX}/checking")
    with acting_as(ctx.app, web.login) as acting:
        person = acting.actor.person
        rows = [
            r
            for r in views_svc.awaiting_review(acting.session, AWAITING)
            if can_review(person, r.author)
        ]
    return page("queue.html", title="Output checking", me=web.login, csrf=web.csrf, queue=rows)


def request_page(
    ctx: ServerContext, web: WebSession, request_id: int, notice: str = ""
) -> Response:
    """One request: checks, the table as published and the checker's view (or the file's
    safe preview), earlier versions and what the current one changed, the vote form."""
    provider = ctx.app.vault().provider
    with acting_as(ctx.app, web.login) as acting:
        # the same permission as a vote (an output checker, never the author), audited
        view, content, intervals = inspect_svc.inspect_with_intervals(
            acting.session, acting.actor, provider, request_id
        )
        earlier = None
        if view.version > 1:  # the previous version, for the diff (opening it is audited too)
            _v, earlier = inspect_svc.inspect_request(
                acting.session, acting.actor, provider, request_id, view.version - 1
            )
        person = acting.actor.person
    values: dict[str, Any] = {}
    if isinstance(content, TableSubmission):
        cells, hierarchies = content.cells, content.hierarchies
        published, checker = build_views(
            content.name,
            cells,
            hierarchies,
            intervals=intervals.cells if intervals is not None else None,
        )
        values["published"], values["checker"] = cells_tables(
            [
                (published, "The table as the public would see it: hidden cells as [c]"),
                (checker, "True values with each cell's status, rules and intervals"),
            ],
            achieved=intervals.achieved_text() if intervals is not None else None,
        )
        values["intervals"] = intervals
        if isinstance(earlier, TableSubmission):
            changes = outputs.table_changes(earlier, content)
            values["changes"] = changes[: outputs.SHOWN_CHANGES]
            values["changed"] = len(changes)
    elif isinstance(content, FileSubmission):
        values["file"] = outputs.preview(content)
        if isinstance(earlier, FileSubmission):
            values["file_before"] = earlier.files
    mine = any(r.reviewer == web.login and r.version == view.version for r in view.reviews)
    return page(
        "request.html",
        title=f"Request #{view.id}: {view.title}",
        me=web.login,
        csrf=web.csrf,
        r=view,
        can_vote=view.state in AWAITING and can_review(person, view.author) and not mine,
        notice=notice,
        **values,
    )


def request_file(ctx: ServerContext, web: WebSession, request_id: int) -> Response:
    """The current version's file output for its preview (same permission and audit)."""
    provider = ctx.app.vault().provider
    with acting_as(ctx.app, web.login) as acting:
        _view, content = inspect_svc.inspect_request(
            acting.session, acting.actor, provider, request_id
        )
    if not isinstance(content, FileSubmission):
        raise NotFoundError(f"request #{request_id} is a table, not a file output")
    return outputs.served(content)


def vote(ctx: ServerContext, web: WebSession, request_id: int, form: Any) -> Response:
    """Record the checker's vote through the release service (same rules as the CLI)."""
    chosen = Vote(str(form.get("vote") or ""))
    comment = str(form.get("comment") or "")[:2000]
    vault = ctx.app.vault()
    with acting_as(ctx.app, web.login) as acting:
        reviews_svc.review_request(
            acting.session, acting.actor, vault.provider, request_id, chosen, comment, vault=vault
        )
    return RedirectResponse(f"{PREFIX}/checking/{request_id}?done={chosen.value}", status_code=303)


RECERTIFY = (Category.LEAVER_WITH_GRANT, Category.GRANT_OVERDUE, Category.GRANT_DUE)


def grants(ctx: ServerContext, web: WebSession, notice: str = "") -> Response:
    """For the areas this asset owner owns: requested grants with the people checks, current
    grants (each revocable with a note) and the T6.5 review's recertification list."""
    _require(ctx, web, Role.INFORMATION_ASSET_OWNER, f"{PREFIX}/grants")
    with acting_as(ctx.app, web.login) as acting:
        owned = {a.name for a in areas_svc.list_areas(acting.session) if a.owner == web.login}
        findings = access_review.review_access(acting.session).findings
    listed = [
        g for area in sorted(owned) for g in run(ctx.app, web.login, "grant.list", {"area": area})
    ]
    pending = [
        (g, run(ctx.app, web.login, "people.show", {"login": g["person"]}))
        for g in listed
        if g["state"] == "requested"
    ]
    current = [g for g in listed if g["state"] == "approved"]
    mine = {str(g["id"]): g for g in listed}
    recertify = [(f, mine[f.item]) for f in findings if f.category in RECERTIFY and f.item in mine]
    return page(
        "grants.html",
        title="Grants",
        me=web.login,
        csrf=web.csrf,
        pending=pending,
        current=current,
        recertify=recertify,
        titles={c: CATEGORIES[c].title for c in RECERTIFY},
        notice=notice,
    )


def decide_grant(ctx: ServerContext, web: WebSession, grant_id: int, form: Any) -> Response:
    """Approve or reject through the grant operations (the service checks ownership)."""
    note = str(form.get("note") or "")[:2000]
    if form.get("decision") == "approve":
        run(ctx.app, web.login, "grant.approve", {"grant_id": grant_id, "note": note})
    else:
        run(ctx.app, web.login, "grant.reject", {"grant_id": grant_id, "reason": note or "-"})
    return RedirectResponse(f"{PREFIX}/grants", status_code=303)


def revoke_grant(ctx: ServerContext, web: WebSession, grant_id: int, form: Any) -> Response:
    """Revoke with the note as the reason (the operation `grant revoke` runs; it needs one)."""
    reason = str(form.get("note") or "").strip()[:2000]
    run(ctx.app, web.login, "grant.revoke", {"grant_id": grant_id, "reason": reason})
    return RedirectResponse(f"{PREFIX}/grants", status_code=303)


def evidence(ctx: ServerContext, web: WebSession, verified: str = "") -> Response:
    """The audit log's newest events, the log's verification (now, and the last one
    recorded), the newest checkpoint, the witnesses' state and the periodic reviews (T6.5)
    recorded (auditors and administrators)."""
    events = run(ctx.app, web.login, "audit.log", {"limit": 200})
    # only after the service allowed (and audited) the read: `fivesafes audit verify`'s check,
    # with every folder witness's copy as the recorded verification runs it (a log cut with
    # every checkpoint in the workspace is caught only by a witness)
    witnessed = evidence_svc.folder_witness_files(ctx.app.workspace)
    report = verify_log(ctx.app.workspace, witnesses=witnessed)
    with ctx.app.workspace.reader() as reading:
        state = evidence_svc.evidence_state(ctx.app.workspace, reading)
    with acting_as(ctx.app, web.login) as acting:  # as `fivesafes review list`
        reviews = [
            {
                "id": r.id,
                "by": r.carried_out_by,
                "at": r.carried_out_at,
                "as_of": r.as_of,
                "findings": r.findings_total,
                "location": r.location,
                "markdown_sha256": r.markdown_sha256,
                "html_sha256": r.html_sha256,
            }
            for r in access_review.list_reviews(acting.session)
        ]
    return page(
        "evidence.html",
        title="Evidence",
        me=web.login,
        csrf=web.csrf,
        events=events,
        report=report,
        state=state,
        reviews=reviews,
        # only a fixed word from the link: it cannot put text of its own on the page
        notice="Verified now: the outcome is recorded below." if verified == "1" else "",
    )


def verify_now(ctx: ServerContext, web: WebSession) -> Response:
    """Verify the log now (as ``audit verify --witness`` with every folder witness) and
    record the outcome as an ``audit.verify`` event (auditors and administrators)."""
    require_any(ctx, web, {Role.AUDITOR, Role.ADMINISTRATOR}, f"{PREFIX}/evidence/verify")
    evidence_svc.verify_and_record(ctx.app.workspace, web.login)
    return RedirectResponse(f"{PREFIX}/evidence?verified=1", status_code=303)
