"""The publication pages: the released bundle (files, manifest hashes, methods note) and
the register of published cells with a search; staff with the right roles only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from release_world import SOURCE
from web_world import WebWorld, web_world

from fivesafes.release.votes import Vote
from fivesafes.services.release.register import list_published


@pytest.fixture
def published(tmp_path: Path) -> Iterator[tuple[WebWorld, str]]:
    with web_world(tmp_path) as ww:
        ww.world.vote("olga", ww.request_id, Vote.APPROVE)
        ww.world.vote("oscar", ww.request_id, Vote.APPROVE)
        done = ww.world.publish(ww.request_id)
        yield ww, done.release_id


def test_the_register_lists_the_release_and_searches_its_cells(
    published: tuple[WebWorld, str],
) -> None:
    ww, release_id = published
    browser = ww.signed_in("olga")
    listing = browser.get("/web/publication")
    assert listing.status_code == 200 and release_id in listing.text
    every = browser.get("/web/publication", params={"source": SOURCE})
    found = browser.get("/web/publication", params={"source": SOURCE, "q": "a1"})
    none = browser.get("/web/publication", params={"source": SOURCE, "q": "no-such-code"})
    assert found.text.count('<tr><th scope="row">' + release_id) >= 1
    assert every.text.count(release_id) > found.text.count(release_id)
    assert "No published cell matches." in none.text


def test_the_release_page_shows_files_hashes_and_the_methods_note(
    published: tuple[WebWorld, str],
) -> None:
    ww, release_id = published
    browser = ww.signed_in("iris")
    shown = browser.get(f"/web/publication/{release_id}")
    assert shown.status_code == 200, shown.text
    [release] = [r for r in ww.world.reg.read(list_published) if r.release_id == release_id]
    for name, digest in release.manifest.items():
        assert name in shown.text and digest in shown.text
    assert "CHANGED" not in shown.text and "Methods note" in shown.text
    assert '<pre class="note">' in shown.text
    (Path(release.bundle_path) / "methods.md").write_text("edited after publication")
    again = browser.get(f"/web/publication/{release_id}")
    assert "CHANGED since publication" in again.text
    assert browser.get("/web/publication/REL-9999").status_code == 404


def test_a_person_without_a_staff_role_is_refused_and_it_is_recorded(
    published: tuple[WebWorld, str],
) -> None:
    ww, release_id = published
    browser = ww.signed_in("bob")
    for path in ("/web/publication", f"/web/publication/{release_id}"):
        answer = browser.get(path)
        assert answer.status_code == 403 and "needs one of the roles" in answer.text
    assert ww.events("web.page").count(("bob", "denied")) == 2
