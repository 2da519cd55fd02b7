"""The people checks as a permission pair: check_qualified raises with reasons, can_qualify says."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import AccessDenied
from fivesafes.governance.access import PeopleFacts, ReasonCode, TrainingFact, decide_people
from fivesafes.governance.qualification import can_qualify, check_qualified

TODAY = date(2026, 6, 1)
VALID = TrainingFact("Responsible for information", date(2027, 1, 1))
READY = PeopleFacts("olga", True, True, (VALID,), 1, frozenset({1}))


def test_a_trained_signed_active_person_qualifies() -> None:
    check_qualified(READY, "review", TODAY)
    assert can_qualify(READY, TODAY)


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        (PeopleFacts("x"), ReasonCode.UNKNOWN_PERSON),
        (
            PeopleFacts("olga", True, False, (VALID,), 1, frozenset({1})),
            ReasonCode.PERSON_NOT_ACTIVE,
        ),
        (
            PeopleFacts("olga", True, True, (TrainingFact("c", None),), 1, frozenset({1})),
            ReasonCode.TRAINING_NOT_VALID,
        ),
        (
            PeopleFacts("olga", True, True, (TrainingFact("c", TODAY),), 1, frozenset({1})),
            ReasonCode.TRAINING_NOT_VALID,
        ),
        (PeopleFacts("olga", True, True, (VALID,), None), ReasonCode.NO_DECLARATION_PUBLISHED),
        (
            PeopleFacts("olga", True, True, (VALID,), 2, frozenset({1})),
            ReasonCode.DECLARATION_NOT_SIGNED,
        ),
    ],
)
def test_each_missing_fact_denies_with_its_reason(facts: PeopleFacts, code: ReasonCode) -> None:
    assert not can_qualify(facts, TODAY)
    assert code in decide_people(facts, TODAY).codes
    with pytest.raises(AccessDenied) as denied:
        check_qualified(facts, "approve grants", TODAY)
    assert denied.value.reasons and "approve grants" in denied.value.message


@given(
    known=st.booleans(),
    active=st.booleans(),
    trained=st.booleans(),
    signed=st.booleans(),
)
def test_the_pair_agrees_and_only_everything_passes(
    known: bool, active: bool, trained: bool, signed: bool
) -> None:
    course = VALID if trained else TrainingFact("Responsible for information", None)
    facts = PeopleFacts("p", known, active, (course,), 1, frozenset({1}) if signed else frozenset())
    allowed = can_qualify(facts, TODAY)
    assert allowed == (known and active and trained and signed)
    try:
        check_qualified(facts, "review", TODAY)
        raised = False
    except AccessDenied:
        raised = True
    assert raised is not allowed
