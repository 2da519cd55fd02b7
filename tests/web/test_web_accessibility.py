"""Accessibility in a real browser: axe-core (WCAG 2.2 A/AA rules) finds no violation of
serious or critical impact on any page, and a checker votes by keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from release_world import SOURCE, first_release
from web_requests import add_officers, assigned_case
from web_served import CHROMIUM, serve, sign_in
from web_world import WebWorld

from fivesafes.release.submission import FileSubmission
from fivesafes.web.admin import SECTIONS as ADMIN_SECTIONS

if not CHROMIUM.exists():
    pytest.skip(
        f"no browser at {CHROMIUM}: `make chromium` (root) installs Debian's",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
axe_playwright = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed"
)

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}


def pages_to_check(ww: WebWorld) -> dict[str, list[str]]:
    """Every page, by who can see it (each signed in as a person with the role it needs)."""
    rid = ww.request_id
    released = ww.world.release(first_release())  # another request, published
    figures = ww.world.submit(
        FileSubmission("figures.csv", b"area,pay\na1,20\n"), source="ashe:chart"
    )
    chart = ww.world.submit(FileSubmission("chart.svg", b"<svg></svg>"), source="ashe:chart")
    add_officers(ww)
    case_id = assigned_case(ww)  # fiona's: the requester and every move form shown
    return {
        "bob": ["/web/"],  # an unsigned declaration: its form shown
        "olga": [
            "/web/checking",
            f"/web/checking/{rid}",
            f"/web/checking/{figures}",
            f"/web/checking/{chart}",
            "/web/nowhere",
        ],
        "iris": [
            "/web/grants",
            f"/web/publication?source={SOURCE}&q=a",
            f"/web/publication/{released.release_id}",
        ],
        "fiona": ["/web/requests", f"/web/requests/{case_id}", "/web/requests/disclosure-log"],
        "root": ["/web/evidence"] + [f"/web/admin/{s}" for s in ADMIN_SECTIONS],
    }


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[WebWorld, str]]:
    with serve(tmp_path) as both:
        yield both


def blocking_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    results = axe_playwright.Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def test_no_serious_or_critical_accessibility_violation_on_any_page(
    served: tuple[WebWorld, str],
) -> None:
    ww, base = served
    found: list[str] = []
    checked = 0
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            anonymous = browser.new_page()
            anonymous.goto(f"{base}/web/signin")
            found += blocking_violations(anonymous)
            checked += 1
            for login, paths in pages_to_check(ww).items():
                page = browser.new_context().new_page()
                sign_in(page, base, login)
                for path in paths:
                    page.goto(base + path)
                    found += blocking_violations(page)
                    checked += 1
        finally:
            browser.close()
    assert checked >= 18
    assert not found, "\n".join(found)


def test_axe_reports_what_it_should(served: tuple[WebWorld, str]) -> None:
    """The check can fail: a page with an unlabelled field and an image without text."""
    _ww, base = served
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page()
            page.goto(f"{base}/web/signin")
            page.set_content(
                '<html lang="en"><title>t</title><main><input name="q">'
                '<img src="/web/static/favicon.svg"></main></html>'
            )
            found = blocking_violations(page)
        finally:
            browser.close()
    assert any("label" in f for f in found) and any("image-alt" in f for f in found), found


def test_a_checker_votes_by_keyboard_alone(served: tuple[WebWorld, str]) -> None:
    ww, base = served
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page()
            sign_in(page, base, "olga")
            page.goto(f"{base}/web/checking/{ww.request_id}")
            keys = page.keyboard
            # from the top of the page, Tab to the first vote option, as a keyboard user would
            for _ in range(200):
                keys.press("Tab")
                if page.evaluate("document.activeElement.name") == "vote":
                    break
            else:
                raise AssertionError("the vote options cannot be reached by Tab")
            keys.press("ArrowDown")  # radio group: the arrow moves and selects
            assert page.evaluate("document.activeElement.value") == "request_changes"
            keys.press("Tab")
            assert page.evaluate("document.activeElement.id") == "comment"
            keys.type("totals need a footnote")
            keys.press("Tab")
            assert page.evaluate("document.activeElement.textContent") == "Record my review"
            with page.expect_navigation():
                keys.press("Enter")
            assert page.url.endswith("?done=request_changes")
        finally:
            browser.close()
    view = ww.world.show(ww.request_id, "olga")
    assert [(r.reviewer, r.vote.value, r.comment) for r in view.reviews] == [
        ("olga", "request_changes", "totals need a footnote")
    ]
