"""Area settings: the methods-note threshold policy, set at creation or by an administrator."""

from __future__ import annotations

import pytest
from governance_register import Register

from fivesafes.errors import AccessDenied, ConflictError, NotFoundError
from fivesafes.services.governance import areas


def test_an_area_created_to_withhold_thresholds_says_so(reg: Register) -> None:
    made = reg.act("root", areas.create_area, "pay", "iris", withhold_thresholds=True)
    assert made.withhold_thresholds is True
    assert reg.read(areas.get_area, "pay").withhold_thresholds is True
    assert reg.last_event().details["withhold_thresholds"] is True
    # areas created without the setting state thresholds, as before
    assert reg.read(areas.get_area, "earnings").withhold_thresholds is False
    listed = {a.name: a.withhold_thresholds for a in reg.read(areas.list_areas)}
    assert listed == {"earnings": False, "pay": True}


def test_an_administrator_changes_the_policy_and_it_is_audited(reg: Register) -> None:
    changed = reg.act("root", areas.set_threshold_policy, "earnings", True)
    assert changed.withhold_thresholds is True
    event = reg.last_event()
    assert event.action == "area.set_threshold_policy" and event.actor == "root"
    assert event.details == {"withhold_thresholds": True, "was": False}
    back = reg.act("root", areas.set_threshold_policy, "earnings", False)
    assert back.withhold_thresholds is False
    assert reg.read(areas.get_area, "earnings").withhold_thresholds is False


def test_only_administrators_change_it_and_a_refusal_changes_nothing(reg: Register) -> None:
    before = reg.snapshot()
    for login in ("iris", "ada"):  # the area's owner is not an administrator
        with pytest.raises(AccessDenied):
            reg.act(login, areas.set_threshold_policy, "earnings", True)
    assert reg.snapshot() == before
    assert reg.read(areas.get_area, "earnings").withhold_thresholds is False


def test_setting_what_is_already_set_or_an_unknown_area_is_refused(reg: Register) -> None:
    before = reg.snapshot()
    with pytest.raises(ConflictError, match="already states thresholds"):
        reg.act("root", areas.set_threshold_policy, "earnings", False)
    with pytest.raises(NotFoundError, match="no restricted area called 'nowhere'"):
        reg.act("root", areas.set_threshold_policy, "nowhere", True)
    assert reg.snapshot() == before
