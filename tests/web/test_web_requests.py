"""The FOI/SAR officer's pages: the cases, a case with its clock and moves, the disclosure
log; the requester's details shown to the case's officers only, and inert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_requests import MARKER, add_officers, assigned_case, open_case
from web_world import WebWorld, csrf_of, web_world

from fivesafes.server.operations import run


@pytest.fixture
def ww(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as world:
        add_officers(world)
        yield world


def test_the_list_shows_each_case_with_its_clock_and_marks_the_overdue(ww: WebWorld) -> None:
    fresh = open_case(ww, days_ago=1)
    late = open_case(ww, days_ago=120)
    listing = ww.signed_in("fred").get("/web/requests")
    assert listing.status_code == 200, listing.text
    assert f'href="/web/requests/{fresh["id"]}"' in listing.text
    assert f'href="/web/requests/{late["id"]}"' in listing.text
    assert listing.text.count("overdue by") == 1 and fresh["due"] in listing.text
    assert MARKER not in listing.text and "<script>" not in listing.text


def test_the_requester_is_shown_to_the_case_officer_only_and_inert(ww: WebWorld) -> None:
    case_id = assigned_case(ww)
    mine = ww.signed_in("fiona").get(f"/web/requests/{case_id}")
    other = ww.signed_in("fred").get(f"/web/requests/{case_id}")
    assert mine.status_code == 200 and other.status_code == 200, other.text
    assert MARKER in mine.text and MARKER not in other.text
    for shown in (mine.text, other.text):
        assert "<script>" not in shown and "&lt;script&gt;alert(2)" in shown
    assert "&lt;script&gt;alert(1)" in mine.text
    # fiona's look is audited; fred's page never asked, so nothing about him is logged
    assert ww.events("request.requester_read") == [("fiona", "allowed")]
    assert "Close the case" in mine.text and "Close the case" not in other.text


def test_a_person_without_a_requests_role_is_refused(ww: WebWorld) -> None:
    case_id = assigned_case(ww)
    ada = ww.signed_in("ada")
    assert ada.get("/web/requests").status_code == 403
    refused = ada.get(f"/web/requests/{case_id}")
    assert refused.status_code == 403 and MARKER not in refused.text
    assert ada.get("/web/requests/disclosure-log").status_code == 403
    assert ww.events("web.page").count(("ada", "denied")) == 3


def test_moves_go_through_the_service_with_csrf(ww: WebWorld) -> None:
    case_id = open_case(ww)["id"]
    fiona = ww.signed_in("fiona")
    page = fiona.get(f"/web/requests/{case_id}")
    token = csrf_of(page.text)
    url = f"/web/requests/{case_id}/move"
    assert fiona.post(url, data={"move": "assign", "officer": "fiona"}).status_code == 403
    assert run(ww.app, "fiona", "request.show", {"case_id": case_id})["state"] == "open"
    done = fiona.post(url, data={"csrf": token, "move": "assign", "officer": "fiona"})
    assert done.status_code == 303, done.text
    fred = ww.signed_in("fred")
    fred_token = csrf_of(fred.get(f"/web/requests/{case_id}").text)
    refused = fred.post(url, data={"csrf": fred_token, "move": "close", "outcome": "granted"})
    assert refused.status_code == 403
    bad = fiona.post(url, data={"csrf": token, "move": "close", "outcome": "maybe"})
    assert bad.status_code == 422 and "maybe" in bad.text
    closed = fiona.post(url, data={"csrf": token, "move": "close", "outcome": "granted"})
    assert closed.headers["location"].endswith("?done=close")
    shown = fiona.get(closed.headers["location"])
    assert "Done: close." in shown.text and "granted" in shown.text
    assert [a for a, _ in ww.events("request.close")] == ["fiona"]
    assert "Done:" not in fiona.get(f"/web/requests/{case_id}?done=anything").text


def test_the_disclosure_log_lists_the_answered_case_without_personal_data(ww: WebWorld) -> None:
    case_id = assigned_case(ww)
    run(ww.app, "fiona", "request.move", {"case_id": case_id, "move": "close",
                                          "outcome": "granted"})  # fmt: skip
    shown = ww.signed_in("fred").get("/web/requests/disclosure-log")
    assert shown.status_code == 200, shown.text
    assert f"FOI-{case_id}" in shown.text and "granted" in shown.text
    assert MARKER not in shown.text and "<script>" not in shown.text
    assert [a for a, _ in ww.events("request.disclosure_log")] == ["fred"]


def test_the_case_page_shows_figures_and_their_verdicts_inert(ww: WebWorld) -> None:
    from datetime import UTC, datetime

    from fivesafes.store.models.requests import RequestFigureRow

    case_id = assigned_case(ww)
    with ww.app.workspace.transaction() as session:  # as the gate records them
        for cell, approved, value, reasons in (
            ("area=a1", True, 20.0, []),
            ("area=<script>x</script>", False, None, ["cell below the threshold of 7"]),
        ):
            session.add(
                RequestFigureRow(
                    case_id=case_id, area="earnings", source="ashe:pay", cell=cell,
                    hierarchies_json="{}", codes_json="{}", approved=approved, value=value,
                    reasons_json=json.dumps(reasons), rule_set="standard v1",
                    checked_by="fiona", checked_at=datetime.now(UTC),
                )
            )  # fmt: skip
    shown = ww.signed_in("fred").get(f"/web/requests/{case_id}").text
    assert "area=a1" in shown and "20.0" in shown and "approved" in shown
    assert "refused" in shown and "cell below the threshold of 7" in shown
    assert "area=&lt;script&gt;x&lt;/script&gt;" in shown and "<script>" not in shown


def test_the_request_pages_need_a_session(ww: WebWorld) -> None:
    case_id = assigned_case(ww)
    browser = ww.client()
    for path in ("/web/requests", f"/web/requests/{case_id}", "/web/requests/disclosure-log"):
        answer = browser.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/web/signin", path
    moved = browser.post(f"/web/requests/{case_id}/move", data={"csrf": "x", "move": "clarify"})
    assert moved.status_code == 401
    assert run(ww.app, "fiona", "request.show", {"case_id": case_id})["state"] == "assigned"
