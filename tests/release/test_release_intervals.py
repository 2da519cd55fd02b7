"""The audit's intervals of a submitted table: computed as ``table protect`` computes them
(exact up to EXACT_AUDIT_MAX_CELLS, check mode beyond), sealed, and opened only as sealed."""

from __future__ import annotations

import pandas as pd
import pytest
from release_world import BY_REGION, first_release, table

from fivesafes.errors import IntegrityError, KeyProviderError
from fivesafes.release import checks as release_checks
from fivesafes.release.checks import AUDIT, CheckVerdict, audit_check
from fivesafes.release.intervals import (
    AT_LEAST,
    AuditIntervals,
    intervals_object_id,
    seal_intervals,
    unseal_intervals,
)
from fivesafes.vault.keys import FileKeyProvider


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> FileKeyProvider:
    p = FileKeyProvider(tmp_path_factory.mktemp("keys"))
    p.create_key("earnings")
    return p


def _intervals() -> AuditIntervals:
    result = audit_check(first_release())
    assert result.name == AUDIT and result.verdict is CheckVerdict.PASS
    assert result.intervals is not None
    return result.intervals


def test_the_audit_check_keeps_exact_intervals_beside_its_plain_details() -> None:
    result = audit_check(first_release())
    found = _intervals()
    assert found.mode == "exact" and found.safe and found.dimensions == ("area",)
    # N = a1 + a2 + a3 = 37 is published with a1 = 20: a2 + a3 = 17, both non-negative
    assert found.achieved_text() == {("a2",): "[0, 17]", ("a3",): "[0, 17]"}
    primary = found.cells.set_index("area").loc["a3"]
    assert (primary["required_lower"], primary["required_upper"]) == (1.0, 3.0)
    # the stored (plain-text) details never hold them
    flat = repr(result.details)
    assert "attacker_min" not in flat and "attacker_max" not in flat


def test_beyond_the_exact_limit_the_check_mode_records_what_it_proves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(release_checks, "EXACT_AUDIT_MAX_CELLS", 3)  # this table has 8
    found = audit_check(first_release()).intervals
    assert found is not None and found.mode == "check" and found.safe
    shown = found.achieved_text()
    assert shown[("a2",)] == "not computed (check mode)"  # the secondary: left unsolved
    # the primary: its LPs stop once its requirement is reached; here both bounds were
    # reached (the interval is exact and says so), else it says what is proven
    assert shown[("a3",)] == "[0, 17]"


def test_a_cell_proven_in_check_mode_shows_at_least_the_required_never_its_numbers() -> None:
    cells = pd.DataFrame(
        {
            "area": ["a3", "b7"],
            "status": ["primary", "primary"],
            "attacker_min": [1.5, 2.0],
            "attacker_max": [40.0, 2.5],
            "required_lower": [1.0, 1.0],
            "required_upper": [3.0, 3.0],
            "protected": [True, False],
            "failure": ["", "interval"],
            "interval": ["inner", "inner"],
        }
    )
    shown = AuditIntervals("check", False, ("area",), cells).achieved_text()
    assert shown == {("a3",): AT_LEAST, ("b7",): "short of the required"}


def test_an_unsafe_table_keeps_its_intervals_and_verdict() -> None:
    alone = table("pay by area", BY_REGION, {"a3": "primary"})  # N - a1 - a2 gives a3
    result = audit_check(alone)
    assert result.verdict is CheckVerdict.FAIL
    assert result.intervals is not None and not result.intervals.safe
    assert result.intervals.achieved_text() == {("a3",): "[2, 2]"}


def test_nothing_hidden_keeps_no_intervals() -> None:
    assert audit_check(table("pay by area", BY_REGION, {})).intervals is None


def test_sealed_intervals_round_trip_and_hold_no_plain_text(provider: FileKeyProvider) -> None:
    found = _intervals()
    sealed, wrapped = seal_intervals(provider, "earnings", 7, 2, found)
    assert b"a3" not in sealed and b"attacker" not in sealed and b"primary" not in sealed
    assert b"primary" not in wrapped.encode()
    back = unseal_intervals(provider, "earnings", 7, 2, sealed, wrapped)
    assert back.mode == found.mode and back.safe == found.safe
    assert back.achieved_text() == found.achieved_text()
    assert back.cells.equals(found.cells)


def test_sealed_intervals_are_bound_to_their_version_and_detect_tampering(
    provider: FileKeyProvider,
) -> None:
    sealed, wrapped = seal_intervals(provider, "earnings", 7, 2, _intervals())
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(IntegrityError):
        unseal_intervals(provider, "earnings", 7, 2, flipped, wrapped)
    with pytest.raises((IntegrityError, KeyProviderError)):  # another version's
        unseal_intervals(provider, "earnings", 7, 3, sealed, wrapped)
    assert intervals_object_id(7, 2) != "release-request/7/v2"  # not the content's id


def test_a_payload_of_another_kind_is_refused() -> None:
    with pytest.raises(IntegrityError):
        AuditIntervals.from_payload(b'{"format": 99}')
