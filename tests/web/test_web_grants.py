"""Grants beyond the decision: revoking with a note and the recertification list that the
access review (T6.5) draws up, for the asset owner's own areas."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from web_world import WebWorld, csrf_of, web_world

from fivesafes.services.governance import grants


@pytest.fixture
def ww(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as made:
        yield made


def _short_grant(ww: WebWorld) -> int:
    """bob's approved grant to iris's area, ending in ten days (due for recertification)."""
    end = date.today() + timedelta(days=10)
    asked = ww.world.reg.act(
        "bob", grants.request_grant, "bob", "earnings", "pay tables", end_on=end
    )
    ww.world.reg.act("iris", grants.approve_grant, asked.id, "ok")
    return asked.id


def test_the_owner_sees_current_grants_and_what_to_recertify(ww: WebWorld) -> None:
    gid = _short_grant(ww)
    page = ww.signed_in("iris").get("/web/grants").text
    current = page[page.index("<h2>Current grants</h2>") : page.index("<h2>Recertification")]
    assert f'action="/web/grants/{gid}/revoke"' in current
    recert = page[page.index("<h2>Recertification") :]
    assert f'<th scope="row">{gid}</th>' in recert and "in 10 days" in recert
    other = ww.signed_in("olga")  # not an asset owner: the page is refused
    assert other.get("/web/grants").status_code == 403


def test_the_owner_revokes_with_a_note_and_not_without(ww: WebWorld) -> None:
    gid = _short_grant(ww)
    browser = ww.signed_in("iris")
    csrf = csrf_of(browser.get("/web/grants").text)
    empty = browser.post(f"/web/grants/{gid}/revoke", data={"csrf": csrf, "note": " "})
    assert empty.status_code in (400, 422) and "reason" in empty.text
    assert ww.world.reg.read(grants.get_grant, gid).state.value == "approved"
    done = browser.post(f"/web/grants/{gid}/revoke", data={"csrf": csrf, "note": "project over"})
    assert done.status_code == 303
    revoked = ww.world.reg.read(grants.get_grant, gid)
    assert revoked.state.value == "revoked" and revoked.revocation_reason == "project over"
    assert ww.events("grant.revoke") == [("iris", "done")]
    assert f"/web/grants/{gid}/revoke" not in browser.get("/web/grants").text


def test_a_revoke_without_the_csrf_token_or_by_another_changes_nothing(ww: WebWorld) -> None:
    gid = _short_grant(ww)
    browser = ww.signed_in("bob")
    csrf = csrf_of(browser.get("/web/").text)
    refused = browser.post(f"/web/grants/{gid}/revoke", data={"csrf": csrf, "note": "mine"})
    assert refused.status_code == 403
    no_token = ww.signed_in("iris").post(f"/web/grants/{gid}/revoke", data={"note": "x"})
    assert no_token.status_code == 403
    assert ww.world.reg.read(grants.get_grant, gid).state.value == "approved"
