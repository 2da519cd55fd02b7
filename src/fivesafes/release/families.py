"""Releases of a family of datasets (a parent and the datasets derived from it), checked together.

A derived dataset holds a subset of its parent's units, so a table of it and the same
table of the parent are tables of one population: subtracted, they give the table of
the other units, which can reveal a cell either hides. The differencing check sees
this through one more dimension per family, its *membership*: each unit of the parent
falls in one pattern (the derived datasets that hold it), and only the patterns that
hold units exist (so two disjoint bands are known to be disjoint: P - D1 = D2). A
derived dataset's tables keep the patterns that contain it; the parent's sit at the
total. This is ``sdc.population`` (a filter as a dimension), with the patterns as the
filter column's values, not a model of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fivesafes.release.differencing_scope import EarlierRelease
from fivesafes.sdc import OutputTable, Population, restrict

NONE = "(none)"  # the pattern of the parent's units in no derived dataset


@dataclass(frozen=True)
class Family:
    """A parent, its derived datasets and the membership patterns that hold units."""

    parent: str
    derived: tuple[str, ...]
    patterns: tuple[tuple[str, ...], ...]

    @property
    def column(self) -> str:
        """The membership dimension's name."""
        return f"membership of {self.parent}"

    def population(self, dataset: str) -> Population | None:
        """The patterns ``dataset`` covers among all that exist; None if it holds no unit."""
        domain = [label(p) for p in self.patterns]
        if dataset == self.parent:
            kept = domain
        else:
            kept = [label(p) for p in self.patterns if dataset in p]
        if not kept:
            return None  # no unit: every cell is zero, nothing to link
        return Population.of({self.column: kept}, {self.column: domain})


def label(pattern: Sequence[str]) -> str:
    """A pattern's code: the derived datasets holding its units, ``+``-joined."""
    return "+".join(pattern) if pattern else NONE


def _dataset(source: str) -> tuple[str, str]:
    dataset, _, measure = source.partition(":")
    return dataset, measure


def membership(source: str, families: Sequence[Family]) -> tuple[Family, Population] | None:
    """The family of ``source``'s dataset and the patterns its units cover (its population
    in the membership dimension); None when the dataset is in no family with known
    patterns, or holds no unit (every cell zero: nothing to link)."""
    dataset, _ = _dataset(source)
    family = next((f for f in families if dataset in (f.parent, *f.derived)), None)
    own = family.population(dataset) if family is not None else None
    return (family, own) if family is not None and own is not None else None


def family_releases(
    source: str, earlier: Sequence[EarlierRelease], families: Sequence[Family]
) -> list[EarlierRelease]:
    """``earlier`` as the check of an output of ``source`` sees them: the releases of the
    same measure of the parent and of every derived dataset of its family become releases
    of ``source``, each with its membership. Others are left as they are."""
    linked = membership(source, families)
    if linked is None:
        return list(earlier)
    family, _ = linked
    _, measure = _dataset(source)
    members = {family.parent, *family.derived}
    out = []
    for e in earlier:
        d, m = _dataset(e.source)
        population = family.population(d) if d in members else None
        if m == measure and population is not None:
            out.append(EarlierRelease(restrict(e.table, population), source, e.verified))
        else:
            out.append(e)
    return out


def link_families(
    new: OutputTable, source: str, earlier: Sequence[EarlierRelease], families: Sequence[Family]
) -> tuple[OutputTable, list[EarlierRelease]]:
    """``new`` and ``earlier`` as the check must see them when ``source`` is of a family:
    ``new`` with its membership (:func:`membership`), ``earlier`` by
    :func:`family_releases`. ``table protect --dataset`` protects a table with the same
    two (services/vault/tables.py), so that it passes this check by construction."""
    linked = membership(source, families)
    if linked is None:
        return new, list(earlier)
    return restrict(new, linked[1]), family_releases(source, earlier, families)


def family_sources(earlier: Sequence[EarlierRelease], families: Sequence[Family]) -> list[str]:
    """Every member of the family of a released source, with that source's measure: the
    sources a declared output may come from although they have no release of their own
    (a band's table declared as another dataset's must still meet its parent's releases
    as that band's)."""
    out: set[str] = set()
    for e in earlier:
        dataset, measure = _dataset(e.source)
        for f in families:
            if dataset in (f.parent, *f.derived):
                out.update(f"{d}:{measure}" for d in (f.parent, *f.derived))
    return sorted(out)
