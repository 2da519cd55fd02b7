"""The client of ``fivesafes server`` (the CLI's and the demo's): operations over HTTP.

``--server unix:PATH`` (or FIVESAFES_SERVER) makes each routed command an HTTP call:
the server establishes who calls from the socket's peer credentials, so nothing here
says who the user is. Errors come back as JSON and are raised again as the same
code, message, hint, reasons and exit status, which the CLI prints as it always has.
"""

from __future__ import annotations

import gc
import json
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from fivesafes.errors import FivesafesError, WorkspaceError

SERVER_ENV = "FIVESAFES_SERVER"
DEMO_USER_ENV = "FIVESAFES_USER"
# honoured only by a server on a demo-identity workspace (server/identity.py)
DEMO_USER_HEADER = "X-Fivesafes-Demo-User"
TIMEOUT_S = 300.0


class RemoteError(FivesafesError):
    """An error the server reported, with its code and exit status."""

    def __init__(
        self, code: str, message: str, hint: str | None, reasons: list[str], exit_status: int
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.exit_status = exit_status
        self.reasons = tuple(reasons)


def server_address(given: str | None = None) -> str | None:
    """The server to call: ``given`` (--server), else FIVESAFES_SERVER, else None (in process)."""
    raw = (given if given is not None else os.environ.get(SERVER_ENV, "")).strip()
    return raw or None


def client_for(address: str) -> httpx.Client:
    """An HTTP client for ``unix:PATH`` or ``http(s)://HOST:PORT``."""
    if address.startswith("unix:"):
        path = address[len("unix:") :]
        transport = httpx.HTTPTransport(uds=path)
        demo_user = os.environ.get(DEMO_USER_ENV, "").strip()
        return httpx.Client(
            transport=transport,
            base_url="http://fivesafes",
            timeout=TIMEOUT_S,
            headers={DEMO_USER_HEADER: demo_user} if demo_user else {},
        )
    if address.startswith(("http://", "https://")):
        headers = {}
        token = os.environ.get("FIVESAFES_TOKEN", "").strip()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=address.rstrip("/"), headers=headers, timeout=TIMEOUT_S)
    raise WorkspaceError(
        f"--server {address!r} is neither unix:PATH nor http(s)://HOST:PORT",
        hint="e.g. --server unix:/run/fivesafes/api.sock",
    )


CHUNK_BYTES = 1024 * 1024


def _json_ready(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in params.items()}


def call(address: str, name: str, params: dict[str, Any]) -> Any:
    """Run operation ``name`` on the server; its result, or its error raised as a RemoteError."""
    body = _json_ready(params)
    return _post(address, name, lambda c, path: c.post(path, json=body))


def upload(address: str, name: str, file: Path, params: dict[str, Any]) -> Any:
    """Run upload operation ``name`` on the server with ``file`` streamed as the body."""
    if not file.is_file():
        raise WorkspaceError(f"{file} is not a file", hint="give the path of a readable file")

    def chunks() -> Iterator[bytes]:
        with file.open("rb") as stream:
            while chunk := stream.read(CHUNK_BYTES):
                yield chunk

    query = {"filename": file.name, "params": json.dumps(_json_ready(params))}
    headers = {"Content-Type": "application/octet-stream"}
    return _post(
        address,
        name,
        lambda c, path: c.post(path, params=query, content=chunks(), headers=headers),
    )


def _post(address: str, name: str, send: Callable[[httpx.Client, str], httpx.Response]) -> Any:
    if address.startswith("unix:") and not Path(address[len("unix:") :]).is_socket():
        raise WorkspaceError(
            f"no fivesafes server socket at {address[len('unix:') :]}",
            hint="check that `fivesafes server start` runs and the socket path is right",
        )
    failure: str | None = None
    # httpcore does not close a Unix socket whose connect() failed (a stale socket file):
    # it is freed with the exception, quietly, instead of a ResourceWarning later.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            with client_for(address) as client:
                response = send(client, f"/api/v1/{name.replace('.', '/')}")
        except httpx.TransportError as exc:
            failure = str(exc) or type(exc).__name__
        if failure is not None:
            gc.collect()
    if failure is not None:
        raise WorkspaceError(
            f"cannot reach the fivesafes server at {address}: {failure}",
            hint="check that `fivesafes server start` runs and the socket path is right",
        )
    try:
        data = response.json()
    except ValueError:
        raise WorkspaceError(
            f"the server at {address} answered {response.status_code} without JSON",
            hint="check that --server points at a fivesafes server",
        ) from None
    if response.is_success and isinstance(data, dict) and "result" in data:
        return data["result"]
    error = data.get("error", {}) if isinstance(data, dict) else {}
    raise RemoteError(
        str(error.get("code", "error")),
        str(error.get("message", f"the server answered {response.status_code}")),
        error.get("hint"),
        [str(r) for r in error.get("reasons", [])],
        int(error.get("exit_status", 1)),
    )
