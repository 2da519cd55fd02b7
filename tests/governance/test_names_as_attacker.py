"""Names that decide who is who and where data live, as an attacker or a careless
administrator would type them: a trailing newline, a trailing space, look-alike Unicode.

Python's ``$`` also matches just before a final newline, so a pattern anchored with it
lets ``"alice\\n"`` through: a second person who looks like alice in every listing, an
area whose directory name ends in a newline, an audit line that breaks in two.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import ValidationError
from fivesafes.governance.areas import validate_name
from fivesafes.governance.people import validate_login
from fivesafes.governance.research_projects import ProjectProposal, validate_proposal
from fivesafes.store.roles import grant_application_role
from fivesafes.vault.names import check_name

# Each is the plain, accepted name with something an eye does not see, or a look-alike.
TWISTS = [
    "\n",  # the one ``$`` lets through
    "\r\n",
    " ",
    "\t",
    "\x00",
    "\u200b",  # zero-width space
]
LOOK_ALIKES = [
    "\uff41lice",  # fullwidth a
    "\u0430lice",  # Cyrillic a
    "ali\u0441e",  # Cyrillic s
    "alice\u0301",  # combining accent
    "\u0661\u0662",  # Arabic-Indic digits
]


@pytest.mark.parametrize("twist", TWISTS)
def test_a_login_with_an_invisible_tail_is_refused(twist: str) -> None:
    assert validate_login("alice") == "alice"
    with pytest.raises(ValidationError):
        validate_login("alice" + twist)


@pytest.mark.parametrize("login", LOOK_ALIKES)
def test_a_look_alike_login_is_refused(login: str) -> None:
    with pytest.raises(ValidationError):
        validate_login(login)


@pytest.mark.parametrize("twist", TWISTS)
def test_an_area_or_dataset_name_with_an_invisible_tail_is_refused(twist: str) -> None:
    for kind in ("area", "dataset"):
        assert validate_name(kind, "earnings") == "earnings"
        with pytest.raises(ValidationError):
            validate_name(kind, "earnings" + twist)
    assert check_name("dataset", "ashe") == "ashe"
    with pytest.raises(ValidationError):
        check_name("dataset", "ashe" + twist)


def _proposal(reference: str) -> ProjectProposal:
    return ProjectProposal(
        reference,
        "Pay gaps",
        "statistics",
        "statistical",
        "better policy",
        ("ashe",),
        date(2026, 6, 1),
        date(2027, 5, 31),
        "lena",
    )


@pytest.mark.parametrize("twist", TWISTS)
def test_a_project_reference_or_database_role_with_an_invisible_tail_is_refused(
    twist: str,
) -> None:
    validate_proposal(_proposal("PRJ-2026-001"), [])
    with pytest.raises(ValidationError, match="reference"):
        validate_proposal(_proposal("PRJ-2026-001" + twist), [])
    # refused before the connection is touched (None here)
    with pytest.raises(ValueError, match="plain PostgreSQL role name"):
        grant_application_role(None, "fivesafes_app" + twist)  # type: ignore[arg-type]


@given(st.text(min_size=1, max_size=70))
def test_an_accepted_login_is_printable_ascii_without_spaces(login: str) -> None:
    try:
        validate_login(login)
    except ValidationError:
        return
    assert login.isascii() and login.isprintable() and login == login.strip()
    assert not any(c.isspace() for c in login) and len(login) <= 64
