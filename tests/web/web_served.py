"""The web world behind a real HTTP server (uvicorn in a thread) for the browser tests,
and Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from web_world import PASSWORD, WebWorld, web_world

CHROMIUM = Path("/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(tmp_path: Path) -> Iterator[tuple[WebWorld, str]]:
    """The web world on a free local port; yields it and the base URL."""
    with web_world(tmp_path) as ww:
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(ww.api, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the server did not start"
        try:
            yield ww, f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=20)


def sign_in(page: Any, base: str, login: str) -> None:
    """Sign ``login`` in through the form, as a person would."""
    page.goto(f"{base}/web/signin")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/web/")
