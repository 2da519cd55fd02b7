"""A case's state machine (as data): complete, reachable, clear refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import ValidationError
from fivesafes.requests.cases import (
    FINAL_STATES,
    TRANSITIONS,
    CaseState,
    Move,
    allowed_moves,
    apply_move,
    diagram,
    parse_outcome,
)


def test_every_move_has_a_transition_and_an_event() -> None:
    assert set(TRANSITIONS) == set(Move)
    events = [t.event for t in TRANSITIONS.values()]
    assert len(set(events)) == len(events)
    assert all(e.startswith("request.") for e in events)


def test_every_state_is_reachable_from_open() -> None:
    seen, frontier = {CaseState.OPEN}, [CaseState.OPEN]
    while frontier:
        state = frontier.pop()
        for move in allowed_moves(state):
            after = apply_move(state, move)
            if after not in seen:
                seen.add(after)
                frontier.append(after)
    assert seen == set(CaseState)


def test_final_states_allow_no_move() -> None:
    for state in FINAL_STATES:
        assert allowed_moves(state) == ()


def test_a_closed_case_cannot_be_clarified() -> None:
    with pytest.raises(ValidationError, match="closed cannot clarify") as raised:
        apply_move(CaseState.CLOSED, Move.CLARIFY)
    assert raised.value.hint is not None and "assigned" in raised.value.hint


def test_extend_keeps_the_state() -> None:
    assert apply_move(CaseState.ASSIGNED, Move.EXTEND) is CaseState.ASSIGNED


@given(st.lists(st.sampled_from(list(Move)), max_size=12))
def test_any_sequence_of_moves_either_applies_or_is_refused(moves: list[Move]) -> None:
    state = CaseState.OPEN
    for move in moves:
        if state in TRANSITIONS[move].sources:
            state = apply_move(state, move)
        else:
            with pytest.raises(ValidationError):
                apply_move(state, move)
    assert state in set(CaseState)


def test_diagram_lists_every_move() -> None:
    text = diagram()
    for move in Move:
        assert f": {move.value}" in text
    assert "internal_review" in text and "internal-review" not in text.replace(": ", "")


def test_outcomes_parse() -> None:
    assert parse_outcome("Part-Withheld").value == "part-withheld"
    with pytest.raises(ValidationError, match="granted"):
        parse_outcome("yes")


def test_the_docs_diagram_is_generated_from_the_table() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "requests.md").read_text()
    start = doc.index("```mermaid\n") + len("```mermaid\n")
    assert doc[start : doc.index("```", start)] == diagram()
