"""The checker's view shows each hidden cell's required and achieved interval from the audit
(to checkers, never to the author); the evidence page shows the last recorded verification,
the last checkpoint and the witnesses, and verifies now on a POST, recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_world import WebWorld, csrf_of, web_world

from fivesafes.services.audit_evidence import VERIFY_ACTION


@pytest.fixture
def ww(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as made:
        yield made


def test_a_checker_sees_the_required_and_achieved_interval_of_each_hidden_cell(
    ww: WebWorld,
) -> None:
    page = ww.signed_in("olga").get(f"/web/checking/{ww.request_id}")
    assert page.status_code == 200
    published, checker = page.text.split("Checker's view (confidential)")
    assert "Achieved interval (audit)" in checker and "Required interval" in checker
    # a3 (primary, 2) needs [1, 3]; an attacker who sees N = 37 and a1 = 20 gets [0, 17]
    assert '<td>[1, 3]</td><td class="num">[0, 17]</td>' in checker
    assert checker.count("[0, 17]") == 2  # a2 (secondary) too
    assert "[0, 17]" not in published and "[1, 3]" not in published
    assert "exact intervals; verdict SAFE" in checker


def test_the_author_never_sees_the_intervals_even_as_a_checker(ww: WebWorld) -> None:
    from fivesafes.governance.roles import Role
    from fivesafes.services.governance import people

    ww.world.reg.act("root", people.change_roles, "ada", [Role.OUTPUT_CHECKER], [])
    answer = ww.signed_in("ada").get(f"/web/checking/{ww.request_id}")
    assert answer.status_code == 403
    assert "[0, 17]" not in answer.text and "Achieved interval" not in answer.text
    assert ("ada", "denied") in ww.events("release.inspect")


def test_the_intervals_still_open_after_the_area_key_is_rotated(ww: WebWorld) -> None:
    from fivesafes.services.vault.lifecycle import rotate_area_key_for

    rotate_area_key_for(ww.app.workspace.transaction, ww.app.vault(), "iris", "earnings")
    page = ww.signed_in("olga").get(f"/web/checking/{ww.request_id}")
    assert page.status_code == 200 and page.text.count("[0, 17]") == 2


def _verify(browser: Any) -> Any:
    csrf = csrf_of(browser.get("/web/evidence").text.split("<h3>Last recorded")[1])
    return browser.post("/web/evidence/verify", data={"csrf": csrf})


def test_verify_now_records_who_verified_what_and_the_page_shows_it(ww: WebWorld) -> None:
    root = ww.signed_in("root")
    before = root.get("/web/evidence").text
    assert "No verification has been recorded yet" in before
    answer = _verify(root)
    assert answer.status_code == 303 and answer.headers["location"].endswith("?verified=1")
    assert ww.events(VERIFY_ACTION) == [("root", "done")]
    page = root.get(answer.headers["location"]).text
    assert "Verified now: the outcome is recorded below." in page
    shown = page.split('id="last-verification"')[1].split("</table>")[0]
    assert "<strong>verified</strong>" in shown and "<td>root</td>" in shown
    with ww.app.workspace.reader() as session:
        from fivesafes.audit.log import query_events

        event = query_events(session, action=VERIFY_ACTION)[0].to_dict()
    assert event["details"]["ok"] is True and event["details"]["head_hash"] in shown
    assert f"#{event['details']['head_seq']} " in shown


def test_only_auditors_and_administrators_verify_here_and_a_refusal_is_recorded(
    ww: WebWorld,
) -> None:
    olga = ww.signed_in("olga")
    csrf = csrf_of(olga.get("/web/").text)
    refused = olga.post("/web/evidence/verify", data={"csrf": csrf})
    assert refused.status_code == 403 and "Traceback" not in refused.text
    assert ww.events(VERIFY_ACTION) == []
    assert ("olga", "denied") in ww.events("web.page")
    # and without the form's token, nothing runs
    assert ww.signed_in("root").post("/web/evidence/verify", data={}).status_code == 403
    assert ww.events(VERIFY_ACTION) == []


def test_a_tampered_log_is_recorded_and_shown_as_failed(ww: WebWorld) -> None:
    from audit_tampering import tamper

    root = ww.signed_in("root")
    tamper(ww.app.workspace.engine(), "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    assert _verify(root).status_code == 303
    page = root.get("/web/evidence").text
    shown = page.split('id="last-verification"')[1].split("</table>")[0]
    assert "FAILED" in shown and "the first at event #3" in shown
    assert "<strong>verified</strong>" not in shown


def _witnesses(ww: WebWorld, *folders: Path) -> None:
    """Configure folder witnesses (as config.toml's audit_witnesses): the next commits deliver
    every checkpoint to them."""
    config = ww.app.workspace.config
    assert isinstance(config, dict)
    config["audit_witnesses"] = [str(f) for f in folders]
    ww.app.workspace._cache.pop("sessions", None)


def _witness_rows(browser: Any) -> str:
    return str(browser.get("/web/evidence").text.split('id="witnesses"')[1].split("</table>")[0])


def _newest_checkpoint(ww: WebWorld) -> tuple[int, str]:
    from sqlalchemy import select

    from fivesafes.store.models.audit import AuditCheckpoint

    with ww.app.workspace.reader() as session:
        row = session.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)
        ).one()
        return int(row.size), str(row.head_hash)


def test_the_witness_state_and_the_last_checkpoint(ww: WebWorld, tmp_path: Path) -> None:
    from audit_tampering import tamper

    root = ww.signed_in("root")
    assert "No witness is configured" in root.get("/web/evidence").text
    witness, elsewhere = tmp_path / "witness", tmp_path / "elsewhere"
    witness.mkdir()
    elsewhere.mkdir()
    _witnesses(ww, witness)
    page = root.get("/web/evidence").text  # its audit.read is signed and delivered
    size, head = _newest_checkpoint(ww)
    last = page.split('id="last-checkpoint"')[1].split("</p>")[0]
    assert f"the chain had {size} events" in last and head in last
    rows = page.split('id="witnesses"')[1].split("</table>")[0]
    assert "matches the last checkpoint" in rows and head in rows
    # a verification run from the page compares the witness copy too
    assert _verify(root).status_code == 303
    with ww.app.workspace.reader() as session:
        from fivesafes.audit.log import query_events

        event = query_events(session, action=VERIFY_ACTION)[0].to_dict()
    assert event["details"]["witnesses_checked"] == 1 and event["details"]["ok"] is True
    # deliveries stop reaching the witness (they go elsewhere): it falls behind
    _witnesses(ww, elsewhere)
    with ww.app.workspace.transaction():
        pass  # the session factory now delivers elsewhere
    ww.app.workspace.config["audit_witnesses"] = [str(witness)]  # type: ignore[index]
    held, _ = _newest_checkpoint(ww)
    rows = _witness_rows(root)
    assert "behind: an earlier checkpoint" in rows and f"{held} events" in rows
    # the database's copy of the checkpoint the witness holds rewritten: it differs
    tamper(
        ww.app.workspace.engine(),
        f"UPDATE audit_checkpoint SET head_hash = '{'0' * 64}' WHERE size = {held}",
    )
    rows = _witness_rows(root)
    assert "DIFFERS" in rows and "behind" not in rows
