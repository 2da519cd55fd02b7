"""Who may handle requests, in pairs: ``check_x`` raises AccessDenied, ``can_x`` says yes/no.

Deny by default: FOI officers handle every kind; the data protection officer handles
subject access requests too. A case's personal data (its requester) is shown only to the
case's officers: the one who opened it and the one assigned, while they hold the role.
"""

from __future__ import annotations

from fivesafes.errors import AccessDenied
from fivesafes.governance.people import Person
from fivesafes.governance.roles import Role
from fivesafes.requests.kinds import RequestKind

REPORT_ROLES = frozenset(
    {Role.FOI_OFFICER, Role.DATA_PROTECTION_OFFICER, Role.HEAD_OF_PROFESSION, Role.AUDITOR}
)


def _deny(actor: Person, what: str, hint: str) -> AccessDenied:
    return AccessDenied(f"{actor.login} may not {what}", reasons=(hint,), hint=hint)


def can_handle(actor: Person, kind: RequestKind) -> bool:
    """True if ``actor`` may open or be assigned a request of ``kind``."""
    if not actor.active:
        return False
    if actor.has(Role.FOI_OFFICER):
        return True
    return kind is RequestKind.SAR and actor.has(Role.DATA_PROTECTION_OFFICER)


def check_handle(actor: Person, kind: RequestKind) -> None:
    """Raise unless ``actor`` may open or be assigned a request of ``kind``."""
    if not can_handle(actor, kind):
        roles = "foi_officer" + (" or data_protection_officer" if kind is RequestKind.SAR else "")
        raise _deny(
            actor, f"handle {kind.value} requests", f"only a person with the {roles} role may"
        )


def case_officers(opened_by: str, officer: str | None) -> frozenset[str]:
    """The logins of a case's officers."""
    return frozenset({opened_by} | ({officer} if officer else set()))


def can_act_on_case(actor: Person, kind: RequestKind, opened_by: str, officer: str | None) -> bool:
    """True if ``actor`` is one of the case's officers and still handles its kind."""
    return can_handle(actor, kind) and actor.login in case_officers(opened_by, officer)


def check_act_on_case(
    actor: Person, kind: RequestKind, case_id: int, opened_by: str, officer: str | None
) -> None:
    """Raise unless ``actor`` is one of the case's officers (who opened it, or assigned)."""
    if not can_act_on_case(actor, kind, opened_by, officer):
        raise _deny(
            actor,
            f"act on request #{case_id}",
            "only the case's officers (who opened it, or the assigned officer) may; "
            "ask one of them to assign it to you",
        )


def can_read_reports(actor: Person) -> bool:
    """True if ``actor`` may read case lists and reports (no personal data in them)."""
    return actor.active and any(actor.has(role) for role in REPORT_ROLES)


def check_read_reports(actor: Person) -> None:
    """Raise unless ``actor`` may read case lists and timeliness reports."""
    if not can_read_reports(actor):
        roles = ", ".join(sorted(r.value for r in REPORT_ROLES))
        raise _deny(actor, "read request cases", f"only a person with one of the roles {roles} may")
