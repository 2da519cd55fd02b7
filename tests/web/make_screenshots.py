"""Screenshots of the pages at 1280 and 390 px wide for docs/web.md (not a test).

Run it as docs/web.md says (the test helpers' folders on PYTHONPATH), e.g. with the
output folder docs/web.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright
from release_world import SOURCE, first_release
from web_requests import add_officers, assigned_case
from web_world import PASSWORD, web_world

PAGES = {"signin": "/web/signin", "status": "/web/", "queue": "/web/checking"}


def main(out: Path) -> None:
    """Write PAGE-WIDTH.png into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, web_world(Path(tmp)) as ww:
        server = uvicorn.Server(uvicorn.Config(ww.api, port=18765, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        base = "http://127.0.0.1:18765"
        pages = {**PAGES, "request": f"/web/checking/{ww.request_id}"}
        released = ww.world.release(first_release())  # something in the register
        add_officers(ww)
        assigned_case(ww, days_ago=40)  # overdue
        case_id = assigned_case(ww)
        # pages other people see: (file name, login, path)
        others = [
            ("grants", "iris", "/web/grants"),
            ("publication", "iris", f"/web/publication?source={SOURCE}&q=a1"),
            ("release", "iris", f"/web/publication/{released.release_id}"),
            ("requests", "fiona", "/web/requests"),
            ("request-case", "fiona", f"/web/requests/{case_id}"),
            ("evidence", "root", "/web/evidence"),
            ("admin", "root", "/web/admin/people"),
        ]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
            for width in (1280, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                for name, path in pages.items():
                    if name == "status":  # sign in first (the sign-in page is shot before)
                        page.get_by_label("Login").fill("olga")
                        page.get_by_label("Password").fill(PASSWORD)
                        page.get_by_role("button", name="Sign in").click()
                        page.wait_for_url(f"{base}/web/")
                    page.goto(base + path)
                    page.screenshot(path=str(out / f"{name}-{width}.png"))
                # the checker's view with the audit's required and achieved intervals
                page.goto(base + pages["request"])
                page.locator("#intervals-note").scroll_into_view_if_needed()
                page.screenshot(path=str(out / f"request-intervals-{width}.png"))
                page.close()
                for name, login, path in others:
                    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
                    page.goto(f"{base}/web/signin")
                    page.get_by_label("Login").fill(login)
                    page.get_by_label("Password").fill(PASSWORD)
                    page.get_by_role("button", name="Sign in").click()
                    page.wait_for_url(f"{base}/web/")
                    page.goto(base + path)
                    if name == "evidence":  # a verification recorded from the page first
                        verify = "Verify the log now and record the outcome"
                        page.get_by_role("button", name=verify).click()
                        page.wait_for_url(f"{base}/web/evidence?verified=1")
                    page.screenshot(path=str(out / f"{name}-{width}.png"))
                    page.close()
            browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main(Path(sys.argv[1]))
