import pytest

from fivesafes.errors import ValidationError
from fivesafes.release.workflow import (
    FINAL_STATES,
    STATE_OWNER,
    TRANSITIONS,
    VALID_TRANSITIONS,
    Actor,
    Owner,
    RequestState,
    mermaid,
    transition,
)


def test_every_state_has_an_owner():
    assert set(STATE_OWNER) == set(RequestState)


def test_final_states_are_owned_by_nobody_and_have_no_way_out():
    for state in RequestState:
        assert (STATE_OWNER[state] is Owner.NOBODY) == (state in FINAL_STATES)
    assert not any(t.source in FINAL_STATES for t in TRANSITIONS)


def test_every_non_final_state_can_be_left_and_reached():
    sources = {t.source for t in TRANSITIONS}
    targets = {t.target for t in TRANSITIONS} | {RequestState.DRAFT}
    assert set(RequestState) - FINAL_STATES <= sources
    assert targets == set(RequestState)


def test_transitions_are_unique():
    assert len(VALID_TRANSITIONS) == len(TRANSITIONS)


def test_author_can_withdraw_any_time_before_release_but_not_after():
    for state in set(RequestState) - FINAL_STATES:
        transition(state, RequestState.WITHDRAWN, Actor.AUTHOR)
    with pytest.raises(ValidationError, match="final state"):
        transition(RequestState.RELEASED, RequestState.WITHDRAWN, Actor.AUTHOR)


def test_publishing_needs_approval_first():
    with pytest.raises(ValidationError, match="cannot go from submitted to released"):
        transition(RequestState.SUBMITTED, RequestState.RELEASED, Actor.AUTHOR)


def test_wrong_actor_is_refused():
    with pytest.raises(ValidationError, match="for the author"):
        transition(RequestState.DRAFT, RequestState.SUBMITTED, Actor.REVIEWER)
    with pytest.raises(ValidationError, match="for the system"):
        transition(RequestState.REVIEWED, RequestState.APPROVED, Actor.REVIEWER)


def test_owner_table_agrees_with_who_moves_each_state_on():
    owner_of_actor = {Actor.AUTHOR: Owner.AUTHOR, Actor.REVIEWER: Owner.REVIEWERS}
    for t in TRANSITIONS:
        if t.actor is Actor.SYSTEM or t.target is RequestState.WITHDRAWN:
            continue
        assert STATE_OWNER[t.source] is owner_of_actor[t.actor], t


def test_diagram_lists_every_transition():
    diagram = mermaid()
    for t in TRANSITIONS:
        assert f"{t.source.value} --> {t.target.value}" in diagram
