"""The OIDC sign-in's two routes: start (to the provider) and callback (a bearer token back).

Mounted on every server; without ``[oidc] issuer`` both answer that OIDC sign-in is not
configured. Every refusal, whatever failed (state, code, signature, claims, person), is
audited as ``server.signin`` denied, like a wrong password; a success as allowed, with the
issuer and the claim that named the person.
"""

from __future__ import annotations

from typing import Any, Literal, NoReturn

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from fivesafes.errors import NotFoundError
from fivesafes.server.oidc import OidcClient, OidcFailure, oidc_settings
from fivesafes.services import signin

OIDC = "/api/v1/auth/oidc"


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
        with app.workspace.transaction():
            raise signin.refuse_external(failure.who, configured().settings.issuer, failure.reason)
        raise AssertionError("unreachable: the transaction re-raises the refusal")

    @api.get(f"{OIDC}/start", summary="Sign in with OpenID Connect: go to the provider.")
    def start(to: Literal["api", "web"] = "api") -> RedirectResponse:
        # to=web: the callback lands the browser on the web pages (when they are mounted)
        oidc = configured()
        try:
            url = oidc.begin(to)
        except OidcFailure as failure:
            refuse(failure)
        return RedirectResponse(url, status_code=303)

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
            identity, landing = oidc.finish(state, code)
        except OidcFailure as failure:
            refuse(failure)
        with app.workspace.transaction() as session:
            made = signin.sign_in_external(session, identity, oidc.settings.logins)
        if landing == "web" and ctx.oidc_landing is not None:
            return ctx.oidc_landing(request, made)
        return {
            "token": made.token,
            "login": made.login,
            "expires_at": made.expires_at.isoformat(),
            "token_type": "bearer",
        }

    return client
