"""Pure review rules (T6.5): which records need a reviewer's attention."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import ValidationError
from fivesafes.governance.review import (
    CATEGORIES,
    MAX_WINDOW_DAYS,
    AccreditationFact,
    Category,
    DeclarationFact,
    GrantFact,
    ProjectFact,
    ReviewFacts,
    Severity,
    TrainingFact,
    check_window,
    review,
)

TODAY = date(2026, 6, 15)
offsets = st.integers(-400, 400)
windows = st.integers(0, 120)


def _day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def _only(result_categories: list[Category]) -> Category | None:
    assert len(result_categories) <= 1
    return result_categories[0] if result_categories else None


def test_every_category_has_a_title_severity_and_remedy() -> None:
    assert set(CATEGORIES) == set(Category)
    for info in CATEGORIES.values():
        assert info.title and info.remedy
        assert isinstance(info.severity, Severity)


def test_nothing_to_review_is_empty_with_all_counts_zero() -> None:
    result = review(ReviewFacts(), TODAY, 30)
    assert result.findings == ()
    assert result.worst() is None
    assert set(result.counts()) == set(Category)
    assert sum(result.counts().values()) == 0


@pytest.mark.parametrize("days", [-1, MAX_WINDOW_DAYS + 1])
def test_window_out_of_range_is_refused(days: int) -> None:
    with pytest.raises(ValidationError, match="window"):
        check_window(days)
    with pytest.raises(ValidationError):
        review(ReviewFacts(), TODAY, days)


@given(end=offsets, within=windows, active=st.booleans())
def test_grant_classification(end: int, within: int, active: bool) -> None:
    fact = GrantFact("g1", "ann", active, "earnings", _day(-500), _day(end))
    found = _only([f.category for f in review(ReviewFacts(grants=(fact,)), TODAY, within).findings])
    if not active and end >= 0:
        assert found is Category.LEAVER_WITH_GRANT
    elif end < 0:
        assert found is Category.GRANT_OVERDUE
    elif end <= within:
        assert found is Category.GRANT_DUE
    else:
        assert found is None


@given(expires=st.one_of(st.none(), offsets), within=windows)
def test_training_classification(expires: int | None, within: int) -> None:
    fact = TrainingFact(
        "ann", "Responsible for information", None if expires is None else _day(expires)
    )
    result = review(ReviewFacts(training=(fact,)), TODAY, within)
    found = _only([f.category for f in result.findings])
    if expires is None:
        assert found is Category.TRAINING_MISSING
    elif expires <= 0:  # the expiry day is the first day without the training
        assert found is Category.TRAINING_EXPIRED
    elif expires <= within:
        assert found is Category.TRAINING_EXPIRING
    else:
        assert found is None


@given(signed=st.one_of(st.none(), st.integers(1, 5)), current=st.integers(1, 5))
def test_declaration_unsigned_unless_current_version_signed(
    signed: int | None, current: int
) -> None:
    result = review(ReviewFacts(declarations=(DeclarationFact("ann", signed, current),)), TODAY)
    found = _only([f.category for f in result.findings])
    assert (found is Category.DECLARATION_UNSIGNED) is (signed != current)


@given(expires=offsets, within=windows, sup=st.booleans())
def test_accreditation_classification(expires: int, within: int, sup: bool) -> None:
    fact = AccreditationFact("rita", "provisional", _day(expires), sup, "ACC-9")
    cats = {f.category for f in review(ReviewFacts(accreditations=(fact,)), TODAY, within).findings}
    if expires < 0:  # expires is the last valid day
        assert Category.ACCREDITATION_LAPSED in cats
    elif expires <= within:
        assert Category.ACCREDITATION_EXPIRING in cats
    # a lapsed accreditation needs re-accreditation first; the supervisor comes after
    assert (Category.SUPERVISOR_MISSING in cats) is (not sup and expires >= 0)
    assert len(cats) <= 2


def test_researcher_without_accreditation_is_lapsed() -> None:
    fact = AccreditationFact("rita", None, None, False)
    result = review(ReviewFacts(accreditations=(fact,)), TODAY)
    assert [f.category for f in result.findings] == [Category.ACCREDITATION_LAPSED]
    assert "no accreditation" in result.findings[0].detail


@given(end=offsets, within=windows)
def test_project_classification(end: int, within: int) -> None:
    fact = ProjectFact("PRJ-1", "rita", _day(end))
    found = _only(
        [f.category for f in review(ReviewFacts(projects=(fact,)), TODAY, within).findings]
    )
    if end < 0:
        assert found is Category.PROJECT_PAST_END
    elif end <= within:
        assert found is Category.PROJECT_ENDING
    else:
        assert found is None


def _everything() -> ReviewFacts:
    return ReviewFacts(
        grants=(
            GrantFact("g1", "lee", False, "earnings", _day(-100), _day(100)),
            GrantFact("g2", "ann", True, "earnings", _day(-300), _day(-2)),
            GrantFact("g3", "bob", True, "earnings", _day(-300), _day(10)),
        ),
        training=(
            TrainingFact("ann", "Responsible for information", None),
            TrainingFact("bob", "Responsible for information", _day(-1)),
            TrainingFact("cat", "Responsible for information", _day(5)),
            TrainingFact("dan", "Responsible for information", _day(90), self_recorded=True),
        ),
        declarations=(DeclarationFact("bob", 1, 2),),
        declaration_published=False,  # contradicts bob's fact, but shows both categories
        accreditations=(
            AccreditationFact("rita", "full", _day(-3), True, "A1"),
            AccreditationFact("rob", "provisional", _day(20), False, "A2"),
        ),
        projects=(ProjectFact("P1", "rita", _day(-1)), ProjectFact("P2", "rob", _day(3))),
    )


def test_every_category_can_be_found_and_counted() -> None:
    result = review(_everything(), TODAY, 30)
    counts = result.counts()
    assert all(counts[c] == 1 for c in Category)
    assert result.worst() is Severity.URGENT


def test_findings_are_ordered_worst_first() -> None:
    result = review(_everything(), TODAY, 30)
    severities = [f.severity for f in result.findings]
    assert severities == sorted(severities, reverse=True)
    assert result.findings[0].category is Category.LEAVER_WITH_GRANT
    assert result.by_category(Category.GRANT_DUE)[0].item == "g3"


@given(within=windows)
def test_widening_the_window_never_hides_a_finding(within: int) -> None:
    narrow = {
        (f.category, f.subject, f.item) for f in review(_everything(), TODAY, within).findings
    }
    wide = {
        (f.category, f.subject, f.item) for f in review(_everything(), TODAY, within + 30).findings
    }
    assert narrow <= wide


def test_days_are_negative_when_overdue() -> None:
    result = review(_everything(), TODAY, 30)
    overdue = result.by_category(Category.GRANT_OVERDUE)[0]
    assert overdue.days == -2 and overdue.due == _day(-2)
    assert overdue.remedy == CATEGORIES[Category.GRANT_OVERDUE].remedy


def test_docs_describe_every_category_with_its_remedy() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "researchers-and-reviews.md").read_text("utf-8")
    for category, info in CATEGORIES.items():
        row = next(line for line in docs.splitlines() if line.startswith(f"| `{category.value}` |"))
        assert info.title in row and info.remedy in row and info.severity.name.lower() in row
