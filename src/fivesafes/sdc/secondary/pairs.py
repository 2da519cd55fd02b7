"""The insider pairs a repair has proved, kept by demand for set algebra.

A pair ``(p, direction, q)`` says: demand (p, direction) is met even against the single
contributor of cell ``q``. The repair asks, after every attacker LP, which of a demand's
insiders are still open; with dozens of insiders per primary on 3-D tables, loops over
triples were the largest share of the repair's Python (on the 3-D 15,979-cell
benchmark's repairs, 2.5 million triples added and 9 million looked up). Kept as one
set of insiders per demand, each question is one set operation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

Pair = tuple[int, int, int]
_NONE: frozenset[int] = frozenset()


class PairSet:
    """Proved pairs ``(p, direction, q)``, stored as the insiders proved per demand.

    Pairs are only added (hiding more cells only widens an attacker's intervals, so a
    proved pair stays proved on the patterns a repair goes through).
    """

    def __init__(self, pairs: Iterable[Pair] = ()) -> None:
        self._by_demand: dict[tuple[int, int], set[int]] = {}
        self.update(pairs)

    def __contains__(self, pair: Pair) -> bool:
        return pair[2] in self._by_demand.get((pair[0], pair[1]), _NONE)

    def __iter__(self) -> Iterator[Pair]:
        for (p, direction), qs in self._by_demand.items():
            for q in qs:
                yield p, direction, q

    def __len__(self) -> int:
        return sum(len(qs) for qs in self._by_demand.values())

    def add(self, pair: Pair) -> None:
        self.prove(pair[0], pair[1], (pair[2],))

    def update(self, pairs: Iterable[Pair]) -> None:
        for pair in pairs:
            self.add(pair)

    def prove(self, p: int, direction: int, insiders: Iterable[int]) -> None:
        """Demand (p, direction) is met against each of ``insiders``."""
        self._by_demand.setdefault((p, direction), set()).update(insiders)

    def proved(self, p: int, direction: int) -> set[int]:
        """The insiders the demand is proved against: the set itself, which grows as pairs do."""
        return self._by_demand.setdefault((p, direction), set())

    def prove_unmoved(
        self, p: int, direction: int, pins: Iterable[int], moved: set[int] | frozenset[int]
    ) -> tuple[int, int]:
        """Prove the demand against its open insiders a move meeting it leaves unmoved.

        A move that meets (p, direction) and leaves an insider's cell where it is proves
        the demand against that insider. Returns how many pairs this proved and how many
        of ``pins`` are still open (their cells moved).
        """
        # (asked hundreds of thousands of times per repair, mostly proving nothing: inline)
        done = self._by_demand.get((p, direction), _NONE)
        open_ = set(pins).difference(done)
        proved = open_.difference(moved)
        if proved:
            self.prove(p, direction, proved)
        return len(proved), len(open_) - len(proved)

    def open(self, p: int, direction: int, pins: Iterable[int]) -> set[int]:
        """The insiders of ``pins`` the demand is not proved against yet."""
        return set(pins) - self._by_demand.get((p, direction), _NONE)

    def all_proved(self, p: int, direction: int, pins: list[int]) -> bool:
        """Whether the demand is proved against every insider of ``pins``."""
        return not pins or self._by_demand.get((p, direction), _NONE).issuperset(pins)
