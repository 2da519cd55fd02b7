"""Combinations of two columns that hold no unit: zeros the differencing attacker may know.

The differencing model (sdc/differencing.py) splits a source into atoms, one class of
leaves per dimension, and lets every atom take any non-negative value. That is too
kind to the attacker when one column follows from another: regions a1 and a2 lie in
country X and a3 in Y, which is public geography. After a release by region that hides
a3, a table of the units of country X publishes a1 + a2, and a3 is the total minus it;
a model that lets (a3, X) hold units sees no disclosure.

So the data say which pairs of values hold units, for each pair of columns with a
filter column in it (a filter and a dimension of another output, or two filters) and
each pair of dimensions that no one output crosses (a table by country beside a release
by region gives a3 the same way: Y minus the published regions of Y), and the model
holds every atom that such a pair leaves empty at zero. Holding a true zero at zero is
always sound (the true table stays feasible) and only narrows the attacker's intervals:
the check gets stricter, never weaker. Only values seen in the
data count as known: a leaf that no row of the pair carries (a code of the hierarchy
without data, or one seen beside a missing value) stays unconstrained.

The data's pairs are counted before they are read, and a pair of columns with more
distinct pairs than the model may have atoms is refused (tabulate/sources.py). An output
that these zeros contradict (a release of other data, its source only declared) is named
by the model (sdc/differencing.py, OutputsContradictData), not taken for a disclosure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Protocol

import numpy as np
import numpy.typing as npt

Pair = tuple[str, str]  # two column names, sorted
BoolArray = npt.NDArray[np.bool_]
EVERY = "*"  # the total of a filter dimension: every value of the column (sdc/population.py)


class _Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def root(self) -> str: ...


class Output(Protocol):
    """What :func:`outputs_of` reads of an output (sdc/differencing.py's OutputTable)."""

    @property
    def dimensions(self) -> tuple[str, ...]: ...

    @property
    def filters(self) -> tuple[str, ...]: ...

    @property
    def hierarchies(self) -> Sequence[_Named]: ...


@dataclass(frozen=True)
class Occupancy:
    """For some pairs of columns, the value pairs that hold at least one unit."""

    # None: a row with this value had no value in the other column (its partner unknown)
    occupied: Mapping[Pair, frozenset[tuple[str | None, str | None]]] = field(default_factory=dict)

    @classmethod
    def of(cls, found: Mapping[Pair, Iterable[tuple[object, object]]]) -> Occupancy:
        """From each pair's distinct (value, value) rows, the columns in any order; a
        missing value (None) leaves the other one's combinations unknown."""
        out: dict[Pair, frozenset[tuple[str | None, str | None]]] = {}
        for (a, b), rows in found.items():
            values = {(_text(x), _text(y)) for x, y in rows}
            if a > b:
                a, b = b, a
                values = {(y, x) for x, y in values}
            out[(a, b)] = out.get((a, b), frozenset()) | frozenset(values)
        return cls(out)

    def empty_atoms(
        self,
        dims: Sequence[str],
        classes: Mapping[str, Mapping[str, int]],
        shape: tuple[int, ...],
    ) -> BoolArray:
        """Per atom (C order over ``shape``), True when some pair of its classes holds no unit.

        ``classes[d]`` maps each leaf of dimension ``d`` to its class (the atom axis).
        A class pair is empty when every leaf of both classes was seen in the data of
        that pair and no two of them were seen together.
        """
        empty = np.zeros(shape, dtype=bool)
        for (a, b), together in self.occupied.items():
            if a not in dims or b not in dims:
                continue
            ka, kb = dims.index(a), dims.index(b)
            blank = _empty_classes(classes[a], classes[b], together, shape[ka], shape[kb])
            if not blank.any():
                continue
            view = [1] * len(shape)
            view[ka], view[kb] = shape[ka], shape[kb]
            empty |= (blank if ka < kb else blank.T).reshape(view)
        return empty.ravel()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _empty_classes(
    class_a: Mapping[str, int],
    class_b: Mapping[str, int],
    together: frozenset[tuple[str | None, str | None]],
    n_a: int,
    n_b: int,
) -> BoolArray:
    # a value seen beside a missing one may be with any value of the other column
    seen_a = {x for x, y in together if y is not None} - {x for x, y in together if y is None}
    seen_b = {y for x, y in together if x is not None} - {y for x, y in together if x is None}
    unknown_a = np.zeros(n_a, dtype=bool)
    unknown_b = np.zeros(n_b, dtype=bool)
    for leaf, c in class_a.items():
        unknown_a[c] |= leaf not in seen_a
    for leaf, c in class_b.items():
        unknown_b[c] |= leaf not in seen_b
    held = np.zeros((n_a, n_b), dtype=bool)
    for x, y in together:
        if x is None or y is None:
            continue
        ca, cb = class_a.get(x), class_b.get(y)
        if ca is not None and cb is not None:
            held[ca, cb] = True
    return ~held & ~unknown_a[:, None] & ~unknown_b[None, :]


def filter_pairs(tables: Iterable[tuple[Sequence[str], Sequence[str]]]) -> list[Pair]:
    """The pairs of columns to ask the data about, given each output's (dimensions, filter
    columns): every pair with a filter column in it, and every pair of dimensions that no
    one output crosses (a table by country beside a release by region: country Y minus
    the published regions of Y gives a hidden one). Pairs of two dimensions of one output
    are left out: it publishes their combinations. A column the data lack is left out
    when the data are read (:func:`fivesafes.sdc.tabulate.data_occupancy`)."""
    outputs = [(tuple(d), tuple(f)) for d, f in tables]
    every = {c for d, f in outputs for c in (*d, *f)}
    filters = {c for _, f in outputs for c in f}
    crossed = {pair for d, _ in outputs for pair in combinations(sorted(set(d)), 2)}
    return [
        (a, b)
        for a, b in combinations(sorted(every), 2)
        if a in filters or b in filters or (a, b) not in crossed
    ]


def outputs_of(tables: Iterable[Output]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each output's (dimensions, filter columns), for :func:`filter_pairs`. An output read
    back from the register keeps its filter as a dimension whose total is EVERY and records
    no filters: a dimension of that total counts as a filter (stricter, never weaker)."""
    out = []
    for t in tables:
        filters = {*t.filters, *(h.name for h in t.hierarchies if h.root == EVERY)}
        out.append((tuple(d for d in t.dimensions if d not in filters), tuple(sorted(filters))))
    return out


def pairs_for(new: Output, earlier: Iterable[Output]) -> list[Pair]:
    """The column pairs whose combinations the differencing check of ``new`` with
    ``earlier`` should hold at zero where the data leave them empty."""
    return filter_pairs(outputs_of([new, *earlier]))
