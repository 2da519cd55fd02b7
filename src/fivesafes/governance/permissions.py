"""Who may do what, in pairs: ``check_x`` raises AccessDenied with a readable reason,
``can_x`` returns a bool (for a UI that disables a button and says why).
"""

from __future__ import annotations

from collections.abc import Callable

from fivesafes.errors import AccessDenied
from fivesafes.governance.areas import Area
from fivesafes.governance.people import Person
from fivesafes.governance.roles import Role


def _deny(actor: Person, what: str, hint: str) -> AccessDenied:
    return AccessDenied(f"{actor.login} may not {what}", reasons=(hint,), hint=hint)


def check_active(actor: Person) -> None:
    """Raise unless the actor is an active person (leavers can do nothing)."""
    if not actor.active:
        raise _deny(actor, "act", "leavers cannot act; ask an administrator")


def _check_role(actor: Person, role: Role, what: str) -> None:
    check_active(actor)
    if not actor.has(role):
        # the hint says whom to ask; repeating the reason there told the user nothing new
        who = (
            "an administrator"
            if role is Role.ADMINISTRATOR
            else f"a person with the {role.value} role"
        )
        raise AccessDenied(
            f"{actor.login} may not {what}",
            reasons=(f"only a person with the {role.value} role may {what}",),
            hint=f"ask {who} to do it (`fivesafes people list` shows everyone's roles)",
        )


def check_administer(actor: Person) -> None:
    """Raise unless the actor may register people, courses, areas and declarations."""
    _check_role(actor, Role.ADMINISTRATOR, "administer the register")


def check_record_training(actor: Person, subject: str, *, sole_administrator: bool = False) -> None:
    """Raise unless the actor may record a training completion for ``subject``.

    Training gates access, so a completion is evidence recorded by an administrator
    (from the learning system's certificate), never a person's word about themselves:
    an administrator's own completion is recorded by another administrator (separation
    of duties). ``sole_administrator``: the actor is the only active administrator, who
    has nobody to ask; their own completion is then recorded, flagged in its audit
    event, and listed by the periodic review until another administrator records it.
    """
    check_active(actor)
    if not actor.has(Role.ADMINISTRATOR):
        raise _deny(
            actor,
            f"record training for {subject}",
            "ask an administrator to record the completion, with its evidence reference",
        )
    if actor.login == subject and not sole_administrator:
        raise _deny(
            actor,
            "record their own training",
            "ask another administrator to record your completion, with its evidence "
            "reference (nobody certifies their own training)",
        )


def _check_owner_or_administrator(actor: Person, area: Area, what: str) -> None:
    check_active(actor)
    if actor.login != area.owner and not actor.has(Role.ADMINISTRATOR):
        raise _deny(
            actor,
            what,
            f"ask the area's information asset owner ({area.owner}) or an administrator",
        )


def check_register_dataset(actor: Person, area: Area) -> None:
    """Raise unless the actor may register a dataset in ``area`` (its owner or an admin)."""
    _check_owner_or_administrator(actor, area, f"register datasets in area {area.name}")


def check_request_grant(actor: Person, grantee: str) -> None:
    """Raise unless the actor may request a grant for ``grantee`` (self, an IAO or an admin)."""
    check_active(actor)
    if actor.login != grantee and not (
        actor.has(Role.ADMINISTRATOR) or actor.has(Role.INFORMATION_ASSET_OWNER)
    ):
        raise _deny(
            actor,
            f"request access for {grantee}",
            "request access for yourself; an administrator or an information asset owner "
            "may request it for others",
        )


def check_decide_grant(actor: Person, area: Area, grantee: str) -> None:
    """Raise unless the actor may approve or reject a grant on ``area`` for ``grantee``."""
    check_active(actor)
    if actor.login == grantee:
        hint = "nobody approves their own access, administrators included"
        raise _deny(actor, "approve their own access", hint)
    if actor.login != area.owner or not actor.has(Role.INFORMATION_ASSET_OWNER):
        raise _deny(
            actor,
            f"decide grants on area {area.name}",
            f"only the area's information asset owner ({area.owner}) decides its grants",
        )


def check_revoke_grant(actor: Person, area: Area) -> None:
    """Raise unless the actor may revoke a grant on ``area`` (its owner or an admin)."""
    _check_owner_or_administrator(actor, area, f"revoke grants on area {area.name}")


# Who may read the audit log's events. Deny by default: the log says who opened which
# dataset, who was refused and why, so reading it is itself a disclosure about people.
LOG_READERS = (Role.AUDITOR, Role.ADMINISTRATOR)


def check_read_audit_log(actor: Person) -> None:
    """Raise unless the actor may read audit events (an auditor or an administrator)."""
    check_active(actor)
    if not any(actor.has(role) for role in LOG_READERS):
        raise _deny(
            actor,
            "read the audit log",
            "only an auditor or an administrator may read the audit log; "
            "ask an administrator for the auditor role (audit verify is open to everyone)",
        )


def check_own_area(candidate: Person) -> None:
    """Raise unless ``candidate`` can be an area's information asset owner."""
    if not candidate.active or not candidate.has(Role.INFORMATION_ASSET_OWNER):
        raise AccessDenied(
            f"{candidate.login} cannot own an area",
            reasons=("an area's owner must be an active information asset owner",),
            hint=f"give {candidate.login} the information_asset_owner role first",
        )


def can(check: Callable[..., None], *args: object) -> bool:
    """Return True when ``check(*args)`` does not deny (the bool half of every pair)."""
    try:
        check(*args)
    except AccessDenied:
        return False
    return True


def can_administer(actor: Person) -> bool:
    """True when the actor may administer the register."""
    return can(check_administer, actor)


def can_read_audit_log(actor: Person) -> bool:
    """True when the actor may read audit events."""
    return can(check_read_audit_log, actor)


def can_decide_grant(actor: Person, area: Area, grantee: str) -> bool:
    """True when the actor may approve or reject a grant on ``area`` for ``grantee``."""
    return can(check_decide_grant, actor, area, grantee)


def can_revoke_grant(actor: Person, area: Area) -> bool:
    """True when the actor may revoke a grant on ``area``."""
    return can(check_revoke_grant, actor, area)


def can_record_training(actor: Person, subject: str, *, sole_administrator: bool = False) -> bool:
    """True when the actor may record training for ``subject``."""
    return can(lambda: check_record_training(actor, subject, sole_administrator=sole_administrator))


def can_register_dataset(actor: Person, area: Area) -> bool:
    """True when the actor may register a dataset in ``area``."""
    return can(check_register_dataset, actor, area)


def can_request_grant(actor: Person, grantee: str) -> bool:
    """True when the actor may request a grant for ``grantee``."""
    return can(check_request_grant, actor, grantee)
