"""The organisation's web pages, server-rendered, mounted on the server's API (``mount``).

Every page is deny by default: no live session, the sign-in page; a role the page needs
missing, 403 (recorded as denied); every form carries the session's CSRF token. The
pages call the same operations and services as the CLI and the API.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from fivesafes.errors import FivesafesError, ValidationError
from fivesafes.server.api import ServerContext
from fivesafes.web import admin, pages, publication, requests
from fivesafes.web.auth import (
    PREFIX,
    BadCsrf,
    NotSignedIn,
    check_csrf,
    current,
    do_signin,
    do_signout,
    oidc_landing,
    oidc_start,
    signin_form,
)
from fivesafes.web.headers import SecurityHeaders
from fivesafes.web.render import error_page, page
from fivesafes.web.sessions import Sessions, WebSession

__all__ = ["mount"]

# (session, form or None, query and path parameters) -> the page
Work = Callable[[WebSession, Any, dict[str, Any]], Response]


# Every id the pages take, as the API bounds it: a path with another is no page at all
MAX_ID = 2**31 - 1
# A page's form is a few short fields, never a file (the declaration is the longest text)
MAX_FIELDS = 200


def _not_found() -> Response:
    return page("error.html", 404, title="Not found", message="there is no such page")


async def read_form(request: Request) -> Any:
    """The browser's form, or ValidationError: a file part, too many fields, a field past
    the parser's bound (1 MiB)."""
    try:
        return await request.form(max_files=0, max_fields=MAX_FIELDS)
    except StarletteHTTPException as bad:  # the parser's refusal, raised as a 400
        raise ValidationError(
            f"the form could not be read: {bad.detail}",
            hint="send the page's own form (no file, each field under 1 MiB)",
        ) from None


def _guarded(ctx: ServerContext, sessions: Sessions, work: Work, *, post: bool) -> Any:
    async def handler(request: Request) -> Response:
        if any(isinstance(v, int) and not 1 <= v <= MAX_ID for v in request.path_params.values()):
            return _not_found()
        try:
            # who is signed in, before a byte of a form is read: a stranger's body is
            # never parsed (nor a file part spooled to disk)
            web = await run_in_threadpool(current, ctx, sessions, request)
        except NotSignedIn:
            if post:
                return page("error.html", 401, title="Signed out", message="sign in first")
            return RedirectResponse(f"{PREFIX}/signin", status_code=303)
        try:
            form = await read_form(request) if post else None
        except FivesafesError as refused:
            return error_page(refused, me=web.login, csrf=web.csrf)

        def act() -> Response:
            try:
                if post:
                    check_csrf(web, form)
                try:
                    # the query's parameters (GET forms), then the path's (which win)
                    params = {**request.query_params, **request.path_params}
                    return work(web, form, params)
                except ValueError as bad:  # a form value the service's types refuse
                    raise ValidationError(f"the form is not valid: {bad}") from None
                except FivesafesError as refused:
                    return error_page(refused, me=web.login, csrf=web.csrf)
            except BadCsrf:
                return page(
                    "error.html",
                    403,
                    title="Refused",
                    message="the form's security token is missing or wrong: reload the page",
                )
            except FivesafesError as refused:
                return error_page(refused)

        return await run_in_threadpool(act)

    return handler


def _q(params: dict[str, Any], name: str, limit: int = 200) -> str:
    """A query parameter as text (absent: empty), cut to ``limit`` characters."""
    return str(params.get(name) or "")[:limit]


