"""Versioned confidentiality declarations and the rule for signing them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from fivesafes.errors import ConflictError, ValidationError


def text_hash(text: str) -> str:
    """Return the SHA-256 hex digest of the declaration text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DeclarationVersion:
    """One published version of the declaration text."""

    version: int
    text: str
    text_hash: str


def new_version(current: int | None, text: str) -> DeclarationVersion:
    """Return the version that follows ``current`` with ``text``; empty text is refused."""
    if not text.strip():
        raise ValidationError(
            "the declaration text is empty", hint="publish the full text people must sign"
        )
    return DeclarationVersion((current or 0) + 1, text, text_hash(text))


def check_signable(version: int, current: int | None) -> None:
    """Raise unless ``version`` is the current published version."""
    if current is None:
        raise ConflictError(
            "no declaration has been published yet",
            hint="ask an administrator to publish one: fivesafes declaration publish FILE",
        )
    if version != current:
        raise ConflictError(
            f"declaration version {version} is not the current version ({current})",
            hint=f"read and sign version {current}: fivesafes declaration sign --version {current}",
        )
