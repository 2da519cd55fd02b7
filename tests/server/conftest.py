"""Fixtures of the server tests: a real server (module-wide) and real second OS accounts."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import SYSTEM_PYTHON, RunningServer, other_python, server_init, start_server


@pytest.fixture(scope="module")
def reachable() -> Iterator[Path]:
    """A folder every account can enter (tmp_path's parents are 0700, which would hide the
    workspace whatever its own modes): the workspace and the socket's folder go in it."""
    folder = Path(tempfile.mkdtemp(prefix="fivesafes-server-"))
    folder.chmod(0o755)
    (folder / "run").mkdir(mode=0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server(reachable: Path) -> Iterator[RunningServer]:
    """A server on a new service-owned workspace, socket and TCP; stopped with SIGTERM."""
    home = reachable / "ws"
    server_init(home)
    sock_dir = reachable / "run"
    running = start_server(home, sock_dir, http=True)
    try:
        yield running
    finally:
        status = running.stop()  # SIGTERM: in-flight requests finish, then exit 0
        output = ""
        if running.process.stdout is not None:
            output = running.process.stdout.read()
            running.process.stdout.close()
        assert status == 0, output
        assert not running.socket.exists(), "the socket file outlived the server"


def _useradd() -> str:
    name = f"fs{secrets.token_hex(4)}"
    subprocess.run(
        ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True
    )
    return name


@pytest.fixture(scope="session")
def os_users() -> Iterator[tuple[str, str]]:
    """Two new OS accounts (a person to register, and one never registered)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create second OS accounts with useradd (CI runs as root)")
    if shutil.which("useradd") is None:
        pytest.skip("useradd is not installed")
    if other_python() is None:
        pytest.skip(
            f"no Python {sys.version_info[0]}.{sys.version_info[1]} that another account can run "
            f"with this checkout's packages ({sys.executable} is not reachable by others, "
            f"{SYSTEM_PYTHON} differs, or the checkout is in a directory others cannot read)"
        )
    made = [_useradd(), _useradd()]
    try:
        yield made[0], made[1]
    finally:
        for name in made:
            subprocess.run(["userdel", name], check=False)
