"""The web pages attacked: what a stranger's or a careless browser's request makes the
server do before it knows who sends it, and what bad input answers (never a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_world import WebWorld, csrf_of, web_world


@pytest.fixture
def ww(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as made:
        yield made


def test_a_strangers_form_is_refused_before_it_is_read(ww: WebWorld) -> None:
    stranger = ww.client()
    vote = f"/web/checking/{ww.request_id}/vote"
    # a field past the form parser's bound: read, it answers 400 (it did, unsigned)
    big = stranger.post(
        vote,
        content=b"vote=" + b"x" * 2_000_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert big.status_code == 401 and "sign in first" in big.text
    # a file part: read, it would be spooled to the server's disk first
    spooled = stranger.post(vote, files={"vote": ("big.bin", b"x" * 100_000)})
    assert spooled.status_code == 401 and "sign in first" in spooled.text


def test_a_file_in_a_form_is_a_clear_error_not_a_500(ww: WebWorld) -> None:
    browser = ww.signed_in("olga")
    csrf = csrf_of(browser.get("/web/").text)
    answer = browser.post(
        "/web/declaration/sign", data={"csrf": csrf}, files={"version": ("v.txt", b"1")}
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "no file" in answer.text and "Sign out" in answer.text and "Traceback" not in answer.text


@pytest.mark.parametrize("number", ["0", "2147483648", "99999999999999999999999"])
def test_an_id_no_record_can_have_is_not_found_not_a_500(ww: WebWorld, number: str) -> None:
    browser = ww.signed_in("olga")
    csrf = csrf_of(browser.get("/web/").text)
    for path in (f"/web/checking/{number}", f"/web/checking/{number}/file"):
        answer = browser.get(path)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.headers["content-type"].startswith("text/html"), path
    for path in (f"/web/checking/{number}/vote", f"/web/grants/{number}"):
        answer = browser.post(path, data={"csrf": csrf, "vote": "approve"})
        assert answer.status_code == 404, (path, answer.text)
        assert answer.headers["content-type"].startswith("text/html"), path
