"""The demo through a server: ``fivesafes server start`` on the demo workspace in the
background, every routed step a call through its Unix socket, and the server stopped at
the end (SIGTERM), whatever happened.

The demo plays several people from one OS account: its workspace is a demo-identity one,
so the server honours the login each call names (``X-Fivesafes-Demo-User``), from its own
account only. A real server never does (see server/identity.py).
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from fivesafes.errors import WorkspaceError
from fivesafes.server import client

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
SOCKET_PATH_MAX = 100  # a Unix socket's path is limited to about 108 bytes


@dataclass(frozen=True)
class DemoServer:
    """A running demo server: where to call it."""

    address: str
    socket: Path

    def call(self, login: str, name: str, /, **params: Any) -> Any:
        """Operation ``name`` as ``login`` (a demo workspace's person), through the socket."""
        with _acting(login):
            return client.call(self.address, name, params)

    def upload(self, login: str, name: str, file: Path, /, **params: Any) -> Any:
        """Upload operation ``name`` with ``file`` streamed, as ``login``."""
        with _acting(login):
            return client.upload(self.address, name, file, params)


@contextlib.contextmanager
def _acting(login: str) -> Iterator[None]:
    before = os.environ.get(client.DEMO_USER_ENV)
    os.environ[client.DEMO_USER_ENV] = login
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(client.DEMO_USER_ENV, None)
        else:
            os.environ[client.DEMO_USER_ENV] = before


def make_private(home: Path) -> None:
    """The demo workspace as a server wants it: the account's alone (0700 / 0600)."""
    for folder, dirs, files in os.walk(home):
        os.chmod(folder, 0o700)
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(0o600)
        for name in dirs:
            os.chmod(Path(folder) / name, 0o700)


def _socket_path(out: Path) -> Path:
    inside = out.resolve() / "run" / "api.sock"
    if len(str(inside)) <= SOCKET_PATH_MAX:
        inside.parent.mkdir(parents=True, exist_ok=True)
        return inside
    # the demo folder's path is too long for a socket: a short private folder instead
    return Path(tempfile.mkdtemp(prefix="fivesafes-demo-")) / "api.sock"


def _healthy(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), base_url="http://x") as c:
            return c.get("/api/v1/health").status_code == 200
    except httpx.TransportError:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        return False


@contextlib.contextmanager
def demo_server(home: Path, out: Path) -> Iterator[DemoServer]:
    """A server on the demo workspace ``home``, its socket under ``out``; stopped on exit."""
    make_private(home)
    sock = _socket_path(out)
    log = (out / "server.log").open("w", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVESAFES_")}
    args = [sys.executable, "-m", "fivesafes.cli.main", "server", "start", "--home", str(home)]
    process = subprocess.Popen(  # noqa: S603 (this interpreter, our own module)
        [*args, "--socket", str(sock)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(sock):
            if process.poll() is not None or time.monotonic() > deadline:
                raise WorkspaceError(
                    "the demo's server did not start",
                    hint=f"see {out / 'server.log'}",
                )
            time.sleep(0.1)
        yield DemoServer(f"unix:{sock}", sock)
    finally:
        if process.poll() is None:
            process.terminate()  # SIGTERM: in-flight requests finish, then it exits
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        if sock.parent != (out.resolve() / "run"):
            shutil.rmtree(sock.parent, ignore_errors=True)  # the short folder made for it
