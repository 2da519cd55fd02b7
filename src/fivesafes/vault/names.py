"""Names of areas, datasets and outputs: safe as directory names, stable in the register."""

from __future__ import annotations

import re

from fivesafes.errors import ValidationError

# \Z, not $: $ also matches before a final newline, which would let "name\n" through.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")


def check_name(kind: str, name: str) -> str:
    """Return ``name`` if it is a valid area/dataset name, else raise ValidationError."""
    # Names become directory names: refuse separators, '..', hidden files and odd characters.
    if not NAME_PATTERN.match(name) or ".." in name:
        raise ValidationError(
            f"{kind} name {name!r} is not allowed",
            hint="use 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit",
        )
    return name
