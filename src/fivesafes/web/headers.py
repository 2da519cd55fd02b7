"""Security headers on every page: a strict CSP (no inline script or style), no framing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def over_tls(request: Request) -> bool:
    """Whether the browser reached us over TLS (cookies get Secure, HSTS is sent)."""
    return request.url.scheme == "https"


class SecurityHeaders(BaseHTTPMiddleware):
    """Adds HEADERS to every response under the web pages' prefix (and HSTS on TLS)."""

    def __init__(self, app: object, prefix: str) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.prefix = prefix

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith(self.prefix) or request.url.path == "/":
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
            response.headers.setdefault("Cache-Control", "no-store")
            if over_tls(request):
                response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
