"""People in the register: a login, a name, roles and an active/leaver status."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from fivesafes.errors import ValidationError
from fivesafes.governance.roles import Role


class PersonStatus(StrEnum):
    """A leaver keeps their history but loses every access at once."""

    ACTIVE = "active"
    LEAVER = "leaver"


# \Z, not $: $ also matches before a final newline, which would let "name\n" through.
_LOGIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}\Z")


@dataclass(frozen=True)
class Person:
    """A registered person as the domain rules see them."""

    login: str
    name: str
    roles: frozenset[Role]
    status: PersonStatus = PersonStatus.ACTIVE

    @property
    def active(self) -> bool:
        """True unless the person has left."""
        return self.status is PersonStatus.ACTIVE

    def has(self, role: Role) -> bool:
        """True when the person holds ``role``."""
        return role in self.roles


def validate_login(login: str) -> str:
    """Return ``login`` if it is a usable login name, else raise ValidationError."""
    if not _LOGIN.match(login):
        raise ValidationError(
            f"invalid login {login!r}",
            hint="use the operating-system login: letters, digits, '_', '.', '@' or '-', "
            "at most 64 characters",
        )
    return login


def validate_name(name: str) -> str:
    """Return the stripped ``name`` if it is not empty, else raise ValidationError."""
    stripped = name.strip()
    if not stripped:
        raise ValidationError(
            "a person needs a name", hint="give the full name, e.g. 'Ada Lovelace'"
        )
    return stripped