def mount(api: FastAPI, ctx: ServerContext, *, sessions: Sessions | None = None) -> None:
    """Add the pages under /web (and / redirecting there) to the server's app."""
    live = sessions if sessions is not None else Sessions()
    api.add_middleware(SecurityHeaders, prefix=PREFIX)
    static = Path(__file__).parent / "static"
    api.mount(f"{PREFIX}/static", StaticFiles(directory=static), name="web-static")
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    def get(path: str, work: Work) -> None:
        router.add_api_route(path, _guarded(ctx, live, work, post=False), methods=["GET"])

    def post(path: str, work: Work) -> None:
        router.add_api_route(path, _guarded(ctx, live, work, post=True), methods=["POST"])

    oidc_name = ctx.oidc.settings.name if ctx.oidc is not None else None
    ctx.oidc_landing = lambda request, made: oidc_landing(live, request, made)
    ctx.oidc_web_start = f"{PREFIX}/signin/oidc"

    async def signin_page(request: Request) -> Response:
        return signin_form(request, oidc_name=oidc_name)

    async def signin_post(request: Request) -> Response:
        try:
            form = await read_form(request)
        except FivesafesError as refused:
            return error_page(refused)
        return await run_in_threadpool(do_signin, ctx, live, request, form)

    def signin_oidc(request: Request) -> Response:
        # started here (/api/v1/auth/oidc/start?to=web sends the browser here): only a
        # /web path gets the session cookie, whose token the sign-in then revokes (see
        # auth.oidc_start)
        return oidc_start(ctx, request)

    router.add_api_route("/signin", signin_page, methods=["GET"])
    router.add_api_route("/signin/oidc", signin_oidc, methods=["GET"])
    router.add_api_route("/signin", signin_post, methods=["POST"])
    post("/signout", lambda web, _f, _p: do_signout(ctx, live, web))
    get("/", lambda web, _f, _p: pages.status(ctx, web))
    post("/declaration/sign", lambda web, f, _p: pages.sign_declaration(ctx, web, f))
    get("/checking", lambda web, _f, _p: pages.queue(ctx, web))
    get("/checking/{rid:int}", lambda web, _f, p: pages.request_page(ctx, web, p["rid"]))
    get("/checking/{rid:int}/file", lambda web, _f, p: pages.request_file(ctx, web, p["rid"]))
    post("/checking/{rid:int}/vote", lambda web, f, p: pages.vote(ctx, web, p["rid"], f))
    get("/grants", lambda web, _f, _p: pages.grants(ctx, web))
    post("/grants/{gid:int}", lambda web, f, p: pages.decide_grant(ctx, web, p["gid"], f))
    post("/grants/{gid:int}/revoke", lambda web, f, p: pages.revoke_grant(ctx, web, p["gid"], f))
    get("/evidence", lambda web, _f, p: pages.evidence(ctx, web, _q(p, "verified", 8)))
    post("/evidence/verify", lambda web, _f, _p: pages.verify_now(ctx, web))
    get(
        "/publication",
        lambda web, _f, _p: publication.releases(ctx, web, _q(_p, "source"), _q(_p, "q")),
    )
    get(
        "/publication/{release_id}",
        lambda web, _f, p: publication.release_page(ctx, web, p["release_id"]),
    )
    get("/requests", lambda web, _f, _p: requests.cases(ctx, web))
    get("/requests/disclosure-log", lambda web, _f, _p: requests.disclosure_log(ctx, web))
    get(
        "/requests/{cid:int}",
        lambda web, _f, p: requests.case_page(ctx, web, p["cid"], _q(p, "done", 32)),
    )
    post("/requests/{cid:int}/move", lambda web, f, p: requests.move(ctx, web, p["cid"], f))
    get("/admin", lambda _w, _f, _p: RedirectResponse(f"{PREFIX}/admin/people", status_code=303))
    get("/admin/{section}", lambda web, _f, p: admin.admin_page(ctx, web, p["section"]))
    post(
        "/admin/{section}/{verb}",
        lambda web, f, p: admin.admin_post(ctx, web, f"{p['section']}/{p['verb']}", f),
    )

    async def not_found(request: Request) -> Response:
        # last: any other path under /web is a page (not the API's JSON 404)
        return _not_found()

    router.add_api_route("/{rest:path}", not_found, methods=["GET", "POST"])
    api.include_router(router)

    @api.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=303)
