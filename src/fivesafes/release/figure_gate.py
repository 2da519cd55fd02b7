"""The request gate's differencing check: the area's register prepared once, each figure checked
against it incrementally.

A figure of an answer is checked as a proven output of its source (``verified``): against
that source's releases and every release whose source was only declared, as
``scoped_differencing_check`` does. The register of those outputs is modelled once per
source (``sdc.differencing_figure.PreparedRegister``); a figure then costs what it can
change. When the fast path cannot decide (the register disagrees with itself, the figure
cuts an atom or names what no release has), the full scoped check runs, so the verdict is
always the one a release check would give.

A gate is only valid for the register it was built from: the caller keys it by the
register's state (services/requests/figures.py keeps them in the server's process).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from fivesafes.release.checks import CheckResult
from fivesafes.release.differencing_scope import (
    EarlierRelease,
    one_run_check,
    scoped_differencing_check,
)
from fivesafes.sdc import Hierarchy, OutputTable, PreparedRegister


class FigureGate:
    """An area's published register as the request gate checks figures against it."""

    def __init__(self, earlier: Sequence[EarlierRelease]) -> None:
        self.earlier = tuple(earlier)
        self.hierarchies: tuple[Hierarchy, ...] = tuple(
            h for e in self.earlier for h in e.table.hierarchies
        )
        self._prepared: dict[str, tuple[list[OutputTable], PreparedRegister | None]] = {}
        self._lock = threading.Lock()
        self.fast_checks = 0  # how many figures the prepared register decided (for tests)

    def prepared(self, source: str) -> PreparedRegister | None:
        """The model of ``source``'s register (None: its outputs disagree, or there are none)."""
        return self._register(source)[1]

    def _register(self, source: str) -> tuple[list[OutputTable], PreparedRegister | None]:
        with self._lock:  # one preparation per source, however many figures arrive at once
            if source not in self._prepared:
                # the outputs of the one run scoped_differencing_check makes when they agree
                tables = [e.table for e in self.earlier if e.source == source]
                tables += [e.table for e in self.earlier if e.source != source and not e.verified]
                prepared: PreparedRegister | None = None
                if tables:
                    try:
                        prepared = PreparedRegister(tables)
                    except Exception:  # disagreeing outputs: the full check decides
                        prepared = None
                self._prepared[source] = (tables, prepared)
            return self._prepared[source]

    def check(self, figure: OutputTable, source: str) -> CheckResult:
        """The differencing check of the one-cell ``figure`` of the proven ``source``."""
        tables, prepared = self._register(source)
        if prepared is not None:
            try:
                result = prepared.check_figure(figure)
            except Exception:  # the full check reports what went wrong
                result = None
            if result is not None:
                self.fast_checks += 1
                return one_run_check(source, tables, result)
        return scoped_differencing_check(figure, source, True, self.earlier)
