"""Roles, people, training validity, declarations and datasets (pure rules)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import ConflictError, ValidationError
from fivesafes.governance.areas import Dataset, validate_dataset, validate_name
from fivesafes.governance.declarations import check_signable, new_version, text_hash
from fivesafes.governance.people import validate_login
from fivesafes.governance.roles import Role, parse_role, parse_roles
from fivesafes.governance.training import Course, add_months, completion_for


def test_roles_parse_values_and_aliases() -> None:
    assert parse_role("Output-Checker") is Role.OUTPUT_CHECKER
    assert parse_role("analyst") is Role.STATISTICIAN
    assert parse_roles(["admin,iao", "statistician"]) == {
        Role.ADMINISTRATOR,
        Role.INFORMATION_ASSET_OWNER,
        Role.STATISTICIAN,
    }
    with pytest.raises(ValidationError) as err:
        parse_role("king")
    assert "administrator" in (err.value.hint or "")


def test_login_validation() -> None:
    assert validate_login("ada.l") == "ada.l"
    for bad in ("", "a b", "-x", "x" * 65, "a;b"):
        with pytest.raises(ValidationError):
            validate_login(bad)


@given(st.dates(date(2000, 1, 1), date(2090, 1, 1)), st.integers(0, 240))
def test_add_months_keeps_the_day_or_clamps(start: date, months: int) -> None:
    got = add_months(start, months)
    assert (got.year * 12 + got.month) - (start.year * 12 + start.month) == months
    assert got.day == start.day or (got.day < start.day and (got + timedelta(1)).day == 1)


def test_completion_valid_for_the_course_validity() -> None:
    course = Course("Earnings data", validity_months=6)
    done = completion_for(course, date(2026, 1, 10), date(2026, 2, 1), "cert-1")
    assert done.expires_on == date(2026, 7, 10)
    assert done.valid_on(date(2026, 7, 9)) and not done.valid_on(date(2026, 7, 10))
    assert not done.valid_on(date(2026, 1, 9))
    with pytest.raises(ValidationError, match="future"):
        completion_for(course, date(2026, 3, 1), date(2026, 2, 1), None)


def test_declaration_versions_and_signing() -> None:
    v1 = new_version(None, "I will keep it secret.")
    assert v1.version == 1 and v1.text_hash == text_hash("I will keep it secret.")
    assert len(v1.text_hash) == 64
    v2 = new_version(v1.version, "I will keep it secret, v2.")
    assert v2.version == 2 and v2.text_hash != v1.text_hash
    check_signable(2, 2)
    with pytest.raises(ConflictError, match="not the current"):
        check_signable(1, 2)
    with pytest.raises(ConflictError, match="no declaration"):
        check_signable(1, None)
    with pytest.raises(ValidationError):
        new_version(2, "   ")


def test_dataset_confidential_definition_and_validation() -> None:
    ds = Dataset("ashe", "earnings", True, True, True, "survey", "SRSA 2007")
    assert ds.confidential
    for flags in [(False, True, True), (True, False, True), (True, True, False)]:
        assert not Dataset("x", "a", *flags, "s", "b").confidential
    today = date(2026, 1, 1)
    assert validate_dataset(ds, today) is ds
    with pytest.raises(ValidationError, match="lawful basis"):
        validate_dataset(Dataset("x", "a", True, True, True, "s", " "), today)
    with pytest.raises(ValidationError, match="retention"):
        validate_dataset(
            Dataset("x", "a", True, True, True, "s", "b", retention_until=date(2025, 1, 1)),
            today,
        )
    with pytest.raises(ValidationError):
        validate_name("area", "Bad Name")
