"""Nobody certifies their own training: an administrator's completion is recorded by
another administrator; the only one may record their own, flagged for the review."""

from __future__ import annotations

import json

import pytest
from governance_register import MANDATORY, TODAY, Register

from fivesafes.errors import AccessDenied
from fivesafes.governance.review import Category
from fivesafes.governance.roles import Role
from fivesafes.services.governance import people, review, training


def _self_found(reg: Register) -> set[tuple[str, str]]:
    result = reg.read(review.review_access, today=TODAY, within_days=30)
    return {
        (f.subject, f.item)
        for f in result.findings
        if f.category is Category.TRAINING_SELF_RECORDED
    }


def test_an_administrator_cannot_record_their_own_training_while_another_could(
    reg: Register,
) -> None:
    reg.act("root", people.register_person, "ann", "Ann Admin", [Role.ADMINISTRATOR])
    before = reg.snapshot()
    with pytest.raises(AccessDenied, match="own training"):
        reg.act("ann", training.record_completion, "ann", MANDATORY, TODAY, "cert", TODAY)
    assert reg.snapshot() == before  # no completion: the denial is the only trace
    # ... and another administrator records it, from the evidence
    reg.act("root", training.record_completion, "ann", MANDATORY, TODAY, "cert", TODAY)
    assert ("ann", MANDATORY) not in _self_found(reg)


def test_the_only_administrator_records_their_own_flagged_until_another_checks_it(
    reg: Register,
) -> None:
    reg.act("root", training.record_completion, "root", MANDATORY, TODAY, "cert", TODAY)
    event = reg.last_event()
    assert event.action == "training.complete"
    assert json.loads(event.details_text)["self_recorded"] is True
    assert ("root", MANDATORY) in _self_found(reg)
    # a second administrator arrives, checks the evidence and records it again
    reg.act("root", people.register_person, "ann", "Ann Admin", [Role.ADMINISTRATOR])
    reg.act("ann", training.record_completion, "root", MANDATORY, TODAY, "cert", TODAY)
    assert ("root", MANDATORY) not in _self_found(reg)
    # from now on root has someone to ask
    with pytest.raises(AccessDenied, match="own training"):
        reg.act("root", training.record_completion, "root", MANDATORY, TODAY, "cert", TODAY)


def test_recording_someone_elses_training_is_not_flagged(reg: Register) -> None:
    reg.act("root", training.record_completion, "ada", MANDATORY, TODAY, "cert", TODAY)
    assert "self_recorded" not in json.loads(reg.last_event().details_text)
    assert ("ada", MANDATORY) not in _self_found(reg)
