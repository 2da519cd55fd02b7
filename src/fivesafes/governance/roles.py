"""Roles a registered person can hold; permissions are decided from these."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from fivesafes.errors import ValidationError


class Role(StrEnum):
    """A role in the register (a person may hold several)."""

    STATISTICIAN = "statistician"  # statistician or analyst
    OUTPUT_CHECKER = "output_checker"
    INFORMATION_ASSET_OWNER = "information_asset_owner"
    HEAD_OF_PROFESSION = "head_of_profession"
    DATA_PROTECTION_OFFICER = "data_protection_officer"
    FOI_OFFICER = "foi_officer"
    ADMINISTRATOR = "administrator"
    APPROVED_RESEARCHER = "approved_researcher"
    AUDITOR = "auditor"  # reads the audit log (internal audit, security, compliance)


# Short forms people type on the command line.
_ALIASES = {
    "analyst": Role.STATISTICIAN,
    "iao": Role.INFORMATION_ASSET_OWNER,
    "asset_owner": Role.INFORMATION_ASSET_OWNER,
    "hop": Role.HEAD_OF_PROFESSION,
    "dpo": Role.DATA_PROTECTION_OFFICER,
    "foi": Role.FOI_OFFICER,
    "admin": Role.ADMINISTRATOR,
    "researcher": Role.APPROVED_RESEARCHER,
}


def parse_role(text: str) -> Role:
    """Return the role named by ``text`` (value or alias, any case, '-' or '_')."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return Role(key)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ValidationError(f"unknown role {text!r}", hint=f"use one of: {known}") from None


def parse_roles(texts: Iterable[str]) -> frozenset[Role]:
    """Return the set of roles named by ``texts``; each may be a comma-separated list."""
    roles: set[Role] = set()
    for text in texts:
        for part in text.split(","):
            if part.strip():
                roles.add(parse_role(part))
    return frozenset(roles)
