"""The server's HTTP API (FastAPI): every operation under /api/v1, errors as JSON.

``create_app(app, extend=...)`` builds it around an opened workspace (one per
process); ``extend`` mounts more routers or pages later (the web front end) on the same
identity and error handling: it receives the FastAPI object and a ``ServerContext``.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from fivesafes import __version__
from fivesafes.app import App
from fivesafes.errors import FivesafesError, IdentityError, ValidationError
from fivesafes.server.identity import DEMO_USER_HEADER, Caller, caller_of
from fivesafes.server.oidc_routes import mount_oidc
from fivesafes.server.operations import OPERATIONS, UPLOADS, Operation, Params, run, run_upload
from fivesafes.server.upload import UploadOperation, max_upload_bytes, received
from fivesafes.services import signin
from fivesafes.workspace.identity import is_demo_workspace

API = "/api/v1"
log = logging.getLogger("fivesafes.server")
CALLER_KEY = "fivesafes.caller"  # the caller _IdentityFirst established, in the scope
MAX_BODY_ENV = "FIVESAFES_SERVER_MAX_BODY_BYTES"
# a request body other than an upload's file: JSON parameters (50 specs of 1 MB with their
# hierarchies at most, in practice far less) or a web form
DEFAULT_MAX_BODY = 64 * 1024**2

# The HTTP status of each error code (the API's, and the web pages' too).
ERROR_STATUS = {
    "denied": 403,
    "identity": 403,
    "not_found": 404,
    "conflict": 409,
    "integrity": 409,
    "invalid": 422,
    "spec": 422,
    "data": 422,
    "key": 503,
    "workspace": 503,
}


@dataclass
class ServerContext:
    """What routers mounted by ``extend`` share with the API."""

    app: App
    throttle: signin.Throttle = field(default_factory=signin.Throttle)
    oidc: Any = None  # the OIDC client (server.oidc.OidcClient) when [oidc] is configured
    # how an OIDC sign-in started from the web pages lands (set by the pages when mounted):
    # (request, signin.Token) -> a response that starts the browser's session
    oidc_landing: Callable[[Request, signin.Token], Any] | None = None
    # where the pages start an OIDC sign-in themselves (set with oidc_landing): a path
    # that gets the browser's session cookie, whose token the new sign-in revokes
    oidc_web_start: str | None = None
    demo: bool = False  # a demo-identity workspace (see server/identity.py)

    def caller(self, request: Request) -> Caller:
        """The caller of ``request`` (IdentityError, audited, when unknown)."""
        known = request.scope.get("extensions", {}).get(CALLER_KEY)
        if isinstance(known, Caller):
            return known
        return caller_of(
            self.app,
            request.scope,
            request.headers.get("authorization"),
            request.headers.get(DEMO_USER_HEADER),
            demo=self.demo,
        )


def error_body(
    code: str, message: str, hint: str | None, reasons: list[str], exit_status: int
) -> dict[str, Any]:
    """The JSON of every error: what the CLI prints and exits with."""
    return {
        "error": {
            "code": code,
            "message": message,
            "hint": hint,
            "reasons": reasons,
            "exit_status": exit_status,
        }
    }


def _fivesafes_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FivesafesError)
    status = ERROR_STATUS.get(exc.code, 400)
    if isinstance(exc, IdentityError) and "sign in" in exc.message:
        status = 401
    body = error_body(
        exc.code, exc.message, exc.hint, list(getattr(exc, "reasons", ())), exc.exit_status
    )
    return JSONResponse(body, status_code=status)


def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    reasons = []
    for problem in exc.errors():
        where = ".".join(str(p) for p in problem.get("loc", ()) if p != "body")
        reasons.append(f"{where or 'body'}: {problem.get('msg', 'invalid')}")
    body = error_body(
        ValidationError.code,
        "the request's parameters are not valid",
        "see /api/openapi.json for each operation's parameters",
        reasons[:20],
        ValidationError.exit_status,
    )
    return JSONResponse(body, status_code=422)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = "not_found" if exc.status_code == 404 else "usage"
    hint = "see /api/openapi.json"
    if exc.status_code == 413:
        hint = f"send less, or ask the administrator to raise {MAX_BODY_ENV}"
    body = error_body(code, str(exc.detail), hint, [], 4 if code == "not_found" else 2)
    return JSONResponse(body, status_code=exc.status_code)


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # No traceback in a response: it is in the server's log only.
    log.exception("unexpected error", exc_info=exc)
    body = error_body(
        "internal",
        "the server failed on this request",
        "tell the administrator; the server's log has the details",
        [],
        1,
    )
    return JSONResponse(body, status_code=500)


class SignIn(BaseModel):
    """A login and password, exchanged for a bearer token."""

    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


def _endpoint(ctx: ServerContext, op: Operation) -> Callable[..., Any]:
    def endpoint(request: Request, body: Params | None = None) -> Any:
        caller = ctx.caller(request)
        if op.socket_only and caller.via != "socket":
            raise IdentityError(
                f"{op.name} is allowed only through the server's Unix socket",
                hint="run the command on the server's machine, as yourself",
            )
        # no body: the operation's defaults, checked like any parameters (run() says which
        # are missing as a ValidationError, never a 500)
        params: Params | dict[str, Any] = body if body is not None else {}
        return {"result": run(ctx.app, caller.login, op.name, params)}

    # FastAPI reads the body's model from the signature: give each endpoint its own.
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request
            ),
            inspect.Parameter(
                "body",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=op.params | None,
                default=None,
            ),
        ]
    )
    endpoint.__name__ = op.name.replace(".", "_")
    return endpoint


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _parameters(name: str, raw: str) -> dict[str, Any]:
    try:
        given = json.loads(raw)
    except ValueError:
        given = None
    if not isinstance(given, dict):
        raise ValidationError(
            f"the parameters of {name} are not a JSON object",
            hint='send ?params={...} as JSON, e.g. {"area": "earnings", "name": "ashe"}',
        )
    return given


def _upload_endpoint(ctx: ServerContext, op: UploadOperation) -> Callable[..., Any]:
    async def endpoint(
        request: Request,
        filename: str = Query(min_length=1, max_length=255),
        params: str = Query(default="{}", max_length=100_000),
    ) -> Any:
        # who calls is known (and a stranger refused) before a byte of the file is read
        caller = await run_in_threadpool(ctx.caller, request)
        given = _parameters(op.name, params)
        async with received(ctx.app, filename, request.stream(), max_upload_bytes()) as path:
            result = await run_in_threadpool(
                run_upload, ctx.app, caller.login, op.name, given, path
            )
        return {"result": result}

    endpoint.__name__ = op.name.replace(".", "_")
    return endpoint


def max_body_bytes() -> int:
    """The largest body, other than an upload's file, the server reads."""
    raw = os.environ.get(MAX_BODY_ENV, "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_MAX_BODY


def _body_too_large(limit: int) -> HTTPException:
    # FastAPI's own HTTPException: raised while it reads a body, it is passed on as it is
    return HTTPException(
        413,
        f"the request's body is larger than the server reads ({limit:,} bytes)",
    )


def _no_store(send: Any) -> Any:
    """``send`` with ``Cache-Control: no-store`` on an answer that says nothing of caching:
    a bearer token (RFC 6749 5.1) or an operation's result (people, audit events, a
    requester's details) must not be kept by a browser's or a proxy's cache."""

    async def sending(message: Any) -> None:
        if message.get("type") == "http.response.start":
            headers = list(message.get("headers") or [])
            if not any(name.lower() == b"cache-control" for name, _ in headers):
                headers.append((b"cache-control", b"no-store"))
            message = {**message, "headers": headers}
        await send(message)

    return sending


class _IdentityFirst:
    """Who calls an operation is established before a byte of its body is read, and no
    body (but an upload's file, bounded on its own) is read past ``max_body_bytes``.

    FastAPI parses an endpoint's JSON body before the endpoint runs: without this, a
    stranger on TCP could make the server hold and parse any amount of it before being
    asked who it is. The caller found is put in the scope for the endpoint (always
    overwritten: nothing a client sends reaches the scope's extensions).
    """

    def __init__(
        self, app: Any, ctx: ServerContext, operations: frozenset[str], uploads: frozenset[str]
    ) -> None:
        self.app, self.ctx, self.operations, self.uploads = app, ctx, operations, uploads

    async def __call__(self, scope: Any, receive: Any, raw_send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, raw_send)
            return
        send = _no_store(raw_send)
        path = scope.get("path", "")
        if path in self.uploads:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        limit = max_body_bytes()
        extensions = {**(scope.get("extensions") or {})}
        extensions.pop(CALLER_KEY, None)
        try:
            if path in self.operations:
                extensions[CALLER_KEY] = await run_in_threadpool(self.ctx.caller, request)
            declared = request.headers.get("content-length", "").strip()
            if declared.isdigit() and int(declared) > limit:
                raise _body_too_large(limit)
        except FivesafesError as exc:
            await _fivesafes_error(request, exc)(scope, receive, send)
            return
        except StarletteHTTPException as exc:
            await _http_error(request, exc)(scope, receive, send)
            return
        read = 0

        async def bounded() -> Any:
            nonlocal read
            message = await receive()
            if message.get("type") == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    raise _body_too_large(limit)
            return message

        await self.app({**scope, "extensions": extensions}, bounded, send)


def create_app(
    app: App, *, extend: Callable[[FastAPI, ServerContext], None] | None = None
) -> FastAPI:
    """The API around an opened workspace; ``extend`` mounts more routers or pages."""
    api = FastAPI(
        title="fivesafes",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    ctx = ServerContext(app, demo=is_demo_workspace(app.workspace))
    api.state.fivesafes = ctx
    api.add_exception_handler(FivesafesError, _fivesafes_error)
    api.add_exception_handler(RequestValidationError, _invalid)
    api.add_exception_handler(StarletteHTTPException, _http_error)
    api.add_exception_handler(Exception, _unexpected)

    @api.get(f"{API}/health", summary="The server answers (no identity needed).")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @api.post(f"{API}/auth/token", summary="Sign in with a local password: a bearer token.")
    def token(request: Request, body: SignIn) -> dict[str, Any]:
        via = "socket" if request.scope.get("extensions", {}).get("fivesafes.peer") else "tcp"
        with app.workspace.transaction() as session:
            made = signin.sign_in(session, body.login, body.password, ctx.throttle, via=via)
        return {
            "token": made.token,
            "login": made.login,
            "expires_at": made.expires_at.isoformat(),
            "token_type": "bearer",
        }

    mount_oidc(api, ctx)
    for op in OPERATIONS.values():
        api.post(f"{API}{op.path}", summary=op.summary, name=op.name)(_endpoint(ctx, op))
    for up in UPLOADS.values():
        api.post(f"{API}{up.path}", summary=up.summary, name=up.name, openapi_extra=_UPLOAD_BODY)(
            _upload_endpoint(ctx, up)
        )
    # before extend's: middleware added later wraps it (a BaseHTTPMiddleware would turn the
    # 413 raised while a body is read into a 400)
    api.add_middleware(
        _IdentityFirst,
        ctx=ctx,
        operations=frozenset(f"{API}{op.path}" for op in OPERATIONS.values()),
        uploads=frozenset(f"{API}{up.path}" for up in UPLOADS.values()),
    )
    if extend is not None:
        extend(api, ctx)
    return api
