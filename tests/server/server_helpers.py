"""Helpers of the server tests: a real server in a subprocess, calls as other OS accounts.

The workspace belongs to the account running the tests (root in CI: the service
account); the socket sits in a folder everyone can reach. Second accounts are made with
``useradd`` and removed after; without root the tests that need them skip and say why.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

import fivesafes
from fivesafes.cli.main import cli

FIVESAFES = str(Path(sys.executable).with_name("fivesafes"))
ADMIN = pwd.getpwuid(os.geteuid()).pw_name  # the tests' account: service account and admin
START_TIMEOUT_S = 120.0


@dataclass
class RunningServer:
    """A started server: its workspace, socket, optional TCP address, and process."""

    home: Path
    socket: Path
    http: str | None
    process: subprocess.Popen[str]

    @property
    def address(self) -> str:
        """The CLI's --server value."""
        return f"unix:{self.socket}"

    def client(self) -> httpx.Client:
        """An HTTP client on the socket, as the tests' own account."""
        return httpx.Client(
            transport=httpx.HTTPTransport(uds=str(self.socket)),
            base_url="http://fivesafes",
            timeout=60,
        )

    def call(self, name: str, /, **body: Any) -> httpx.Response:
        """POST one operation as the tests' own account."""
        with self.client() as client:
            return client.post(f"/api/v1/{name.replace('.', '/')}", json=body)

    def stop(self) -> int:
        """SIGTERM, then the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    home: Path, sock_dir: Path, *, http: bool = False, env: Mapping[str, str] | None = None
) -> RunningServer:
    """``fivesafes server start`` in a subprocess, once its health answers (``env``: more
    environment, e.g. FIVESAFES_FAULT for the kill -9 tests)."""
    sock = sock_dir / "api.sock"
    address = f"127.0.0.1:{free_port()}" if http else None
    args = [FIVESAFES, "server", "start", "--home", str(home), "--socket", str(sock)]
    if address:
        args += ["--http", address]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FIVESAFES_")}
    process = subprocess.Popen(
        args,
        env={**clean, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = RunningServer(home, sock, address, process)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the server stopped: {process.stdout.read() if process.stdout else ''}"
            )
        if sock.exists():
            try:
                with running.client() as client:
                    if client.get("/api/v1/health").status_code == 200:
                        return running
            except httpx.TransportError:
                # httpcore leaves a refused Unix socket unclosed: collect it quietly
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ResourceWarning)
                    gc.collect()
        time.sleep(0.2)
    running.stop()
    raise AssertionError("the server did not answer in time")


def server_init(home: Path, admin: str = ADMIN) -> None:
    result = CliRunner().invoke(
        cli,
        ["server", "init", "--home", str(home), "--admin-login", admin, "--admin-name", "Admin"],
    )
    assert result.exit_code == 0, result.output


_CLIENT = """
import json, sys, httpx
sock, path, body = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with httpx.Client(transport=httpx.HTTPTransport(uds=sock), base_url="http://x") as c:
    r = c.post(path, json=body)
print(json.dumps({"status": r.status_code, "body": r.json()}))
"""


# Another account cannot run this interpreter when it lives under /root (0700, as with
# pyenv in CI): it runs the system's Python of the same version, on our packages instead.
SYSTEM_PYTHON = "/usr/bin/python3"
_SRC = str(Path(fivesafes.__file__).resolve().parents[1])
_SITE = sysconfig.get_paths()["purelib"]


@functools.cache
def other_python() -> str | None:
    """An interpreter other accounts can run, of this one's version; None if there is none."""
    if os.geteuid() != 0:
        return None
    for candidate in (sys.executable, SYSTEM_PYTHON):
        try:
            # with our packages as the account will see them: a checkout under a 0700
            # directory (mktemp -d) runs, but imports nothing of ours
            probe = subprocess.run(
                [
                    candidate,
                    "-c",
                    "import sys, fivesafes, httpx; print(tuple(sys.version_info[:2]))",
                ],
                user="nobody",
                env=_env(None),
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError:  # not executable by others
            continue
        if probe.returncode == 0 and probe.stdout.strip() == str(tuple(sys.version_info[:2])):
            return candidate
    return None


def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": "/",
        "LANG": "C.UTF-8",
        "PYTHONPATH": f"{_SRC}:{_SITE}",
        **(extra or {}),
    }


def _python() -> str:
    return other_python() or sys.executable


def http_as(
    user: str | int, sock: Path, name: str, body: Mapping[str, Any] | None = None
) -> tuple[int, Any]:
    """POST one operation from a process running as ``user``: (status, JSON body)."""
    done = subprocess.run(
        [
            _python(),
            "-c",
            _CLIENT,
            str(sock),
            f"/api/v1/{name.replace('.', '/')}",
            json.dumps(body or {}),
        ],
        user=user,
        env=_env(None),
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    return int(answer["status"]), answer["body"]


def cli_as(
    user: str, args: Sequence[str], env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``fivesafes ARGS`` run as ``user`` (a real process of that account)."""
    return subprocess.run(
        [_python(), "-m", "fivesafes.cli.main", *args],
        user=user,
        env=_env(env),
        cwd="/",
        capture_output=True,
        text=True,
        timeout=180,
    )


def as_user(user: str | int, code: str) -> subprocess.CompletedProcess[str]:
    """Python ``code`` run as ``user``."""
    return subprocess.run(
        [_python(), "-c", code],
        user=user,
        env=_env(None),
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
    )
