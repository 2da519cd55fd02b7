"""The request page beyond the table: earlier versions and the cells a new version changed,
file outputs previewed without ever running them, and the differencing evidence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from release_world import BY_REGION, SHIFTED, table
from web_world import WebWorld, web_world

from fivesafes.release.submission import FileSubmission
from fivesafes.release.votes import Vote

SCRIPT = "<script>alert(1)</script>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def ww(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as made:
        yield made


def test_a_new_version_shows_the_versions_and_the_cells_it_changed(ww: WebWorld) -> None:
    ww.world.vote("olga", ww.request_id, Vote.REQUEST_CHANGES, "protect a1 instead")
    ww.world.vote("oscar", ww.request_id, Vote.REQUEST_CHANGES, "agreed")
    revised = table("pay by area", BY_REGION, {"a3": "primary", "a1": "secondary"})
    ww.world.submit(revised, request_id=ww.request_id)
    page = ww.signed_in("oscar").get(f"/web/checking/{ww.request_id}")
    assert page.status_code == 200, page.text
    assert "Changes from version 1" in page.text and "<h2>Versions</h2>" in page.text
    changes = page.text[page.text.index("Changes from version 1") : page.text.index("Versions<")]
    assert "2 cell(s)" in changes  # a1 became secondary, a2 became safe
    assert "a1" in changes and "a2" in changes and "a3" not in changes
    inspected = [
        e for e in ww.events("release.inspect") if e == ("oscar", "allowed")
    ]  # both versions opened, each audited
    assert len(inspected) == 2


def _file_request(ww: WebWorld, name: str, content: bytes) -> int:
    return ww.world.submit(FileSubmission(name, content), source="ashe:chart")


def test_an_image_is_shown_from_a_sandboxed_endpoint_with_its_type(ww: WebWorld) -> None:
    rid = _file_request(ww, "chart.png", PNG)
    browser = ww.signed_in("olga")
    page = browser.get(f"/web/checking/{rid}")
    assert f'<img class="output" src="/web/checking/{rid}/file"' in page.text
    served = browser.get(f"/web/checking/{rid}/file")
    assert served.content == PNG and served.headers["content-type"] == "image/png"
    assert served.headers["content-security-policy"].startswith("sandbox")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert ww.signed_in("ada").get(f"/web/checking/{rid}/file").status_code == 403  # the author


def test_a_png_name_on_other_bytes_is_not_served_as_an_image(ww: WebWorld) -> None:
    rid = _file_request(ww, "chart.png", b"<html><script>alert(1)</script>")
    browser = ww.signed_in("olga")
    assert "<img" not in browser.get(f"/web/checking/{rid}").text
    served = browser.get(f"/web/checking/{rid}/file")
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment")


def test_svg_and_html_are_shown_as_escaped_source(ww: WebWorld) -> None:
    for name in ("chart.svg", "note.html"):
        svg = f'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">{SCRIPT}</svg>'
        rid = _file_request(ww, name, svg.encode())
        page = ww.signed_in("olga").get(f"/web/checking/{rid}")
        assert SCRIPT not in page.text and "<svg" not in page.text, name
        assert "&lt;svg xmlns=" in page.text and '<pre class="source">' in page.text
        served = ww.signed_in("olga").get(f"/web/checking/{rid}/file")
        assert served.headers["content-type"] == "application/octet-stream"


def test_a_csv_is_a_table_whose_formulas_and_markup_are_inert(ww: WebWorld) -> None:
    data = f"area,pay\n{SCRIPT},10\n=cmd|' /C calc'!A0,20\n".encode()
    rid = _file_request(ww, "figures.csv", data)
    page = ww.signed_in("olga").get(f"/web/checking/{rid}").text
    assert '<th scope="col">area</th>' in page
    assert SCRIPT not in page and "&lt;script&gt;" in page
    assert "<td>=cmd" not in page and "<td>&#39;=cmd" in page


def test_a_pdf_is_offered_as_a_download_not_rendered(ww: WebWorld) -> None:
    rid = _file_request(ww, "report.pdf", b"%PDF-1.7\n%...")
    browser = ww.signed_in("olga")
    assert "download report.pdf" in browser.get(f"/web/checking/{rid}").text
    served = browser.get(f"/web/checking/{rid}/file")
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"] == 'attachment; filename="report.pdf"'
    assert served.headers["content-security-policy"].startswith("sandbox")


def test_a_blocked_request_shows_the_disclosing_combination(ww: WebWorld) -> None:
    ww.world.vote("olga", ww.request_id, Vote.APPROVE)
    ww.world.vote("oscar", ww.request_id, Vote.APPROVE)
    ww.world.publish(ww.request_id)
    rid = ww.world.submit(table("pay by new region", SHIFTED, {"a3": "primary", "a4": "secondary"}))
    page = ww.signed_in("olga").get(f"/web/checking/{rid}").text
    blocked = page[page.index("Blocked:") : page.index("<h2>Checks</h2>")]
    assert "area=a3" in blocked and "REL-0001" in blocked, blocked
