"""decide_access: one test per denial reason, and hypothesis over their combinations."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from fivesafes.governance.access import (
    AccessFacts,
    GrantFact,
    ReasonCode,
    ResearcherFacts,
    TrainingFact,
    decide_access,
)
from fivesafes.governance.grants import GrantState

TODAY = date(2026, 6, 15)
LATER = TODAY + timedelta(days=100)
EARLIER = TODAY - timedelta(days=100)

GOOD_RESEARCHER = ResearcherFacts(
    accreditation_level="full",
    accreditation_expires=LATER,
    supervisor_ok=False,
    project_ref="P-1",
    project_active=True,
    project_includes_person=True,
    project_includes_dataset=True,
    safe_researcher_training_valid=True,
)


def allowed_facts(**changes: object) -> AccessFacts:
    base = AccessFacts(
        person="ada",
        dataset="ashe",
        purpose="statistical",
        person_known=True,
        person_active=True,
        dataset_area="earnings",
        training=(
            TrainingFact("Responsible for information", LATER, EARLIER),
            TrainingFact("Earnings data", LATER, EARLIER),
        ),
        current_declaration=2,
        signed_declarations=frozenset({1, 2}),
        grants=(GrantFact("earnings", GrantState.APPROVED, EARLIER, LATER),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_all_conditions_hold_allows_with_no_reasons() -> None:
    decision = decide_access(allowed_facts(), TODAY)
    assert decision.allowed and decision.reasons == ()


def _only(facts: AccessFacts) -> ReasonCode:
    decision = decide_access(facts, TODAY)
    assert not decision.allowed
    assert len(decision.reasons) == 1, decision.reasons
    assert decision.reasons[0].message
    return decision.reasons[0].code


def test_unknown_person() -> None:
    assert _only(allowed_facts(person_known=False)) is ReasonCode.UNKNOWN_PERSON


def test_leaver() -> None:
    assert _only(allowed_facts(person_active=False)) is ReasonCode.PERSON_NOT_ACTIVE


def test_unknown_dataset() -> None:
    assert _only(allowed_facts(dataset_area=None)) is ReasonCode.UNKNOWN_DATASET


def test_mandatory_training_never_done() -> None:
    facts = allowed_facts(
        training=(TrainingFact("Responsible for information", None), *allowed_facts().training[1:])
    )
    assert _only(facts) is ReasonCode.TRAINING_NOT_VALID


def test_training_expires_at_the_start_of_its_expiry_day() -> None:
    facts = allowed_facts(training=(TrainingFact("Earnings data", TODAY, EARLIER),))
    assert _only(facts) is ReasonCode.TRAINING_NOT_VALID
    tomorrow = allowed_facts(training=(TrainingFact("Earnings data", TODAY + timedelta(1)),))
    assert decide_access(tomorrow, TODAY).allowed


def test_training_completed_in_the_future_does_not_count() -> None:
    facts = allowed_facts(training=(TrainingFact("Earnings data", LATER, TODAY + timedelta(1)),))
    assert _only(facts) is ReasonCode.TRAINING_NOT_VALID


def test_every_failing_course_is_a_reason() -> None:
    facts = allowed_facts(training=(TrainingFact("a", None), TrainingFact("b", EARLIER)))
    decision = decide_access(facts, TODAY)
    assert [r.code for r in decision.reasons] == [ReasonCode.TRAINING_NOT_VALID] * 2
    assert "'a'" in decision.reasons[0].message and "'b'" in decision.reasons[1].message


def test_no_declaration_published() -> None:
    facts = allowed_facts(current_declaration=None)
    assert _only(facts) is ReasonCode.NO_DECLARATION_PUBLISHED


def test_old_signature_does_not_count_after_a_new_version() -> None:
    facts = allowed_facts(current_declaration=3)
    assert _only(facts) is ReasonCode.DECLARATION_NOT_SIGNED


def test_no_grant() -> None:
    assert _only(allowed_facts(grants=())) is ReasonCode.NO_ACTIVE_GRANT


def test_grant_on_another_area_does_not_cover() -> None:
    grants = (GrantFact("other", GrantState.APPROVED, EARLIER, LATER),)
    assert _only(allowed_facts(grants=grants)) is ReasonCode.NO_ACTIVE_GRANT


def test_grant_past_its_end_date_lapses() -> None:
    grants = (GrantFact("earnings", GrantState.APPROVED, EARLIER, TODAY - timedelta(1)),)
    assert _only(allowed_facts(grants=grants)) is ReasonCode.NO_ACTIVE_GRANT
    on_last_day = (GrantFact("earnings", GrantState.APPROVED, EARLIER, TODAY),)
    assert decide_access(allowed_facts(grants=on_last_day), TODAY).allowed


def test_grant_not_yet_started_or_not_approved() -> None:
    future = (GrantFact("earnings", GrantState.APPROVED, TODAY + timedelta(1), LATER),)
    assert _only(allowed_facts(grants=future)) is ReasonCode.NO_ACTIVE_GRANT
    for state in GrantState:
        if state is not GrantState.APPROVED:
            grants = (GrantFact("earnings", state, EARLIER, LATER),)
            assert _only(allowed_facts(grants=grants)) is ReasonCode.NO_ACTIVE_GRANT


def test_purpose_not_statistical_and_unknown_purposes() -> None:
    for purpose in ("commercial", "Statistical", "", "statistical "):
        facts = allowed_facts(purpose=purpose)
        assert _only(facts) is ReasonCode.PURPOSE_NOT_STATISTICAL


def test_approved_researcher_without_facts_is_denied() -> None:
    facts = allowed_facts(approved_researcher=True)
    assert _only(facts) is ReasonCode.RESEARCHER_FACTS_UNAVAILABLE


def test_approved_researcher_with_good_facts_is_allowed() -> None:
    facts = allowed_facts(approved_researcher=True, researcher=GOOD_RESEARCHER)
    assert decide_access(facts, TODAY).allowed


def _researcher(**changes: object) -> AccessFacts:
    r = replace(GOOD_RESEARCHER, **changes)  # type: ignore[arg-type]
    return allowed_facts(approved_researcher=True, researcher=r)


def test_researcher_accreditation_expired_missing_or_unknown_level() -> None:
    expired = _researcher(accreditation_expires=TODAY - timedelta(1))
    assert _only(expired) is ReasonCode.ACCREDITATION_NOT_VALID
    assert _only(_researcher(accreditation_expires=None)) is ReasonCode.ACCREDITATION_NOT_VALID
    assert _only(_researcher(accreditation_level="gold")) is ReasonCode.ACCREDITATION_NOT_VALID
    assert _only(_researcher(accreditation_level=None)) is ReasonCode.ACCREDITATION_NOT_VALID


def test_provisional_researcher_needs_a_supervisor() -> None:
    assert _only(_researcher(accreditation_level="provisional")) is ReasonCode.SUPERVISOR_MISSING
    ok = _researcher(accreditation_level="provisional", supervisor_ok=True)
    assert decide_access(ok, TODAY).allowed


def test_researcher_safe_training() -> None:
    facts = _researcher(safe_researcher_training_valid=False)
    assert _only(facts) is ReasonCode.SAFE_RESEARCHER_TRAINING_NOT_VALID


def test_researcher_project_missing_or_inactive() -> None:
    assert _only(_researcher(project_ref=None)) is ReasonCode.NO_ACTIVE_PROJECT
    assert _only(_researcher(project_active=False)) is ReasonCode.NO_ACTIVE_PROJECT


def test_researcher_project_scope() -> None:
    facts = _researcher(project_includes_person=False)
    assert _only(facts) is ReasonCode.PROJECT_EXCLUDES_PERSON
    facts = _researcher(project_includes_dataset=False)
    assert _only(facts) is ReasonCode.PROJECT_EXCLUDES_DATASET


def test_researcher_facts_are_ignored_for_staff() -> None:
    bad = replace(GOOD_RESEARCHER, accreditation_level=None, project_ref=None)
    assert decide_access(allowed_facts(researcher=bad), TODAY).allowed


def test_unknown_person_reports_only_what_can_be_checked() -> None:
    facts = AccessFacts(person="nobody", dataset="nothing", purpose="fun")
    decision = decide_access(facts, TODAY)
    assert not decision.allowed
    assert decision.codes == {
        ReasonCode.UNKNOWN_PERSON,
        ReasonCode.UNKNOWN_DATASET,
        ReasonCode.PURPOSE_NOT_STATISTICAL,
    }


# ---- combinations: allowed iff all conditions hold; reasons == the failing conditions


@st.composite
def fact_combinations(draw: st.DrawFn) -> tuple[AccessFacts, set[ReasonCode]]:
    known = draw(st.booleans())
    active = draw(st.booleans())
    dataset_known = draw(st.booleans())
    statistical = draw(st.booleans())
    n_courses = draw(st.integers(0, 3))
    course_ok = [draw(st.booleans()) for _ in range(n_courses)]
    published = draw(st.booleans())
    signed = draw(st.booleans())
    grant_kind = draw(st.sampled_from(["active", "none", "other_area", "lapsed", "revoked"]))
    researcher = draw(st.booleans())
    has_rfacts = draw(st.booleans())
    level = draw(st.sampled_from(["full", "provisional", None]))
    accr_in_date = draw(st.booleans())
    supervisor = draw(st.booleans())
    srt = draw(st.booleans())
    project = draw(st.sampled_from(["active", "inactive", None]))
    incl_person = draw(st.booleans())
    incl_dataset = draw(st.booleans())

    grants = {
        "active": (GrantFact("earnings", GrantState.APPROVED, EARLIER, LATER),),
        "none": (),
        "other_area": (GrantFact("other", GrantState.APPROVED, EARLIER, LATER),),
        "lapsed": (GrantFact("earnings", GrantState.APPROVED, EARLIER, TODAY - timedelta(1)),),
        "revoked": (GrantFact("earnings", GrantState.REVOKED, EARLIER, LATER),),
    }[grant_kind]
    rfacts = ResearcherFacts(
        accreditation_level=level,
        accreditation_expires=LATER if accr_in_date else EARLIER,
        supervisor_ok=supervisor,
        project_ref=None if project is None else "P-9",
        project_active=project == "active",
        project_includes_person=incl_person,
        project_includes_dataset=incl_dataset,
        safe_researcher_training_valid=srt,
    )
    facts = AccessFacts(
        person="p",
        dataset="d",
        purpose="statistical" if statistical else draw(st.text(max_size=12)),
        person_known=known,
        person_active=active,
        approved_researcher=researcher,
        dataset_area="earnings" if dataset_known else None,
        training=tuple(
            TrainingFact(f"c{i}", LATER if ok else EARLIER) for i, ok in enumerate(course_ok)
        ),
        current_declaration=3 if published else None,
        signed_declarations=frozenset({1, 3} if signed else {1, 2}),
        grants=grants,
        researcher=rfacts if has_rfacts else None,
    )
    # The expected reasons, written from the requirements independently of the code.
    expected: set[ReasonCode] = set()
    if not known:
        expected.add(ReasonCode.UNKNOWN_PERSON)
    elif not active:
        expected.add(ReasonCode.PERSON_NOT_ACTIVE)
    if not dataset_known:
        expected.add(ReasonCode.UNKNOWN_DATASET)
    if facts.purpose != "statistical":
        expected.add(ReasonCode.PURPOSE_NOT_STATISTICAL)
    if known:
        if not all(course_ok):
            expected.add(ReasonCode.TRAINING_NOT_VALID)
        if not published:
            expected.add(ReasonCode.NO_DECLARATION_PUBLISHED)
        elif not signed:
            expected.add(ReasonCode.DECLARATION_NOT_SIGNED)
        if dataset_known and grant_kind != "active":
            expected.add(ReasonCode.NO_ACTIVE_GRANT)
        if researcher and not has_rfacts:
            expected.add(ReasonCode.RESEARCHER_FACTS_UNAVAILABLE)
        if researcher and has_rfacts:
            if level is None or not accr_in_date:
                expected.add(ReasonCode.ACCREDITATION_NOT_VALID)
            if level == "provisional" and not supervisor:
                expected.add(ReasonCode.SUPERVISOR_MISSING)
            if not srt:
                expected.add(ReasonCode.SAFE_RESEARCHER_TRAINING_NOT_VALID)
            if project != "active":
                expected.add(ReasonCode.NO_ACTIVE_PROJECT)
            if not incl_person:
                expected.add(ReasonCode.PROJECT_EXCLUDES_PERSON)
            if not incl_dataset:
                expected.add(ReasonCode.PROJECT_EXCLUDES_DATASET)
    return facts, expected


@given(fact_combinations())
def test_allowed_iff_every_condition_holds_and_reasons_are_exactly_the_failures(
    case: tuple[AccessFacts, set[ReasonCode]],
) -> None:
    facts, expected = case
    decision = decide_access(facts, TODAY)
    assert decision.codes == expected
    assert decision.allowed == (not expected)
    assert all(r.message for r in decision.reasons)
    n_bad_courses = sum(1 for t in facts.training if t.expires_on is None or t.expires_on <= TODAY)
    if facts.person_known:
        assert [r.code for r in decision.reasons].count(
            ReasonCode.TRAINING_NOT_VALID
        ) == n_bad_courses
