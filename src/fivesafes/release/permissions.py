"""Who may do what in the release pipeline (``check_x`` raises a reason, ``can_x`` says yes/no)."""

from __future__ import annotations

from fivesafes.errors import AccessDenied
from fivesafes.governance.people import Person
from fivesafes.governance.roles import Role

RULE_SETTERS = frozenset({Role.ADMINISTRATOR, Role.HEAD_OF_PROFESSION})
AUTHORS = frozenset({Role.STATISTICIAN, Role.APPROVED_RESEARCHER, Role.FOI_OFFICER})


def _deny(person: Person, what: str, why: str, hint: str) -> AccessDenied:
    return AccessDenied(f"{person.login} may not {what}: {why}", reasons=(why,), hint=hint)


def check_define_rules(person: Person) -> None:
    """Raise unless ``person`` may publish a new version of the disclosure rules."""
    if not person.active or not person.roles & RULE_SETTERS:
        raise _deny(
            person,
            "set the disclosure rules",
            "only the head of profession or an administrator sets them",
            "ask the head of profession for statistics",
        )


def check_submit(person: Person) -> None:
    """Raise unless ``person`` may submit an output for release."""
    if not person.active or not person.roles & AUTHORS:
        raise _deny(
            person,
            "submit an output",
            "authors are statisticians, approved researchers or FOI officers",
            "ask an administrator for the statistician role",
        )


def can_review(person: Person, author: str) -> bool:
    """True when ``person`` is an active output checker who did not write the request."""
    return person.active and person.has(Role.OUTPUT_CHECKER) and person.login != author


def check_review(person: Person, author: str) -> None:
    """Raise unless ``person`` may review a request written by ``author``."""
    if person.login == author:
        raise _deny(
            person,
            "review this request",
            "authors cannot review their own request",
            "ask two output checkers who did not write it",
        )
    if not can_review(person, author):
        raise _deny(
            person,
            "review outputs",
            "only a person with the output_checker role reviews outputs",
            "ask an administrator for the output_checker role",
        )


def check_confirm_source(person: Person, area_owner: str, author: str) -> None:
    """Raise unless ``person`` may confirm a declared source: the area's asset owner, not the
    request's author (nobody vouches for their own claim)."""
    if person.login == author:
        raise _deny(
            person,
            "confirm the source of their own request",
            "nobody confirms their own declared source",
            f"ask the area's information asset owner ({area_owner})",
        )
    if (
        not person.active
        or person.login != area_owner
        or not person.has(Role.INFORMATION_ASSET_OWNER)
    ):
        raise _deny(
            person,
            "confirm where an output comes from",
            f"only the area's information asset owner ({area_owner}) confirms a declared source",
            f"ask {area_owner}",
        )


def can_confirm_source(person: Person, area_owner: str, author: str) -> bool:
    """True when ``person`` may confirm the declared source of a request by ``author``."""
    try:
        check_confirm_source(person, area_owner, author)
    except AccessDenied:
        return False
    return True
