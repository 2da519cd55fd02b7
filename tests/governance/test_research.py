"""Pure rules for approved researchers and projects."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import AccessDenied, ValidationError
from fivesafes.governance.research import (
    ACCREDITATION_YEARS,
    Accreditation,
    AccreditationLevel,
    SupervisorFacts,
    add_years,
    check_supervisor,
    default_expiry,
    parse_level,
    supervisor_ok,
    validate_accreditation,
)
from fivesafes.governance.research_changes import (
    CHANGE_RULES,
    CHANGE_TRANSITIONS,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    ProjectState,
    apply_change,
    check_can_decide_change,
    check_can_request_change,
    next_change_status,
    parse_decision,
)
from fivesafes.governance.research_projects import (
    DERIVED_STATES,
    FINAL_STATES,
    PROJECT_TRANSITIONS,
    ActorFacts,
    MemberFacts,
    ProjectAction,
    ProjectFacts,
    ProjectProposal,
    ProjectStatus,
    approver_reasons,
    can_approve,
    check_can_approve,
    check_team_member,
    effective_status,
    is_active,
    next_status,
    state_diagram,
    validate_proposal,
)
from fivesafes.governance.roles import Role

DAY = date(2026, 3, 1)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


def _acc(**kw: object) -> Accreditation:
    base = Accreditation(
        researcher="rita",
        body="UK Statistics Authority",
        reference="ACC-1",
        level=AccreditationLevel.FULL,
        granted=DAY,
        expires=default_expiry(AccreditationLevel.FULL, DAY),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


# --- accreditation -------------------------------------------------------------


@given(granted=days, level=st.sampled_from(list(AccreditationLevel)))
def test_default_expiry_is_the_day_before_the_anniversary(
    granted: date, level: AccreditationLevel
) -> None:
    expires = default_expiry(level, granted)
    years = ACCREDITATION_YEARS[level]
    assert expires + timedelta(days=1) == add_years(granted, years)
    assert 365 * years - 1 <= (expires - granted).days <= 366 * years
    acc = _acc(
        level=level,
        granted=granted,
        expires=expires,
        supervisor="sam" if level == "provisional" else None,
    )
    validate_accreditation(acc)
    assert acc.valid_on(granted) and acc.valid_on(expires)
    assert not acc.valid_on(expires + timedelta(days=1))
    assert not acc.valid_on(granted - timedelta(days=1))


def test_full_is_five_years_and_provisional_three() -> None:
    assert default_expiry(AccreditationLevel.FULL, date(2026, 1, 1)) == date(2030, 12, 31)
    assert default_expiry(AccreditationLevel.PROVISIONAL, date(2026, 1, 1)) == date(2028, 12, 31)
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)


def test_provisional_without_supervisor_is_refused() -> None:
    acc = _acc(
        level=AccreditationLevel.PROVISIONAL,
        expires=default_expiry(AccreditationLevel.PROVISIONAL, DAY),
    )
    with pytest.raises(ValidationError, match="supervisor"):
        validate_accreditation(acc)
    validate_accreditation(replace(acc, supervisor="sam"))


def test_provisional_cannot_supervise_self() -> None:
    acc = _acc(
        level=AccreditationLevel.PROVISIONAL,
        expires=default_expiry(AccreditationLevel.PROVISIONAL, DAY),
        supervisor="rita",
    )
    with pytest.raises(ValidationError, match="themselves"):
        validate_accreditation(acc)


def test_full_accreditation_takes_no_supervisor() -> None:
    with pytest.raises(ValidationError, match="only a provisional"):
        validate_accreditation(_acc(supervisor="sam"))


def test_provisional_beyond_three_years_is_refused() -> None:
    acc = _acc(
        level=AccreditationLevel.PROVISIONAL,
        supervisor="sam",
        expires=default_expiry(AccreditationLevel.PROVISIONAL, DAY) + timedelta(days=1),
    )
    with pytest.raises(ValidationError, match="at most 3 years"):
        validate_accreditation(acc)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("body", "  ", "body"),
        ("reference", "", "reference"),
        ("expires", DAY - timedelta(days=1), "before it was granted"),
    ],
)
def test_malformed_accreditation_is_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        validate_accreditation(_acc(**{field: value}))
    assert info.value.hint


def test_parse_level() -> None:
    assert parse_level(" Full ") is AccreditationLevel.FULL
    with pytest.raises(ValidationError, match="unknown accreditation level") as info:
        parse_level("gold")
    assert "provisional" in (info.value.hint or "")


@pytest.mark.parametrize("is_staff", [True, False])
@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("active", [True, False])
def test_supervisor_qualifies_only_when_active_and_staff_or_fully_accredited(
    is_staff: bool, full: bool, active: bool
) -> None:
    sup = SupervisorFacts("sam", active=active, is_staff=is_staff, full_accreditation_valid=full)
    expected = active and (is_staff or full)
    assert supervisor_ok(AccreditationLevel.PROVISIONAL, sup) is expected
    assert supervisor_ok(AccreditationLevel.FULL, None) is True
    if expected:
        check_supervisor(sup)
    else:
        with pytest.raises(ValidationError):
            check_supervisor(sup)


def test_supervisor_missing_or_no_accreditation_fails_closed() -> None:
    sup = SupervisorFacts("sam", True, True, True)
    assert supervisor_ok(AccreditationLevel.PROVISIONAL, None) is False
    assert supervisor_ok(None, sup) is False


# --- project state machine -------------------------------------------------------


def test_state_diagram_shows_every_transition() -> None:
    diagram = state_diagram()
    for action, transition in PROJECT_TRANSITIONS.items():
        for source in transition.source:
            assert f"{source.value} --> {transition.target.value}: {action.value}" in diagram


def test_derived_states_are_never_targets_of_stored_transitions() -> None:
    for transition in PROJECT_TRANSITIONS.values():
        assert transition.target not in DERIVED_STATES


def test_state_machine_is_complete() -> None:
    # Every action has a transition, every final state has no way out,
    # and every non-final stored state can be left.
    assert set(PROJECT_TRANSITIONS) == set(ProjectAction)
    sources = set().union(*(t.source for t in PROJECT_TRANSITIONS.values()))
    for status in ProjectStatus:
        if status in FINAL_STATES:
            assert status not in sources
        else:
            assert status in sources
    assert set(CHANGE_RULES) == set(ChangeKind)
    assert set(CHANGE_TRANSITIONS) == set(ChangeStatus)
    for rule in CHANGE_RULES.values():
        assert not (rule.open_states & FINAL_STATES)
    for t in PROJECT_TRANSITIONS.values():
        assert t.audit_action.startswith("project.")


@pytest.mark.parametrize("action", list(ProjectAction))
@pytest.mark.parametrize("status", list(ProjectStatus))
def test_next_status_follows_the_table(action: ProjectAction, status: ProjectStatus) -> None:
    transition = PROJECT_TRANSITIONS[action]
    if status in transition.source:
        assert next_status(status, action) is transition.target
    else:
        with pytest.raises(ValidationError, match=f"cannot {action.value}"):
            next_status(status, action)


@given(start=days, length=st.integers(1, 4000), offset=st.integers(-5000, 5000))
def test_active_only_between_start_and_end_when_approved(
    start: date, length: int, offset: int
) -> None:
    end = start + timedelta(days=length)
    today = start + timedelta(days=offset)
    inside = start <= today <= end
    assert is_active(ProjectStatus.APPROVED, start, end, today) is inside
    expected = (
        ProjectStatus.APPROVED
        if today < start
        else ProjectStatus.ACTIVE
        if inside
        else ProjectStatus.ENDED
    )
    assert effective_status(ProjectStatus.APPROVED, start, end, today) is expected
    for status in (ProjectStatus.PROPOSED, ProjectStatus.CLOSED, ProjectStatus.REJECTED):
        assert not is_active(status, start, end, today)
        assert effective_status(status, start, end, today) is status


# --- proposals -------------------------------------------------------------------


def _proposal(**kw: object) -> ProjectProposal:
    base = ProjectProposal(
        reference="PRJ-2026-001",
        title="Earnings by region",
        purpose="Estimate regional earnings distributions",
        purpose_category="statistical",
        public_benefit="Better regional statistics for policy",
        datasets=("ashe",),
        start=DAY,
        end=DAY + timedelta(days=365),
        lead="rita",
        members=(),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_valid_proposal_passes() -> None:
    validate_proposal(_proposal(), [MemberFacts("rita", True, False, True)])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reference": "x"}, "reference"),
        ({"reference": "bad ref!"}, "reference"),
        ({"title": " "}, "title"),
        ({"purpose": ""}, "purpose is empty"),
        ({"public_benefit": ""}, "public-benefit"),
        ({"purpose_category": "commercial"}, "statistical purposes only"),
        ({"datasets": ()}, "at least one dataset"),
        ({"datasets": ("a", "a")}, "listed twice"),
        ({"end": DAY}, "not after its start"),
        ({"end": DAY - timedelta(days=3)}, "not after its start"),
        ({"members": ("sam", "sam")}, "listed twice"),
    ],
)
def test_invalid_proposals_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        validate_proposal(_proposal(**changes), [])
    assert info.value.hint


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (MemberFacts("lee", active=False, is_staff=True, accreditation_valid=True), "has left"),
        (MemberFacts("ann", active=True, is_staff=False, accreditation_valid=False), "neither"),
    ],
)
def test_team_members_must_be_active_staff_or_accredited(member: MemberFacts, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_team_member(member)
    with pytest.raises(ValidationError, match=message):
        validate_proposal(_proposal(), [member])


# --- who approves ---------------------------------------------------------------------


def _facts(**kw: object) -> ProjectFacts:
    base = ProjectFacts(
        reference="PRJ-1",
        status=ProjectStatus.PROPOSED,
        lead="rita",
        members=frozenset({"sam"}),
        dataset_areas=frozenset({"earnings", "business"}),
        start=DAY,
        end=DAY + timedelta(days=100),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_head_of_profession_may_approve() -> None:
    hop = ActorFacts("hana", frozenset({Role.HEAD_OF_PROFESSION}))
    assert can_approve(hop, _facts())
    check_can_approve(hop, _facts())


def test_asset_owner_must_own_every_area_in_scope() -> None:
    partial = ActorFacts("iona", frozenset({Role.INFORMATION_ASSET_OWNER}), frozenset({"earnings"}))
    with pytest.raises(AccessDenied) as info:
        check_can_approve(partial, _facts())
    assert "business" in " ".join(info.value.reasons)
    full = replace(partial, owned_areas=frozenset({"earnings", "business"}))
    assert can_approve(full, _facts())
    # owning areas without holding the role is not enough
    assert not can_approve(replace(full, roles=frozenset({Role.STATISTICIAN})), _facts())


def test_lead_never_approves_own_project_even_as_head_of_profession() -> None:
    lead = ActorFacts("rita", frozenset({Role.HEAD_OF_PROFESSION, Role.ADMINISTRATOR}))
    with pytest.raises(AccessDenied) as info:
        check_can_approve(lead, _facts())
    assert any("leads project" in r for r in info.value.reasons)


def test_member_and_leaver_may_not_approve_and_all_reasons_are_listed() -> None:
    member = ActorFacts("sam", frozenset({Role.STATISTICIAN}), active=False)
    reasons = approver_reasons(member, _facts())
    assert len(reasons) == 3  # left, member, no approving role


def test_change_requests_come_from_lead_or_approver() -> None:
    facts = _facts(status=ProjectStatus.APPROVED)
    lead = ActorFacts("rita", frozenset({Role.APPROVED_RESEARCHER}))
    hop = ActorFacts("hana", frozenset({Role.HEAD_OF_PROFESSION}))
    other = ActorFacts("olly", frozenset({Role.APPROVED_RESEARCHER}))
    for kind in ChangeKind:
        check_can_request_change(lead, facts, kind)
        check_can_request_change(hop, facts, kind)
        with pytest.raises(AccessDenied):
            check_can_request_change(other, facts, kind)
        check_can_decide_change(hop, facts, kind)
        with pytest.raises(AccessDenied):
            check_can_decide_change(lead, facts, kind)


# --- change requests ------------------------------------------------------------------


def _state(**kw: object) -> ProjectState:
    base = ProjectState(
        reference="PRJ-1",
        status=ProjectStatus.APPROVED,
        lead="rita",
        members=frozenset({"sam"}),
        datasets=frozenset({"ashe", "idbr"}),
        start=DAY,
        end=DAY + timedelta(days=100),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


@given(extra=st.integers(1, 3000))
def test_extension_moves_the_end_later(extra: int) -> None:
    state = _state()
    new_end = state.end + timedelta(days=extra)
    out = apply_change(state, ChangeRequest(ChangeKind.EXTEND, "more time", new_end=new_end))
    assert out.end == new_end
    assert out.datasets == state.datasets and out.members == state.members


@given(earlier=st.integers(0, 3000))
def test_extension_cannot_shorten(earlier: int) -> None:
    state = _state()
    change = ChangeRequest(ChangeKind.EXTEND, "x", new_end=state.end - timedelta(days=earlier))
    with pytest.raises(ValidationError, match="not after the current end"):
        apply_change(state, change)


@pytest.mark.parametrize("status", sorted(FINAL_STATES | {ProjectStatus.PROPOSED}))
@pytest.mark.parametrize("kind", list(ChangeKind))
def test_no_change_to_closed_rejected_or_unapproved_projects(
    status: ProjectStatus, kind: ChangeKind
) -> None:
    state = _state(status=status)
    change = ChangeRequest(kind, "why", new_end=state.end + timedelta(days=9))
    with pytest.raises(ValidationError, match=status.value):
        apply_change(state, change)


def test_extending_a_closed_project_says_propose_a_new_one() -> None:
    state = _state(status=ProjectStatus.CLOSED)
    with pytest.raises(ValidationError) as info:
        apply_change(state, ChangeRequest(ChangeKind.EXTEND, "x", new_end=date(2030, 1, 1)))
    assert "new project" in (info.value.hint or "")


@given(
    adds=st.sets(st.sampled_from(["a", "b", "c", "ashe", "idbr"]), max_size=3),
    removes=st.sets(st.sampled_from(["a", "ashe", "idbr", "zz"]), max_size=3),
)
def test_scope_change_result_or_error(adds: set[str], removes: set[str]) -> None:
    state = _state()
    change = ChangeRequest(
        ChangeKind.CHANGE_SCOPE,
        "scope",
        add_datasets=tuple(sorted(adds)),
        remove_datasets=tuple(sorted(removes)),
    )
    expected = (state.datasets | adds) - removes
    legal = (
        (adds or removes)
        and not (adds & removes)
        and not (adds & state.datasets)
        and removes <= state.datasets
        and expected
    )
    if legal:
        out = apply_change(state, change)
        assert out.datasets == expected
        assert out.added_datasets == adds and out.removed_datasets == removes
    else:
        with pytest.raises(ValidationError):
            apply_change(state, change)


def test_team_change_adds_and_removes_but_never_the_lead() -> None:
    state = _state()
    out = apply_change(
        state,
        ChangeRequest(
            ChangeKind.CHANGE_TEAM, "team", add_members=("tom",), remove_members=("sam",)
        ),
    )
    assert out.members == {"tom"}
    with pytest.raises(ValidationError, match="leads the project"):
        apply_change(state, ChangeRequest(ChangeKind.CHANGE_TEAM, "t", remove_members=("rita",)))
    with pytest.raises(ValidationError, match="already on the team"):
        apply_change(state, ChangeRequest(ChangeKind.CHANGE_TEAM, "t", add_members=("rita",)))
    with pytest.raises(ValidationError, match="not on the team"):
        apply_change(state, ChangeRequest(ChangeKind.CHANGE_TEAM, "t", remove_members=("zed",)))
    with pytest.raises(ValidationError, match="adds or removes"):
        apply_change(state, ChangeRequest(ChangeKind.CHANGE_TEAM, "t"))


def test_close_keeps_scope_and_team_for_the_record() -> None:
    state = _state()
    out = apply_change(state, ChangeRequest(ChangeKind.CLOSE, "finished"))
    assert out.status is ProjectStatus.CLOSED
    assert out.datasets == state.datasets and out.members == state.members


def test_change_needs_a_reason() -> None:
    with pytest.raises(ValidationError, match="reason"):
        apply_change(_state(), ChangeRequest(ChangeKind.CLOSE, "  "))


@pytest.mark.parametrize("current", list(ChangeStatus))
@pytest.mark.parametrize("target", [ChangeStatus.APPROVED, ChangeStatus.REJECTED])
def test_change_requests_are_decided_once(current: ChangeStatus, target: ChangeStatus) -> None:
    if current is ChangeStatus.REQUESTED:
        assert next_change_status(current, target) is target
    else:
        with pytest.raises(ValidationError, match="already"):
            next_change_status(current, target)


def test_parse_decision() -> None:
    assert parse_decision("Approve") is ChangeStatus.APPROVED
    assert parse_decision("rejected") is ChangeStatus.REJECTED
    with pytest.raises(ValidationError, match="unknown decision"):
        parse_decision("maybe")


def test_docs_show_the_generated_state_diagram() -> None:
    docs = Path(__file__).parents[2] / "docs" / "researchers-and-reviews.md"
    assert state_diagram() in docs.read_text(encoding="utf-8")
