"""Membership patterns of a family of datasets: which derived datasets hold each parent unit.

A derived dataset holds a subset of its parent's units (say the small enterprises). Its
tables and the parent's are tables of one population, split by a *membership* variable:
for each unit of the parent, the set of derived datasets that hold it. Only the patterns
that some unit has are kept, so the differencing model knows that the others are empty
(two disjoint bands: no unit is in both, and P - D1 = D2 is then an equation an attacker
can use). Patterns are labels only: no counts and no unit ids leave this module.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import pandas as pd
import pyarrow as pa

from fivesafes.errors import ValidationError
from fivesafes.vault.units import unit_text

Pattern = tuple[str, ...]  # the derived datasets holding a unit, sorted; () for none


def _ids(units: pa.Array | pa.ChunkedArray) -> pd.Series:
    """Unit ids as strings (an id read as 7 in one file and "7" in another is one unit)."""
    return pd.Series(unit_text(units, "unit").to_pandas(), dtype="object").dropna()


def membership_patterns(
    parent: str,
    parent_units: pa.Array | pa.ChunkedArray,
    derived: Mapping[str, pa.Array | pa.ChunkedArray],
) -> list[Pattern]:
    """The patterns that hold units, sorted; raises when a derived dataset holds a unit
    that is not in the parent (it is not a subset of the parent's units)."""
    every = pd.Index(_ids(parent_units).unique())
    held = pd.DataFrame(index=range(len(every)))
    for name, units in sorted(derived.items()):
        ids = pd.Index(_ids(units).unique())
        outside = ids.difference(every)
        if len(outside):
            raise ValidationError(
                f"{len(outside)} unit(s) of dataset {name!r} are not in its parent {parent!r}",
                hint="a derived dataset holds a subset of its parent's units: check the unit "
                "column and that the parent's data are complete",
            )
        held[name] = every.isin(ids)
    # one row per distinct pattern (a parent unit's membership of each derived dataset)
    names = list(held.columns)
    rows = held.drop_duplicates().itertuples(index=False) if names else [()] * bool(len(every))
    patterns = {tuple(n for n, inside in zip(names, row, strict=True) if inside) for row in rows}
    return sorted(patterns, key=lambda p: (len(p), p))


def members_kept(parent: str, previous: Sequence[Pattern], derived: Collection[str]) -> None:
    """Raise when a derived dataset that the family's current patterns place is not among
    ``derived``, the members whose units new patterns would be computed from.

    The patterns link a member's releases and stored tables to the family's; computed
    without its units (its data destroyed), they would no longer place it, and those
    would drop out of every later check of the family."""
    lost = sorted({name for pattern in previous for name in pattern} - set(derived))
    if lost:
        names = ", ".join(repr(n) for n in lost)
        raise ValidationError(
            f"dataset(s) {names} of the family of {parent!r} are not stored: the family's "
            "membership patterns place their units, and through them their releases and "
            "tables are checked with the family's; patterns computed without them would "
            "leave those unchecked",
            hint=f"ingest {names} again (the same units) before another member of the "
            f"family of {parent!r}, or leave the family as it is",
        )
