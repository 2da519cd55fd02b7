"""check_x / can_x pairs: administrators, area owners, self-approval."""

from __future__ import annotations

import pytest

from fivesafes.errors import AccessDenied
from fivesafes.governance import permissions as perm
from fivesafes.governance.areas import Area
from fivesafes.governance.people import Person, PersonStatus
from fivesafes.governance.roles import Role

ADMIN = Person("root", "Admin", frozenset({Role.ADMINISTRATOR}))
OWNER = Person("iao", "Owner", frozenset({Role.INFORMATION_ASSET_OWNER}))
ADMIN_OWNER = Person("boss", "Boss", frozenset({Role.ADMINISTRATOR, Role.INFORMATION_ASSET_OWNER}))
ANALYST = Person("ada", "Ada", frozenset({Role.STATISTICIAN}))
LEFT = Person("gone", "Gone", frozenset({Role.ADMINISTRATOR}), PersonStatus.LEAVER)
AREA = Area("earnings", "iao")
BOSS_AREA = Area("pay", "boss")


def test_only_active_administrators_administer() -> None:
    assert perm.can_administer(ADMIN)
    for p in (OWNER, ANALYST, LEFT):
        assert not perm.can_administer(p)
    with pytest.raises(AccessDenied) as err:
        perm.check_administer(ANALYST)
    assert "administrator" in err.value.reasons[0]


def test_a_role_refusal_says_what_to_do_not_the_reason_again() -> None:
    # the hint repeated the reason ("only a person with the administrator role may ..."),
    # printed twice, and never said whom to ask
    with pytest.raises(AccessDenied) as err:
        perm.check_administer(ANALYST)
    hint = err.value.hint or ""
    assert hint not in err.value.reasons
    assert "ask an administrator" in hint and "fivesafes people list" in hint


def test_only_the_area_owner_decides_its_grants() -> None:
    assert perm.can_decide_grant(OWNER, AREA, "ada")
    assert not perm.can_decide_grant(ADMIN, AREA, "ada")
    assert not perm.can_decide_grant(ANALYST, AREA, "ada")
    other_owner = Person("iao2", "Other", frozenset({Role.INFORMATION_ASSET_OWNER}))
    assert not perm.can_decide_grant(other_owner, AREA, "ada")


def test_nobody_approves_their_own_access_not_even_an_administrator_owner() -> None:
    assert perm.can_decide_grant(ADMIN_OWNER, BOSS_AREA, "ada")
    with pytest.raises(AccessDenied, match="own access"):
        perm.check_decide_grant(ADMIN_OWNER, BOSS_AREA, "boss")
    assert not perm.can_decide_grant(OWNER, AREA, "iao")


def test_revoke_record_training_register_dataset_request_grant() -> None:
    assert perm.can_revoke_grant(OWNER, AREA) and perm.can_revoke_grant(ADMIN, AREA)
    assert not perm.can_revoke_grant(ANALYST, AREA)
    assert perm.can_record_training(ADMIN, "ada")
    # nobody certifies their own training: it gates access to confidential data
    assert not perm.can_record_training(ANALYST, "ada")
    assert not perm.can_record_training(ANALYST, "bob")
    assert perm.can_register_dataset(OWNER, AREA) and not perm.can_register_dataset(ANALYST, AREA)
    assert perm.can_request_grant(ANALYST, "ada") and not perm.can_request_grant(ANALYST, "bob")
    assert not perm.can_request_grant(LEFT, "gone")


def test_area_owner_must_be_an_active_asset_owner() -> None:
    perm.check_own_area(OWNER)
    for p in (ADMIN, ANALYST):
        with pytest.raises(AccessDenied):
            perm.check_own_area(p)


def test_only_active_auditors_and_administrators_read_the_audit_log() -> None:
    auditor = Person("aud", "Auditor", frozenset({Role.AUDITOR}))
    assert perm.can_read_audit_log(auditor) and perm.can_read_audit_log(ADMIN)
    # deny by default: every other role, and a leaver whatever their roles
    others = [Person(r.value, r.value, frozenset({r})) for r in Role if r not in perm.LOG_READERS]
    for p in [*others, LEFT, Person("none", "No roles", frozenset())]:
        assert not perm.can_read_audit_log(p), p
    with pytest.raises(AccessDenied) as err:
        perm.check_read_audit_log(OWNER)
    assert "auditor" in err.value.reasons[0]
