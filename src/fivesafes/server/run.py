"""Serving the API: a Unix socket (always) and TCP (optionally), in the foreground.

uvicorn serves both from one event loop; on SIGTERM or SIGINT it stops accepting,
lets in-flight requests finish, then returns (``timeout_graceful_shutdown``).
The socket file is mode 0666 on purpose: it grants nothing, since every request is
identified by its peer's uid; the folder that holds it must be reachable by the people.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from fivesafes.app import App
from fivesafes.errors import WorkspaceError
from fivesafes.server.api import ServerContext, create_app
from fivesafes.server.peer import peer_protocol
from fivesafes.server.private import check_private
from fivesafes.server.upload import sweep_uploads
from fivesafes.services.audit_log import sign_unsigned_tail

GRACE_S = 30


def unix_socket(path: Path) -> socket.socket:
    """A listening Unix socket at ``path`` (mode 0666); a stale socket file is replaced."""
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise WorkspaceError(
                f"{path} exists and is not a socket", hint="choose another --socket path"
            )
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # nobody listens: a leftover of a stopped server
        else:
            raise WorkspaceError(
                f"a server already listens on {path}", hint="stop it first, or choose another path"
            )
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    os.chmod(path, 0o666)  # noqa: S103 - the socket grants nothing: each peer is identified
    sock.listen(128)
    return sock


def tcp_socket(address: str) -> socket.socket:
    """A listening TCP socket at HOST:PORT."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise WorkspaceError(f"--http {address!r} is not HOST:PORT", hint="e.g. 127.0.0.1:8080")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), int(port)))
    sock.listen(128)
    return sock


def _recover(app: App) -> None:
    """Settle what a server killed mid-request left: its plain-text uploads, its unsigned
    audit events (the vault's staging and the releases' are settled by their own next use)."""
    sweep_uploads(app.workspace.home)
    with app.transaction() as session:
        sign_unsigned_tail(session)


def serve(
    home: Path,
    socket_path: Path,
    *,
    http: str | None = None,
    extend: Callable[[FastAPI, ServerContext], None] | None = None,
    ready: Callable[[str], None] | None = None,
    area_passphrases: Mapping[str, str] | None = None,
) -> None:
    """Open the workspace and serve it until SIGTERM/SIGINT (in-flight requests finish)."""
    check_private(home.expanduser().resolve())
    app = App.open(home, area_passphrases=area_passphrases)
    app.serving = True
    _recover(app)
    sockets = [unix_socket(socket_path)]
    try:
        if http:
            sockets.append(tcp_socket(http))
        config = uvicorn.Config(
            create_app(app, extend=extend),
            http=peer_protocol(),
            loop="auto",  # uvloop when installed (it is in the lockfile)
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=GRACE_S,
            access_log=False,
        )
        server = uvicorn.Server(config)
        if ready is not None:
            where = f"unix:{socket_path}" + (f" and http://{http}" if http else "")
            ready(f"fivesafes server: serving {app.workspace.home} on {where}")
        # uvicorn handles SIGTERM during the run, then restores the previous handler and
        # raises the signal again: with the default one the process would die before the
        # cleanup below (the socket file left behind). A no-op lets us finish and exit 0.
        signal.signal(signal.SIGTERM, lambda *_: None)
        server.run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        app.close()
