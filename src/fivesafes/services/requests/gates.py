"""The request gate's prepared registers, kept by the process between figures.

Modelling an area's register (a million published cells) costs seconds; checking one
figure against the model costs milliseconds (release/figure_gate.py). The server is
long-running, so it keeps the last few models, each keyed by the workspace, the area and
the register's state (its releases and its last approved answer): any publication changes
the state, and a model of an older register is never used again. A command run on its own
builds the model for its one figure, as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from fivesafes.release.differencing_scope import EarlierRelease
from fivesafes.release.figure_gate import FigureGate

KEEP = 4  # registers kept (each holds its outputs' cells in memory)

_gates: OrderedDict[Hashable, FigureGate] = OrderedDict()
_lock = threading.Lock()


def gate_for(key: Hashable, load: Callable[[], list[EarlierRelease]]) -> FigureGate:
    """The gate of the register ``key`` names, built from ``load()`` when not kept."""
    with _lock:
        gate = _gates.get(key)
        if gate is not None:
            _gates.move_to_end(key)
            return gate
    gate = FigureGate(load())
    with _lock:
        _gates[key] = gate
        while len(_gates) > KEEP:
            _gates.popitem(last=False)
    return gate


def forget_all() -> None:
    """Drop every kept register (tests; a process that wants its memory back)."""
    with _lock:
        _gates.clear()
