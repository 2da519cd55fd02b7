"""The evidence page's witness state after the log is cut with its checkpoints (attack review).

An attacker with the database deletes the log's newest events and their checkpoints (the
workspace's checkpoint file too, with its files: the witness state reads neither). The
folder witness still holds the checkpoints of the longer chain. The next commit (the
auditor's own opening of the page records an audit.read) signs a checkpoint of the forged
chain and delivers it to the witness, so the witness's *last* line matches the database
again: the page must still say the witness differs, as ``audit verify --witness`` finds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from web_world import WebWorld, web_world


@pytest.fixture
def ww(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as made:
        yield made


def _rows(page: str) -> str:
    return page.split('id="witnesses"')[1].split("</table>")[0]


def test_a_log_cut_with_its_checkpoints_shows_the_witness_differs(
    ww: WebWorld, tmp_path: Path
) -> None:
    from audit_tampering import tamper

    witness = tmp_path / "witness"
    witness.mkdir()
    config = ww.app.workspace.config
    assert isinstance(config, dict)
    config["audit_witnesses"] = [str(witness)]
    ww.app.workspace._cache.pop("sessions", None)
    root = ww.signed_in("root")
    assert "matches the last checkpoint" in _rows(root.get("/web/evidence").text)
    root.get("/web/evidence")  # one more commit: the witness holds a longer chain
    with ww.app.workspace.engine().connect() as c:
        head = int(c.execute(text("SELECT max(seq) FROM audit_log")).scalar_one())
    cut = head - 3
    tamper(
        ww.app.workspace.engine(),
        f"DELETE FROM audit_log WHERE seq > {cut}",
        f"DELETE FROM audit_checkpoint WHERE size > {cut}",
    )
    rows = _rows(root.get("/web/evidence").text)
    assert "DIFFERS" in rows and "matches the last checkpoint" not in rows


def test_a_refused_verification_is_not_shown_as_the_last_verification(ww: WebWorld) -> None:
    from fivesafes.errors import AccessDenied
    from fivesafes.services import audit_evidence

    root = ww.signed_in("root")
    csrf = root.get("/web/evidence").text.split('name="csrf" value="')[-1].split('"')[0]
    assert root.post("/web/evidence/verify", data={"csrf": csrf}).status_code == 303
    # a non-auditor's refused verification (as the service records it) comes after it
    with pytest.raises(AccessDenied):
        audit_evidence.verify_and_record(ww.app.workspace, "olga")
    assert ("olga", "denied") in ww.events(audit_evidence.VERIFY_ACTION)
    shown = root.get("/web/evidence").text.split('id="last-verification"')[1]
    shown = shown.split("</table>")[0]
    assert "<strong>verified</strong>" in shown and "<td>root</td>" in shown
    assert "olga" not in shown and "FAILED" not in shown


def _size(line: str) -> int:
    import json

    from fivesafes.audit.checkpoint import parse_checkpoint

    return parse_checkpoint(str(json.loads(line)["note"]))[0].size


def test_a_log_cut_with_every_copy_in_the_workspace_fails_on_opening_the_page(
    ww: WebWorld, tmp_path: Path
) -> None:
    """The database's checkpoints and the workspace's checkpoint file cut too: only the
    witness still proves the cut, and the page's verification on opening compares it."""
    from audit_tampering import tamper

    witness = tmp_path / "witness"
    witness.mkdir()
    config = ww.app.workspace.config
    assert isinstance(config, dict)
    config["audit_witnesses"] = [str(witness)]
    ww.app.workspace._cache.pop("sessions", None)
    root = ww.signed_in("root")
    root.get("/web/evidence")
    root.get("/web/evidence")
    with ww.app.workspace.engine().connect() as c:
        cut = int(c.execute(text("SELECT max(seq) FROM audit_log")).scalar_one()) - 3
    tamper(
        ww.app.workspace.engine(),
        f"DELETE FROM audit_log WHERE seq > {cut}",
        f"DELETE FROM audit_checkpoint WHERE size > {cut}",
    )
    path = ww.app.workspace.checkpoint_log_path
    kept = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    path.write_text("".join(f"{ln}\n" for ln in kept if _size(ln) <= cut), encoding="utf-8")
    now = root.get("/web/evidence").text.split("<h3>Now, on opening this page</h3>")[1]
    now = now.split("<h3>Last recorded")[0]
    assert "The log does NOT verify" in now and "The log verifies" not in now
