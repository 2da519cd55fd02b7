"""The web pages through FastAPI's TestClient: every page, its permission, the attacker's moves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_world import PASSWORD, WebWorld, csrf_of, web_world

from fivesafes.web.headers import CSP
from fivesafes.web.sessions import COOKIE


@pytest.fixture
def ww(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as made:
        yield made


def _vote(ww: WebWorld, login: str, vote: str, comment: str = "") -> int:
    browser = ww.signed_in(login)
    page = browser.get(f"/web/checking/{ww.request_id}")
    answer = browser.post(
        f"/web/checking/{ww.request_id}/vote",
        data={"csrf": csrf_of(page.text), "vote": vote, "comment": comment},
    )
    return answer.status_code


def test_every_page_needs_a_session(ww: WebWorld) -> None:
    browser = ww.client()
    for path in (
        "/web/",
        "/web/checking",
        f"/web/checking/{ww.request_id}",
        "/web/grants",
        "/web/evidence",
    ):
        answer = browser.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/web/signin", path
    for path in ("/web/signout", "/web/declaration/sign", f"/web/checking/{ww.request_id}/vote"):
        assert browser.post(path, data={"csrf": "x"}).status_code == 401, path


def test_sign_in_sets_a_strict_http_only_cookie_and_is_audited(ww: WebWorld) -> None:
    browser = ww.client()
    form = browser.get("/web/signin")
    answer = browser.post(
        "/web/signin", data={"login": "olga", "password": PASSWORD, "csrf": csrf_of(form.text)}
    )
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/web" in cookie
    assert "Secure" not in cookie  # plain http in the test; Secure is set over TLS
    assert ("olga", "allowed") in ww.events("server.signin")
    assert "olga" in browser.get("/web/").text


def test_a_wrong_password_is_refused_and_audited(ww: WebWorld) -> None:
    browser = ww.client()
    form = browser.get("/web/signin")
    answer = browser.post(
        "/web/signin", data={"login": "olga", "password": "nope", "csrf": csrf_of(form.text)}
    )
    assert answer.status_code == 403 and "Sign-in refused" in answer.text
    assert COOKIE not in answer.headers.get("set-cookie", "")
    assert ("olga", "denied") in ww.events("server.signin")


def test_sign_in_without_the_pre_session_token_is_refused(ww: WebWorld) -> None:
    # login CSRF: another site posting the form cannot read or set our cookie
    browser = ww.client()
    answer = browser.post("/web/signin", data={"login": "olga", "password": PASSWORD})
    assert answer.status_code == 403
    assert ww.events("server.signin") == []  # refused before any password was tried


def test_every_page_sends_the_security_headers(ww: WebWorld) -> None:
    browser = ww.signed_in("olga")
    for path in ("/web/signin", "/web/", "/web/checking", f"/web/checking/{ww.request_id}"):
        answer = browser.get(path)
        assert answer.headers["content-security-policy"] == CSP, path
        assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        assert "<script" not in answer.text and " style=" not in answer.text, path


def test_hsts_only_over_tls(ww: WebWorld) -> None:
    plain = ww.client().get("/web/signin")
    assert "strict-transport-security" not in plain.headers
    tls = ww.client()
    tls.base_url = tls.base_url.copy_with(scheme="https")  # type: ignore[assignment]
    answer = tls.get("https://testserver/web/signin")
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert "Secure" in answer.headers["set-cookie"]


def test_my_status_shows_roles_training_and_declaration_to_sign(ww: WebWorld) -> None:
    browser = ww.signed_in("bob")  # not trained, not signed
    page = browser.get("/web/")
    assert page.status_code == 200
    assert "statistician" in page.text and "<strong>due</strong>" in page.text
    assert "You have not signed the current declaration" in page.text
    assert "I will protect confidential data." in page.text
    signed = browser.post(
        "/web/declaration/sign",
        data={"csrf": csrf_of(page.text.split("/declaration/sign")[0] + page.text), "version": "1"},
    )
    assert signed.status_code == 303
    assert "You have signed the current declaration" in browser.get("/web/").text
    assert ("bob", "done") in ww.events("declaration.sign")


def test_a_form_without_or_with_a_wrong_csrf_token_changes_nothing(ww: WebWorld) -> None:
    browser = ww.signed_in("bob")
    before = ww.events("declaration.sign")
    for data in ({"version": "1"}, {"version": "1", "csrf": "forged"}):
        answer = browser.post("/web/declaration/sign", data=data)
        assert answer.status_code == 403 and "security token" in answer.text
    assert ww.events("declaration.sign") == before
    # another session's token is wrong too
    other = ww.signed_in("olga").get("/web/")
    answer = browser.post(
        "/web/declaration/sign", data={"version": "1", "csrf": csrf_of(other.text)}
    )
    assert answer.status_code == 403 and ww.events("declaration.sign") == before
    assert "You have not signed" in browser.get("/web/").text


def test_the_queue_is_for_checkers_and_never_shows_the_author_their_own(ww: WebWorld) -> None:
    queue = ww.signed_in("olga").get("/web/checking")
    assert queue.status_code == 200 and f'/web/checking/{ww.request_id}"' in queue.text
    refused = ww.signed_in("ada").get("/web/checking")  # the author, not a checker
    assert refused.status_code == 403 and "output_checker" in refused.text
    assert ("ada", "denied") in ww.events("web.page")
    # make the author a checker too: her own request still never appears
    from fivesafes.governance.roles import Role
    from fivesafes.services.governance import people

    ww.world.reg.act("root", people.change_roles, "ada", [Role.OUTPUT_CHECKER], [])
    mine = ww.signed_in("ada").get("/web/checking")
    assert mine.status_code == 200
    assert f"/web/checking/{ww.request_id}" not in mine.text and "Nothing to review" in mine.text


def test_the_request_page_shows_the_table_as_published_and_the_checkers_view(
    ww: WebWorld,
) -> None:
    page = ww.signed_in("olga").get(f"/web/checking/{ww.request_id}")
    assert page.status_code == 200
    published, checker = page.text.split("Checker's view (confidential)")
    # hierarchy order: Total, N, a1, a2, a3, S, a4, a5 (every total before its parts)
    order = re.findall(r'<th scope="row" class="level-\d">(\w+)</th>', published)
    assert order == ["Total", "N", "a1", "a2", "a3", "S", "a4", "a5"]
    assert published.count(">[c]<") == 2 and ">2<" not in published  # a3 and a2 hidden
    assert "<strong>P</strong> primary" in checker and "<strong>S</strong> secondary" in checker
    assert "threshold" in checker and ">2</td>" in checker  # the true value, for the checker
    assert "PASS" in page.text or "FAIL" in page.text  # the stored checks with verdicts
    assert ("olga", "allowed") in ww.events("release.inspect")


def test_the_author_cannot_open_her_request_as_a_reviewer(ww: WebWorld) -> None:
    answer = ww.signed_in("ada").get(f"/web/checking/{ww.request_id}")
    assert answer.status_code == 403 and "[c]" not in answer.text
    assert ("ada", "denied") in ww.events("release.inspect")


def test_the_author_cannot_approve_her_own_output(ww: WebWorld) -> None:
    browser = ww.signed_in("ada")
    csrf = csrf_of(browser.get("/web/").text)
    answer = browser.post(
        f"/web/checking/{ww.request_id}/vote", data={"csrf": csrf, "vote": "approve"}
    )
    assert answer.status_code == 403
    assert ww.world.show(ww.request_id).reviews_in == 0


def test_two_different_checkers_approve_and_one_cannot_vote_twice(ww: WebWorld) -> None:
    assert _vote(ww, "olga", "approve", "fine") == 303
    assert ww.world.show(ww.request_id).state.value == "partially_reviewed"
    again = ww.signed_in("olga")
    page = again.get(f"/web/checking/{ww.request_id}")
    assert "Record my review" not in page.text  # the form is gone once she voted
    answer = again.post(
        f"/web/checking/{ww.request_id}/vote",
        data={"csrf": csrf_of(page.text), "vote": "approve"},
    )
    assert answer.status_code in (403, 409, 422)
    assert ww.world.show(ww.request_id).reviews_in == 1
    assert _vote(ww, "oscar", "approve") == 303
    assert ww.world.show(ww.request_id).state.value == "approved"


def test_a_bad_vote_value_is_a_clear_error_not_a_500(ww: WebWorld) -> None:
    browser = ww.signed_in("olga")
    csrf = csrf_of(browser.get("/web/").text)
    answer = browser.post(
        f"/web/checking/{ww.request_id}/vote", data={"csrf": csrf, "vote": "yes please"}
    )
    assert answer.status_code == 422 and "Traceback" not in answer.text


def test_a_cookie_replayed_after_sign_out_is_refused(ww: WebWorld) -> None:
    browser = ww.signed_in("olga")
    stolen = browser.cookies.get(COOKIE)
    assert stolen
    csrf = csrf_of(browser.get("/web/").text)
    assert browser.post("/web/signout", data={"csrf": csrf}).status_code == 303
    assert ("olga", "done") in ww.events("server.signout")
    replay = ww.client()
    answer = replay.get("/web/checking", headers={"cookie": f"{COOKIE}={stolen}"})
    assert answer.status_code == 303 and answer.headers["location"] == "/web/signin"
    # and the token no longer works on the API either
    api = ww.client().post("/api/v1/whoami", headers={"authorization": f"Bearer {stolen}"})
    assert api.status_code == 403


def test_signing_in_again_in_the_same_browser_revokes_the_earlier_token(ww: WebWorld) -> None:
    browser = ww.signed_in("olga")
    first = browser.cookies.get(COOKIE)
    assert first
    form = browser.get("/web/signin")  # the same cookie jar signs in again
    answer = browser.post(
        "/web/signin", data={"login": "olga", "password": PASSWORD, "csrf": csrf_of(form.text)}
    )
    assert answer.status_code == 303
    second = browser.cookies.get(COOKIE)
    assert second and second != first
    assert ("olga", "done") in ww.events("server.signout")  # the revocation is audited
    # a copy of the first token replayed is refused, on the pages and on the API
    replay = ww.client()
    answer = replay.get("/web/checking", headers={"cookie": f"{COOKIE}={first}"})
    assert answer.status_code == 303 and answer.headers["location"] == "/web/signin"
    api = ww.client().post("/api/v1/whoami", headers={"authorization": f"Bearer {first}"})
    assert api.status_code == 403
    # the new session works
    assert "olga" in browser.get("/web/").text


def test_a_refused_sign_in_leaves_the_earlier_session_alone(ww: WebWorld) -> None:
    browser = ww.signed_in("olga")
    form = browser.get("/web/signin")
    answer = browser.post(
        "/web/signin", data={"login": "olga", "password": "nope", "csrf": csrf_of(form.text)}
    )
    assert answer.status_code == 403
    assert ww.events("server.signout") == []
    assert "olga" in browser.get("/web/").text


def test_an_idle_session_times_out(tmp_path: Path) -> None:
    with web_world(tmp_path, idle_seconds=0.0) as idle:
        browser = idle.signed_in("olga")
        answer = browser.get("/web/")
        assert answer.status_code == 303 and answer.headers["location"] == "/web/signin"


def test_grants_page_for_the_area_owner_with_people_checks(ww: WebWorld) -> None:
    from fivesafes.services.governance import grants

    asked = ww.world.reg.act("bob", grants.request_grant, "bob", "earnings", "a <b>bold</b> need")
    page = ww.signed_in("iris").get("/web/grants")
    assert page.status_code == 200 and f'action="/web/grants/{asked.id}"' in page.text
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.text  # data shown inert
    assert "<strong>not signed</strong>" in page.text  # bob's people checks
    assert ww.signed_in("olga").get("/web/grants").status_code == 403
    browser = ww.signed_in("iris")
    csrf = csrf_of(browser.get("/web/grants").text)
    done = browser.post(
        f"/web/grants/{asked.id}", data={"csrf": csrf, "decision": "reject", "note": "untrained"}
    )
    assert done.status_code == 303
    assert ww.world.reg.read(grants.get_grant, asked.id).state.value == "rejected"


def test_another_owner_cannot_decide_a_grant_of_an_area_they_do_not_own(ww: WebWorld) -> None:
    from fivesafes.governance.roles import Role
    from fivesafes.services.governance import grants, people

    asked = ww.world.reg.act("bob", grants.request_grant, "bob", "earnings", "need")
    ww.world.reg.act("root", people.change_roles, "olga", [Role.INFORMATION_ASSET_OWNER], [])
    browser = ww.signed_in("olga")
    page = browser.get("/web/grants")
    assert f"/web/grants/{asked.id}" not in page.text  # not her area
    answer = browser.post(
        f"/web/grants/{asked.id}", data={"csrf": csrf_of(page.text), "decision": "approve"}
    )
    assert answer.status_code == 403
    assert ww.world.reg.read(grants.get_grant, asked.id).state.value == "requested"


def test_evidence_is_for_auditors_and_administrators_only(ww: WebWorld) -> None:
    page = ww.signed_in("root").get("/web/evidence")
    assert page.status_code == 200 and "server.signin" in page.text
    assert "The log verifies" in page.text
    refused = ww.signed_in("olga").get("/web/evidence")
    assert refused.status_code == 403 and "Traceback" not in refused.text


def test_evidence_lists_the_periodic_reviews_with_their_hashes(
    ww: WebWorld, tmp_path: Path
) -> None:
    from fivesafes.services.governance import review

    assert "No periodic review has been recorded." in ww.signed_in("root").get("/web/evidence").text
    done = ww.world.reg.act("root", review.carry_out_review, tmp_path / "reviews")
    page = ww.signed_in("root").get("/web/evidence").text
    assert done.markdown_sha256 in page and done.html_sha256 in page
    assert "No periodic review has been recorded." not in page


def test_evidence_shows_a_tampered_log(ww: WebWorld) -> None:
    from audit_tampering import tamper

    browser = ww.signed_in("root")
    tamper(ww.app.workspace.engine(), "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    page = browser.get("/web/evidence")
    assert page.status_code == 200 and "does NOT verify" in page.text
    assert "The log verifies" not in page.text


def test_an_unqualified_checker_is_refused_with_the_reasons(ww: WebWorld) -> None:
    from fivesafes.governance.roles import Role
    from fivesafes.services import signin
    from fivesafes.services.context import resolve_actor
    from fivesafes.services.governance import people

    ww.world.reg.act("root", people.register_person, "uma", "Uma Checker", [Role.OUTPUT_CHECKER])
    with ww.app.workspace.transaction() as session:
        signin.set_password(session, resolve_actor(session, "uma"), PASSWORD)
    browser = ww.signed_in("uma")
    assert f"/web/checking/{ww.request_id}" in browser.get("/web/checking").text
    page = browser.get(f"/web/checking/{ww.request_id}")
    assert page.status_code == 403 and "[c]" not in page.text
    assert "<li>" in page.text and "declaration" in page.text.lower()  # the reasons, listed
    assert ("uma", "denied") in ww.events("people.qualify")


def test_the_api_never_takes_the_session_cookie(ww: WebWorld) -> None:
    # the API has no CSRF tokens: were the cookie enough, another site could call it
    browser = ww.signed_in("olga")
    token = browser.cookies.get(COOKIE)
    answer = ww.client().post("/api/v1/whoami", headers={"cookie": f"{COOKIE}={token}"})
    assert answer.status_code == 401
    with_bearer = ww.client().post("/api/v1/whoami", headers={"authorization": f"Bearer {token}"})
    assert with_bearer.status_code == 200 and with_bearer.json()["result"]["login"] == "olga"
