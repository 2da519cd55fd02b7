"""Sign-in, sign-out and the signed-in browser of each request (deny by default).

Sign-in exchanges the local password for a server token (``services.signin``: argon2,
throttled, audited) and keeps it in an HttpOnly, SameSite=Strict cookie (Secure over
TLS). The sign-in form carries a pre-session CSRF token (double submit: cookie and field)
so another site cannot sign a browser in as someone else.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from fivesafes.audit.events import Outcome
from fivesafes.errors import AccessDenied, FivesafesError
from fivesafes.server.api import ServerContext
from fivesafes.server.oidc_routes import to_provider
from fivesafes.services import signin, signout
from fivesafes.services.context import record
from fivesafes.web.headers import HEADERS, over_tls
from fivesafes.web.render import page
from fivesafes.web.sessions import COOKIE, Sessions, WebSession, csrf_ok

PRESIGN = "fivesafes_presign"
PREFIX = "/web"
PAGE_ACTION = "web.page"


class NotSignedIn(Exception):
    """The request has no live session: the browser is sent to the sign-in page."""


class BadCsrf(Exception):
    """A form came without this session's CSRF token."""


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    """A cookie only our pages get: HttpOnly, SameSite=Strict, Secure over TLS."""
    response.set_cookie(
        name, value, httponly=True, samesite="strict", secure=over_tls(request), path=PREFIX
    )


def current(ctx: ServerContext, sessions: Sessions, request: Request) -> WebSession:
    """The live session of this browser; NotSignedIn when there is none."""
    token = request.cookies.get(COOKIE)
    found = sessions.get(token)
    if found is None or token is None:
        raise NotSignedIn
    # the token itself must still be live (expired, or deleted by a new password or sign-out)
    with ctx.app.workspace.reader() as session:
        if signin.login_of_token(session, token) != found.login:
            sessions.end(token)
            raise NotSignedIn
    return found


def check_csrf(web: WebSession, form: Any) -> None:
    """Raise BadCsrf unless the form carries the session's token."""
    if not csrf_ok(web, form.get("csrf")):
        raise BadCsrf


def deny_page(ctx: ServerContext, login: str, path: str, why: str) -> AccessDenied:
    """A page the person's roles do not open: AccessDenied, recorded as denied."""
    with ctx.app.workspace.transaction() as session:
        record(
            session, login, PAGE_ACTION, outcome=Outcome.DENIED, subject=path, details={"why": why}
        )
    return AccessDenied(f"{login} may not open {path}", reasons=(why,), hint="ask an administrator")


def signin_form(
    request: Request, message: str = "", status: int = 200, oidc_name: str | None = None
) -> Response:
    """The sign-in page with a fresh pre-session CSRF token in a cookie and the form
    (and "Sign in with ``oidc_name``" when the server has OpenID Connect sign-in)."""
    presign = secrets.token_urlsafe(24)
    response = page(
        "signin.html", status, title="Sign in", presign=presign, message=message, oidc=oidc_name
    )
    set_cookie(request, response, PRESIGN, presign)
    return response


def do_signin(ctx: ServerContext, sessions: Sessions, request: Request, form: Any) -> Response:
    """Check the double-submitted token, then the password (the service audits both ways)."""
    sent, kept = str(form.get("csrf") or ""), request.cookies.get(PRESIGN) or ""
    if not sent or not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
        return signin_form(request, "The form expired: please sign in again.", 403)
    login, password = str(form.get("login") or ""), str(form.get("password") or "")
    if not login or not password or len(login) > 64 or len(password) > 1024:
        return signin_form(request, "Give your login and password.", 422)
    # the token this browser still holds: the new sign-in revokes it (its cookie is
    # overwritten below, and a copy of it must not stay valid until it expires)
    earlier = request.cookies.get(COOKIE) or None
    try:
        with ctx.app.workspace.transaction() as session:
            made = signin.sign_in(
                session,
                login,
                password,
                ctx.throttle,
                via="web",
                replaces=signin.token_hash(earlier) if earlier else None,
            )
    except FivesafesError as refused:
        reasons = "; ".join(getattr(refused, "reasons", ())) or refused.message
        return signin_form(request, f"Sign-in refused: {reasons}.", 403)
    if earlier is not None:
        sessions.end(earlier)
    sessions.start(made.login, made.token)
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    set_cookie(request, response, COOKIE, made.token)
    response.delete_cookie(PRESIGN, path=PREFIX)
    return response


def oidc_landing(sessions: Sessions, request: Request, made: signin.Token) -> Response:
    """An OpenID Connect sign-in's end: the session starts, then a same-site hop to /web/.

    The browser arrives from the provider (a cross-site navigation), on which it would
    not send a SameSite=Strict cookie: a page of ours that moves on carries it.
    """
    sessions.start(made.login, made.token)
    response = page("signed-in.html", 200, title="Signed in", login=made.login)
    # served under the API's path, which the pages' middleware does not reach
    response.headers.update({**HEADERS, "Cache-Control": "no-store"})
    set_cookie(request, response, COOKIE, made.token)
    return response


def oidc_start(ctx: ServerContext, request: Request) -> Response:
    """Sign in with OpenID Connect from the pages: to the provider, remembering (as its hash)
    the token this browser still holds, which the callback's new sign-in revokes."""
    if ctx.oidc is None:
        return signin_form(request, "OpenID Connect sign-in is not configured here.", 404)
    earlier = request.cookies.get(COOKIE)
    replaces = signin.token_hash(earlier) if earlier else ""
    try:
        return to_provider(ctx.app, ctx.oidc, "web", replaces)
    except FivesafesError as refused:  # the provider could not be asked (audited)
        reasons = "; ".join(getattr(refused, "reasons", ())) or refused.message
        return signin_form(request, f"Sign-in refused: {reasons}.", 403)


def do_signout(ctx: ServerContext, sessions: Sessions, web: WebSession) -> Response:
    """End the session here and the token in the database (a copied cookie stops working)."""
    with ctx.app.workspace.transaction() as session:
        signout.sign_out(session, web.login, web.token)
    sessions.end(web.token)
    response = RedirectResponse(f"{PREFIX}/signin", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response
