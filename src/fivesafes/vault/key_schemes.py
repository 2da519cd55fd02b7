"""How a stored dataset's record keys were drawn, in the words a report and its regime use.

The regime check (release/regimes.py) treats two tables' keys as the same exactly when
these words are the same, so they name everything the keys depend on and nothing else:

- by unit, scheme v2: the unit column (the namespace) within the area: every dataset of
  the area that names it draws the same key for the same record of the same unit;
- by unit, scheme v1 (datasets stored before v2): the unit column and the family, in
  the words reports sealed then already use, so their regimes still match their own;
- by row: the dataset and the file (its SHA-256): another file has other keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fivesafes.vault.record_keys import SCHEME as ROW_SCHEME
from fivesafes.vault.unit_keys import UNIT_SCHEME, UNIT_SCHEME_V1


def keys_drawn(record_keys: Mapping[str, Any], dataset: str, sha256: str) -> str:
    """The manifest's ``record_keys`` in words; empty when it names no known scheme."""
    scheme = record_keys.get("scheme")
    unit = record_keys.get("unit")
    if scheme == UNIT_SCHEME:
        return f"by unit {unit!r} across the area ({UNIT_SCHEME})"
    if scheme == UNIT_SCHEME_V1:
        return f"by unit {unit!r} in family {record_keys.get('family')!r}"
    if scheme == ROW_SCHEME:
        return f"by row of {dataset!r}, file sha256 {sha256[:16]}"
    return ""
