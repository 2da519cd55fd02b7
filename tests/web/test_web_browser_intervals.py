"""In a real browser: a checker reads each hidden cell's required and achieved interval, the
author does not; an auditor verifies the log from the evidence page and sees a tampered log
fail. axe-core checks both pages as they are then (no serious or critical violation)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_served import CHROMIUM, serve, sign_in
from web_world import WebWorld

if not CHROMIUM.exists():
    pytest.skip(
        f"no browser at {CHROMIUM}: `make chromium` (root) installs Debian's",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe is not installed")
from test_web_accessibility import blocking_violations  # noqa: E402


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[WebWorld, str]]:
    with serve(tmp_path) as both:
        yield both


def test_a_checker_sees_required_and_achieved_intervals_and_the_author_does_not(
    served: tuple[WebWorld, str],
) -> None:
    from fivesafes.governance.roles import Role
    from fivesafes.services.governance import people

    ww, base = served
    ww.world.reg.act("root", people.change_roles, "ada", [Role.OUTPUT_CHECKER], [])
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            olga = browser.new_context().new_page()
            sign_in(olga, base, "olga")
            olga.goto(f"{base}/web/checking/{ww.request_id}")
            checker = olga.locator("table.cells").nth(1)
            heads = checker.locator("thead th").all_inner_texts()
            assert heads[-2:] == ["Required interval", "Achieved interval (audit)"]
            a3 = checker.locator("tr", has=olga.get_by_role("rowheader", name="a3"))
            assert a3.locator("td").all_inner_texts()[-2:] == ["[1, 3]", "[0, 17]"]
            a2 = checker.locator("tr", has=olga.get_by_role("rowheader", name="a2"))
            assert a2.locator("td").all_inner_texts()[-2:] == ["", "[0, 17]"]
            published = olga.locator("table.cells").first
            assert published.get_by_text("[0, 17]").count() == 0
            assert not blocking_violations(olga)
            ada = browser.new_context().new_page()
            sign_in(ada, base, "ada")
            answer = ada.goto(f"{base}/web/checking/{ww.request_id}")
            assert answer is not None and answer.status == 403
            assert "[0, 17]" not in ada.content() and "Achieved interval" not in ada.content()
        finally:
            browser.close()


def test_an_auditor_verifies_the_log_and_sees_a_tampered_log_fail(
    served: tuple[WebWorld, str],
) -> None:
    from audit_tampering import tamper

    ww, base = served
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page()
            sign_in(page, base, "root")
            page.goto(f"{base}/web/evidence")
            assert page.get_by_text("No verification has been recorded yet").is_visible()
            verify = page.get_by_role("button", name="Verify the log now and record the outcome")
            verify.click()
            page.wait_for_url(f"{base}/web/evidence?verified=1")
            last = page.locator("#last-verification")
            assert "verified: the chain and every checkpoint intact" in last.inner_text()
            assert "root" in last.inner_text()
            assert page.locator("#last-checkpoint").is_visible()
            assert not blocking_violations(page)
            tamper(ww.app.workspace.engine(), "UPDATE audit_log SET actor = 'x' WHERE seq = 3")
            page.get_by_role("button", name="Verify the log now and record the outcome").click()
            page.wait_for_url(f"{base}/web/evidence?verified=1")
            shown = page.locator("#last-verification").inner_text()
            assert "FAILED" in shown and "event #3" in shown
            assert page.get_by_text("The log does NOT verify").is_visible()
            assert not blocking_violations(page)
        finally:
            browser.close()
