"""Benchmark of the web pages (issue 16): a page vs the API call that returns the same facts.

"My status" (GET /web/: session and token checks, people.show, declaration.show, the
person's requests, the Jinja2 render) against its baseline measured in the same run: the
API's ``people.show`` with a bearer token (token check, the same service call, JSON). Both
go through the same in-process ASGI client, so the ratio is what the pages add.

    .venv/bin/python bench/bench_web.py            # 200 requests each
    .venv/bin/python bench/bench_web.py --quick    # 30, a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from fivesafes.app import App
from fivesafes.server.api import create_app
from fivesafes.services import signin
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance import declarations
from fivesafes.services.setup import init_workspace
from fivesafes.web import mount

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette prefers httpx2; httpx (pinned) works the same
    from fastapi.testclient import TestClient

LOGIN, PASSWORD = "benchadmin", "a long bench passphrase"


def _timed(n: int, call: Callable[[], object]) -> list[float]:
    call()  # warm
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    """Print p50/p95 of the page and of the API call, and their ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    n = 30 if parser.parse_args().quick else 200
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "ws"
        init_workspace(home, LOGIN, "Bench Admin")
        app = App.open(home)
        with app.workspace.transaction() as session:
            actor = resolve_actor(session, LOGIN)
            signin.set_password(session, actor, PASSWORD)
            declarations.publish_declaration(session, actor, "I will protect the data.")
        client = TestClient(create_app(app, extend=mount), follow_redirects=False)
        form = client.get("/web/signin").text
        csrf = form.split('name="csrf" value="')[1].split('"')[0]
        client.post("/web/signin", data={"login": LOGIN, "password": PASSWORD, "csrf": csrf})
        token = client.post("/api/v1/auth/token", json={"login": LOGIN, "password": PASSWORD})
        bearer = {"authorization": f"Bearer {token.json()['token']}"}

        def page() -> None:
            assert client.get("/web/").status_code == 200

        def api() -> None:
            answer = client.post("/api/v1/people/show", json={"login": LOGIN}, headers=bearer)
            assert answer.status_code == 200, answer.text

        api_s, page_s = _timed(n, api), _timed(n, page)
        app.close()
    for name, times in (("API people.show", api_s), ("page /web/ (my status)", page_s)):
        q = statistics.quantiles(times, n=20)
        print(
            f"{name:<24} p50 {statistics.median(times) * 1000:7.1f} ms  p95 {q[18] * 1000:7.1f} ms"
        )
    ratio = statistics.median(page_s) / statistics.median(api_s)
    print(f"ratio page/API (p50): {ratio:.2f}  ({n} requests each)")


if __name__ == "__main__":
    main()
