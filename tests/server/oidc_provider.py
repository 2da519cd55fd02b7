"""A small but real OpenID Connect provider for the tests, on 127.0.0.1 in a thread.

It serves discovery, JWKS, an authorization endpoint that signs anyone in at once (as
``login_as``) and a token endpoint that checks what a real one checks: the client's
secret, the code (once), the redirect URI and the PKCE verifier. Its ID tokens are
signed with a test RSA key (joserfc, authlib's JOSE library); ``tamper`` changes the
next ones (another nonce, audience, an expired token, another key) to see them refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "fivesafes-test"
CLIENT_SECRET = "s3cret-of-the-test-client"


@dataclass
class Provider:
    """The provider's state: its key, the codes it gave, what to put in the next tokens."""

    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    login_as: dict[str, Any] = field(default_factory=dict)  # the signed-in user's claims
    tamper: dict[str, Any] = field(default_factory=dict)  # claims to override next
    sign_with: RSAKey | None = None  # another key (same kid): a bad signature
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def id_token(self, grant: dict[str, str]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **self.login_as,
            **self.tamper,
        }
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.sign_with or self.key)


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": provider.issuer,
                        "authorization_endpoint": f"{provider.issuer}/authorize",
                        "token_endpoint": f"{provider.issuer}/token",
                        "jwks_uri": f"{provider.issuer}/jwks",
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                    },
                )
            elif url.path == "/jwks":
                self._json(200, KeySet([provider.key]).as_dict(private=False))
            elif url.path == "/authorize":
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                code = secrets.token_urlsafe(16)
                provider.codes[code] = query
                back = f"{query['redirect_uri']}?" + urlencode(
                    {"code": code, "state": query["state"]}
                )
                self.send_response(302)
                self.send_header("Location", back)
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {basic}":
                return self._json(401, {"error": "invalid_client"})
            code = form.get("code", "")
            grant = provider.codes.get(code)
            if grant is None or code in provider.used:
                return self._json(400, {"error": "invalid_grant"})
            provider.used.add(code)
            challenge = (
                base64.urlsafe_b64encode(
                    hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                )
                .rstrip(b"=")
                .decode()
            )
            if (
                grant.get("code_challenge_method") != "S256"
                or challenge != grant.get("code_challenge")
                or form.get("redirect_uri") != grant["redirect_uri"]
            ):
                return self._json(400, {"error": "invalid_grant"})
            return self._json(
                200,
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "id_token": provider.id_token(grant),
                },
            )

    return Handler


@contextmanager
def running_provider() -> Iterator[Provider]:
    """A provider listening on 127.0.0.1 (a free port) until the block ends."""
    provider = Provider()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        httpd.shutdown()
        httpd.server_close()
