"""The OIDC sign-in's two routes: start (to the provider) and callback (a bearer token back).

Mounted on every server; without ``[oidc] issuer`` both answer that OIDC sign-in is not
configured. Every refusal, whatever failed (state, code, signature, claims, person), is
audited as ``server.signin`` denied, like a wrong password; a success as allowed, with the
issuer and the claim that named the person.

The start leaves a secret in the browser (an HttpOnly cookie, SameSite=Lax so that the
provider's redirect back carries it); the callback is refused in a browser without it,
so a callback address someone else started cannot sign a browser in as them.
"""

from __future__ import annotations

from typing import Any, Literal, NoReturn

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from fivesafes.errors import NotFoundError
from fivesafes.server.oidc import PENDING_S, OidcClient, OidcFailure, oidc_settings
from fivesafes.services import signin

OIDC = "/api/v1/auth/oidc"
BROWSER_COOKIE = "fivesafes_oidc"


def mount_oidc(api: FastAPI, ctx: Any, client: OidcClient | None = None) -> OidcClient | None:
    """Add the OIDC routes to ``api`` (``ctx`` a ServerContext); the client, when configured.

    The settings are read here, once: a misconfigured [oidc] stops the server at start.
    """
    app = ctx.app
    if client is None:
        settings = oidc_settings(app.workspace)
        client = OidcClient(settings) if settings is not None else None
    ctx.oidc = client

    def configured() -> OidcClient:
        if client is None:
            raise NotFoundError(
                "OpenID Connect sign-in is not configured on this server",
                hint="sign in with a password (POST /api/v1/auth/token), or ask the "
                "administrator to set [oidc] in config.toml (docs/server-signin.md)",
            )
        return client

    def refuse(failure: OidcFailure) -> NoReturn:
        refuse_failure(app, configured(), failure)

    @api.get(f"{OIDC}/start", summary="Sign in with OpenID Connect: go to the provider.")
    def start(to: Literal["api", "web"] = "api") -> RedirectResponse:
        # to=web: the callback lands the browser on the web pages (when they are mounted)
        oidc = configured()
        if to == "web" and ctx.oidc_web_start is not None:
            # the pages start it themselves: this path does not get their session cookie,
            # so a sign-in begun here could not revoke the token the browser still holds
            return RedirectResponse(ctx.oidc_web_start, status_code=303)
        return to_provider(app, oidc, to)

    @api.get(f"{OIDC}/callback", summary="The provider's answer: a bearer token.")
    def callback(request: Request) -> Any:
        oidc = configured()
        query = request.query_params
        state, code = query.get("state", ""), query.get("code", "")
        try:
            if query.get("error"):
                raise OidcFailure(f"the provider answered {query['error'][:100]}")
            if not state or not code:
                raise OidcFailure("the callback has no state or no code")
            identity, begun = oidc.finish(state, code, request.cookies.get(BROWSER_COOKIE, ""))
        except OidcFailure as failure:
            refuse(failure)
        with app.workspace.transaction() as session:
            made = signin.sign_in_external(
                session, identity, oidc.settings.logins, replaces=begun.replaces or None
            )
        answer: Response
        if begun.landing == "web" and ctx.oidc_landing is not None:
            answer = ctx.oidc_landing(request, made)
        else:
            answer = JSONResponse(
                {
                    "token": made.token,
                    "login": made.login,
                    "expires_at": made.expires_at.isoformat(),
                    "token_type": "bearer",
                }
            )
        answer.delete_cookie(BROWSER_COOKIE, path=OIDC)
        return answer

    return client


def refuse_failure(app: Any, oidc: OidcClient, failure: OidcFailure) -> NoReturn:
    """Raise the refusal of ``failure``, audited (``server.signin`` denied)."""
    with app.workspace.transaction():
        raise signin.refuse_external(failure.who, oidc.settings.issuer, failure.reason)
    raise AssertionError("unreachable: the transaction re-raises the refusal")


def to_provider(app: Any, oidc: OidcClient, landing: str, replaces: str = "") -> RedirectResponse:
    """Begin a sign-in: the browser goes to the provider and keeps the start's secret.

    ``replaces``: the hash of the web session token the browser still holds (the web
    pages' own start, ``/web/signin/oidc``, which sees its cookie), revoked at success.
    """
    try:
        url, browser = oidc.begin(landing, replaces)
    except OidcFailure as failure:
        refuse_failure(app, oidc, failure)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        max_age=int(PENDING_S),
        path=OIDC,
        httponly=True,
        # Lax, not Strict: the provider's redirect back is a cross-site navigation
        samesite="lax",
        secure=oidc.settings.redirect_uri.startswith("https:"),
    )
    return response
