"""Submitting an output from an area, as someone whose people checks have lapsed since the
output was made: an output leaves an area only through someone who may still open it
(trained, current declaration signed, a grant), and the refusal is audited (both databases).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from release_world import AREA, CONTEXT
from sqlalchemy import Engine, select
from stored_world import Stored, build_stored

from fivesafes.errors import AccessDenied
from fivesafes.governance.access import ReasonCode
from fivesafes.services.governance import declarations
from fivesafes.services.release import requests as release_requests
from fivesafes.services.vault.tables import stored_table
from fivesafes.store.models.audit import AuditRecord


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    return build_stored(engine, tmp_path)


def test_an_output_is_not_submitted_by_someone_who_no_longer_passes_the_people_checks(
    stored: Stored,
) -> None:
    made = stored.shifted()
    # A new declaration: ada must sign it before her next access, and taking a table out
    # of the area is one. Her grant is still active.
    stored.world.reg.act("root", declarations.publish_declaration, "Version two.")
    before = stored.world.reg.snapshot()
    with pytest.raises(AccessDenied) as refused:
        stored.submit(f"{AREA}/{made.output.name}")
    assert any("declaration" in r for r in refused.value.reasons)
    after = stored.world.reg.changes(before)
    assert after == {"audit_log": 1} or set(after) <= {"audit_log", "audit_checkpoints"}
    with stored.tx() as s:
        event = s.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert event is not None
        assert (event.action, event.actor, event.outcome, event.area) == (
            "people.qualify",
            "ada",
            "denied",
            AREA,
        )
        codes = {r["code"] for r in json.loads(event.details_text)["reasons"]}
    assert codes == {ReasonCode.DECLARATION_NOT_SIGNED.value}
    # signed again: the same output goes
    stored.world.reg.act("ada", declarations.sign_declaration, 2)
    view = stored.submit(f"{AREA}/{made.output.name}")
    assert view.author == "ada"


def test_a_declared_output_is_not_submitted_by_someone_who_no_longer_passes_either(
    stored: Stored,
) -> None:
    made = stored.shifted()
    with stored.tx() as s:
        table, _ = stored_table(s, stored.vault, AREA, made.output.name)
    stored.world.reg.act("root", declarations.publish_declaration, "Version two.")
    with pytest.raises(AccessDenied):
        stored.world.reg.act(
            "ada",
            release_requests.submit_output,
            stored.vault.provider,
            AREA,
            table,
            CONTEXT,
            source="ashe:pay",
        )
