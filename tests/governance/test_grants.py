"""Grant state machine (as data), lapse by date, period defaults and maximum."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import ConflictError, ValidationError
from fivesafes.governance.grants import (
    FINAL_STATES,
    TRANSITIONS,
    GrantPolicy,
    GrantState,
    GrantStep,
    check_purpose,
    effective_state,
    grant_period,
    transition,
)
from fivesafes.governance.training import add_months

TODAY = date(2026, 1, 31)


def test_every_state_is_reachable_from_requested() -> None:
    seen, frontier = {GrantState.REQUESTED}, [GrantState.REQUESTED]
    while frontier:
        state = frontier.pop()
        for (src, _), t in TRANSITIONS.items():
            if src is state and t.target not in seen:
                seen.add(t.target)
                frontier.append(t.target)
    assert seen == set(GrantState)


def test_final_states_have_no_way_out_and_every_transition_is_audited() -> None:
    assert {GrantState.REJECTED, GrantState.REVOKED, GrantState.EXPIRED} == FINAL_STATES
    for (_, step), t in TRANSITIONS.items():
        assert t.audit_action == f"grant.{step.value}"


@pytest.mark.parametrize("state", list(GrantState))
@pytest.mark.parametrize("step", list(GrantStep))
def test_transition_table_is_the_only_authority(state: GrantState, step: GrantStep) -> None:
    if (state, step) in TRANSITIONS:
        assert transition(state, step) is TRANSITIONS[(state, step)]
    else:
        with pytest.raises(ConflictError):
            transition(state, step)


def test_open_grants_lapse_after_their_end_date() -> None:
    end = date(2026, 3, 1)
    for state in (GrantState.REQUESTED, GrantState.APPROVED):
        assert effective_state(state, end, end) is state
        assert effective_state(state, end, end + timedelta(1)) is GrantState.EXPIRED
    assert effective_state(GrantState.REVOKED, end, end + timedelta(9)) is GrantState.REVOKED


def test_period_defaults_to_the_default_length() -> None:
    start, end = grant_period(None, None, TODAY, GrantPolicy(default_months=3, max_months=12))
    assert start == TODAY
    assert end == date(2026, 4, 29)  # 3 months from 31 Jan clamps to 30 Apr, minus a day


def test_period_rejects_wrong_order_past_start_and_beyond_maximum() -> None:
    policy = GrantPolicy(12, 12)
    with pytest.raises(ValidationError, match="before start"):
        grant_period(TODAY + timedelta(5), TODAY + timedelta(4), TODAY, policy)
    with pytest.raises(ValidationError, match="in the past"):
        grant_period(TODAY - timedelta(1), None, TODAY, policy)
    with pytest.raises(ValidationError, match="maximum of 12 months") as err:
        grant_period(TODAY, add_months(TODAY, 12), TODAY, policy)
    assert err.value.hint


@given(
    st.integers(0, 400),
    st.integers(0, 800),
    st.integers(1, 24),
    st.integers(1, 24),
)
def test_period_is_within_the_maximum_whenever_accepted(
    offset: int, length: int, default: int, maximum: int
) -> None:
    start = TODAY + timedelta(offset)
    end = start + timedelta(length)
    policy = GrantPolicy(default, maximum)
    try:
        got = grant_period(start, end, TODAY, policy)
    except ValidationError:
        assert end >= add_months(start, maximum)
    else:
        assert got == (start, end)
        assert end < add_months(start, maximum)


def test_only_statistical_purpose() -> None:
    assert check_purpose("statistical") == "statistical"
    for bad in ("marketing", "", "STATISTICAL"):
        with pytest.raises(ValidationError):
            check_purpose(bad)


def test_docs_embed_the_generated_state_diagram() -> None:
    from pathlib import Path

    from fivesafes.governance.grants import transitions_diagram

    docs = Path(__file__).resolve().parents[2] / "docs" / "governance.md"
    assert transitions_diagram() in docs.read_text(encoding="utf-8")
