"""A real browser (Debian's chromium through Playwright) on a real HTTP server: a checker
signs in, opens the queue, reads the request's table and approves it.

Never downloads a browser: skips, saying why, where /usr/bin/chromium is absent
(``make chromium`` installs it where we are root).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_served import CHROMIUM, serve, sign_in
from web_world import PASSWORD, WebWorld

if not CHROMIUM.exists():
    pytest.skip(
        f"no browser at {CHROMIUM}: `make chromium` (root) installs Debian's",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[WebWorld, str]]:
    with serve(tmp_path) as both:
        yield both


def test_a_checker_signs_in_opens_the_queue_reads_the_table_and_approves(
    served: tuple[WebWorld, str],
) -> None:
    ww, base = served
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/web/checking")
            assert page.url.endswith("/web/signin")  # deny by default
            page.get_by_label("Login").fill("olga")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/web/")
            page.get_by_role("link", name="Output checking").click()
            page.get_by_role("link", name="pay by area").click()
            assert page.get_by_role("heading", name="As it would be published").is_visible()
            published = page.locator("table.cells").first
            assert published.get_by_text("[c]", exact=True).count() == 2
            page.get_by_label("Approve").check()
            page.get_by_label("Comment").fill("checked in the browser")
            page.get_by_role("button", name="Record my review").click()
            page.wait_for_url(f"{base}/web/checking/{ww.request_id}?done=approve")
            assert "Record my review" not in page.content()
            assert not errors, errors  # no CSP violation or script error
        finally:
            browser.close()
    view = ww.world.show(ww.request_id, "olga")
    assert view.reviews_in == 1
    assert [(r.reviewer, r.vote.value, r.comment) for r in view.reviews] == [
        ("olga", "approve", "checked in the browser")
    ]


def test_a_person_signs_the_declaration_and_an_owner_approves_a_grant_by_keyboard(
    served: tuple[WebWorld, str],
) -> None:
    from fivesafes.services.governance import grants

    ww, base = served
    asked = ww.world.reg.act("bob", grants.request_grant, "bob", "earnings", "tables")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            bob = browser.new_page()
            sign_in(bob, base, "bob")
            assert bob.get_by_text("You have not signed the current declaration").is_visible()
            sign = bob.get_by_role("button", name="I have read it and I sign version 1")
            sign.focus()
            with bob.expect_navigation():
                bob.keyboard.press("Enter")  # keyboard only
            assert bob.get_by_text("You have signed the current declaration").is_visible()
            iris = browser.new_context().new_page()  # a browser of her own (cookies)
            sign_in(iris, base, "iris")
            iris.get_by_role("link", name="Grants").click()
            row = iris.locator("table").first.get_by_role("row").filter(has_text="tables")
            assert "signed" in row.inner_text()  # bob's people checks, after he signed
            row.get_by_label("Note").fill("need shown")
            row.get_by_role("button", name="Approve").focus()
            with iris.expect_navigation():
                iris.keyboard.press("Enter")
            assert iris.get_by_text("No grant requests for your areas.").is_visible()
        finally:
            browser.close()
    assert ww.world.reg.read(grants.get_grant, asked.id).state.value == "approved"


def test_an_officer_opens_a_case_from_the_list_and_closes_it(
    served: tuple[WebWorld, str],
) -> None:
    from web_requests import MARKER, add_officers, assigned_case

    from fivesafes.server.operations import run

    ww, base = served
    add_officers(ww)
    case_id = assigned_case(ww)
    exempt = {"case_id": case_id, "part": "firm-level figures", "code": "s43",
              "public_interest": "harm to the firms outweighs the interest"}  # fmt: skip
    run(ww.app, "fiona", "request.exempt", exempt)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            sign_in(page, base, "fiona")
            page.get_by_role("link", name="Requests").click()
            page.get_by_role("link", name=f"#{case_id}").click()
            page.wait_for_url(f"{base}/web/requests/{case_id}")
            assert MARKER in page.locator("dd.requester").inner_text()
            assert page.get_by_role("rowheader", name="firm-level figures").is_visible()
            page.get_by_label("Outcome").select_option("part-withheld")
            page.get_by_role("button", name="Close the case").click()
            page.wait_for_url(f"{base}/web/requests/{case_id}?done=close")
            assert page.get_by_role("status").inner_text() == "Done: close."
            assert page.get_by_role("button", name="Close the case").count() == 0
            assert not errors, errors  # no CSP violation or script error
        finally:
            browser.close()
    closed = run(ww.app, "fiona", "request.show", {"case_id": case_id})
    assert (closed["state"], closed["outcome"]) == ("closed", "part-withheld")
