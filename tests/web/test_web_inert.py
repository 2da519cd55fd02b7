"""Values from data are shown inert on every page (no markup, no spreadsheet formula), and
repeated wrong passwords are throttled on the sign-in page as on the API."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
import release_world
from release_world import table
from web_world import PASSWORD, WebWorld, csrf_of, web_world

from fivesafes.sdc.hierarchy import Hierarchy

SCRIPT = "<script>alert(1)</script>"
FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def ww(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as made:
        yield made


def test_codes_and_titles_from_data_are_inert(
    ww: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    for code, value in ((SCRIPT, 20.0), (FORMULA, 30.0), ("x", 2.0)):
        monkeypatch.setitem(release_world.VALUES, code, value)
    hostile = Hierarchy.from_pairs(
        "area", [("Total", None), (SCRIPT, "Total"), (FORMULA, "Total"), ("x", "Total")]
    )
    rid = ww.world.submit(table(SCRIPT, hostile, {"x": "primary"}), title=SCRIPT)
    browser = ww.signed_in("olga")
    for path in ("/web/checking", f"/web/checking/{rid}"):
        page = browser.get(path)
        assert page.status_code == 200, page.text
        assert SCRIPT not in page.text and "&lt;script&gt;" in page.text, path
    shown = html.unescape(browser.get(f"/web/checking/{rid}").text)
    assert ">" + FORMULA not in shown  # never a bare formula
    assert ">'" + FORMULA in shown  # shown with the apostrophe, as in table.csv
    assert SCRIPT not in ww.signed_in("ada").get("/web/").text


def test_sign_in_is_throttled_after_repeated_failures(ww: WebWorld) -> None:
    browser = ww.client()
    for _ in range(5):
        form = browser.get("/web/signin")
        browser.post(
            "/web/signin", data={"login": "olga", "password": "wrong", "csrf": csrf_of(form.text)}
        )
    form = browser.get("/web/signin")
    answer = browser.post(
        "/web/signin", data={"login": "olga", "password": PASSWORD, "csrf": csrf_of(form.text)}
    )
    assert answer.status_code == 403 and "too many failed sign-ins" in answer.text
    assert ww.events("server.signin").count(("olga", "denied")) == 6


def assert_inert(text: str, where: str) -> None:
    """No live markup from data and no cell text that a spreadsheet would run."""
    assert SCRIPT not in text, where
    assert ">" + FORMULA not in html.unescape(text), where


def test_data_codes_are_inert_on_every_page_that_shows_them(
    ww: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fivesafes.release.votes import Vote

    for code, value in ((SCRIPT, 20.0), (FORMULA, 30.0), ("x", 2.0)):
        monkeypatch.setitem(release_world.VALUES, code, value)
    hostile = Hierarchy.from_pairs(
        "area", [("Total", None), (SCRIPT, "Total"), (FORMULA, "Total"), ("x", "Total")]
    )
    world = ww.world
    rid = world.submit(table(SCRIPT, hostile, {"x": "primary", SCRIPT: "secondary"}), title=SCRIPT)
    world.vote("olga", rid, Vote.REQUEST_CHANGES)
    world.vote("oscar", rid, Vote.REQUEST_CHANGES)
    world.submit(table(SCRIPT, hostile, {"x": "primary", FORMULA: "secondary"}), request_id=rid)
    olga = ww.signed_in("olga")
    queue, review = olga.get("/web/checking").text, olga.get(f"/web/checking/{rid}").text
    assert "Changes from version 1" in review and "&lt;script&gt;" in review
    for text, where in ((queue, "queue"), (review, "request page with its diff")):
        assert_inert(text, where)
    world.vote("olga", rid, Vote.APPROVE)
    world.vote("oscar", rid, Vote.APPROVE)
    released = world.publish(rid)
    pages = {
        "register search": olga.get(
            "/web/publication", params={"source": release_world.SOURCE, "q": "script"}
        ),
        "release page": olga.get(f"/web/publication/{released.release_id}"),
        "my status": ww.signed_in("ada").get("/web/"),
        "evidence": ww.signed_in("root").get("/web/evidence"),
    }
    for where, answer in pages.items():
        assert answer.status_code == 200, where
        assert_inert(answer.text, where)
    assert "&lt;script&gt;" in pages["register search"].text  # the hostile cells are listed
