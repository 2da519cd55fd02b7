"""Differencing across outputs: a later output must not reveal a cell hidden in an earlier one.

ACRO's differencing check is a placeholder (``PresenceOfLinkedTableCheck`` always
passes and asks for a manual review; its issue #117). Here every count or sum output
of a session is kept, per *source* (the rows it was computed from and its measure),
as an ``sdc`` :class:`OutputTable`: shown safe cells are published, hidden cells keep
their value and required protection. A new output is checked with
``sdc.differencing.check_differencing`` against every earlier one of the same source
from each provider: the session itself and the release register
(:class:`PublishedOutputs`, for a session over a whole dataset).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import pandas as pd

from fivesafes.sdc import DifferencingResult, OutputTable, check_differencing


@dataclass(frozen=True)
class SourceKey:
    """What an output's cells are sums of: a set of rows (of a dataset) and a measure."""

    population: str
    measure: str  # "count" or "sum:<values column>"


class EarlierOutputs(Protocol):
    """Anything that knows earlier outputs of a source (the session, the release register)."""

    def earlier(self, source: SourceKey) -> Sequence[OutputTable]:
        """The outputs of ``source`` published (or to be published) before."""
        ...  # pragma: no cover - a protocol


class SessionOutputs:
    """The session's own outputs, per source, in the order they were made."""

    def __init__(self) -> None:
        self._tables: dict[str, list[tuple[SourceKey, OutputTable]]] = {}

    def add(self, uid: str, source: SourceKey, table: OutputTable) -> None:
        """Keep ``table`` (an output's cells of one source) under the output's ``uid``."""
        self._tables.setdefault(uid, []).append((source, table))

    def remove(self, uid: str) -> None:
        """Forget an output (``remove_output``): it will not be released."""
        self._tables.pop(uid, None)

    def rename(self, old: str, new: str) -> None:
        """Follow ``rename_output``: the tables are labelled by the output's name."""
        if old in self._tables:
            self._tables[new] = [(s, replace(t, label=new)) for s, t in self._tables.pop(old)]

    def earlier(self, source: SourceKey) -> Sequence[OutputTable]:
        """Every kept table of ``source``."""
        return [t for tables in self._tables.values() for s, t in tables if s == source]


class PublishedOutputs:
    """Releases of a dataset from the register, for a session over that whole dataset.

    The register keys a release by its source ``DATASET:MEASURE`` (the measure: a column,
    or ``count``); a session output's source is its rows and measure. Only an output over
    every row of ``dataset`` (the rows as read, ``rows`` of them, unfiltered) is the same
    source; an output over some of the rows is another population, which the register's
    tables do not describe (never compared, rather than compared wrongly)."""

    def __init__(
        self, dataset: str, rows: int, releases: Mapping[str, Sequence[OutputTable]]
    ) -> None:
        self.dataset = dataset
        self.whole = population_key(pd.RangeIndex(rows), dataset)
        self.releases = {k: list(v) for k, v in releases.items()}

    def earlier(self, source: SourceKey) -> Sequence[OutputTable]:
        """The releases of ``source``'s dataset and measure, if ``source`` is every row."""
        if source.population != self.whole:
            return []
        measure = "count" if source.measure == "count" else source.measure.split(":", 1)[1]
        return self.releases.get(f"{self.dataset}:{measure}", [])


def check_against(
    new: OutputTable, source: SourceKey, providers: Sequence[EarlierOutputs]
) -> DifferencingResult | None:
    """Check ``new`` against every earlier output of ``source``; None when there is none."""
    earlier = [t for p in providers for t in p.earlier(source)]
    if not earlier:
        return None
    return check_differencing(new, earlier)


def population_key(index: pd.Index, dataset: str | None) -> str:
    """A fingerprint of the rows an output was computed from (and the session's dataset)."""
    if isinstance(index, pd.RangeIndex):
        rows = f"range:{index.start}:{index.stop}:{index.step}"
    else:
        # order-free and one pass: the same rows in another order are the same population
        hashed = pd.util.hash_pandas_object(index, index=False).to_numpy()
        parts = np.array([hashed.sum(), np.bitwise_xor.reduce(hashed)], dtype=np.uint64)
        digest = hashlib.sha256(parts.tobytes()).hexdigest()[:16]
        rows = f"rows:{len(index)}:{digest}"
    return f"{dataset or ''}|{rows}"
