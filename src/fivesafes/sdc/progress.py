"""Progress of long work, told to whoever asked: a reporter object passed in, never a global.

The library never writes to a terminal. A caller that wants to show progress (the CLI
shows stage lines and bars on stderr) passes an object with the three methods of
:class:`Progress`; everything else gets :data:`SILENT`. A stage is opened with a name
(and, when known, how many steps it has), advanced as the work goes, and closed with a
one-line outcome, e.g. ``audit``, 3,754 steps, "safe, 3,754 LPs".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Progress(Protocol):
    """What the library tells about its work (all three calls must be cheap)."""

    def start(self, stage: str, total: float | None = None) -> None:
        """A stage begins; ``total``: how many steps it will take, when known."""

    def advance(self, stage: str, steps: float = 1.0, detail: str = "") -> None:
        """``steps`` more steps of ``stage`` are done; ``detail`` says what is being done."""

    def finish(self, stage: str, outcome: str = "") -> None:
        """The stage is over; ``outcome`` says what came of it in a few words."""


class Silent:
    """A reporter that tells nobody (the default everywhere)."""

    def start(self, stage: str, total: float | None = None) -> None:
        """Nothing to show."""

    def advance(self, stage: str, steps: float = 1.0, detail: str = "") -> None:
        """Nothing to show."""

    def finish(self, stage: str, outcome: str = "") -> None:
        """Nothing to show."""


SILENT: Progress = Silent()


class Recorder:
    """A reporter that keeps what it was told (for tests, and for a caller's own log)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, float | None, str]] = []

    def start(self, stage: str, total: float | None = None) -> None:
        """Record the start of a stage."""
        self.events.append(("start", stage, total, ""))

    def advance(self, stage: str, steps: float = 1.0, detail: str = "") -> None:
        """Record progress within a stage."""
        self.events.append(("advance", stage, steps, detail))

    def finish(self, stage: str, outcome: str = "") -> None:
        """Record the end of a stage."""
        self.events.append(("finish", stage, None, outcome))

    def stages(self) -> list[str]:
        """The stages started, in order."""
        return [s for kind, s, _, _ in self.events if kind == "start"]


class Stage:
    """An open stage: advance it, and set :attr:`outcome` for the line that closes it."""

    def __init__(self, progress: Progress, name: str) -> None:
        self.progress = progress
        self.name = name
        self.outcome = ""

    def advance(self, steps: float = 1.0, detail: str = "") -> None:
        """``steps`` more steps are done."""
        self.progress.advance(self.name, steps, detail)


@contextmanager
def stage(progress: Progress | None, name: str, total: float | None = None) -> Iterator[Stage]:
    """Open a stage on ``progress`` (None: silent) and close it however the block ends."""
    reporter = progress or SILENT
    reporter.start(name, total)
    handle = Stage(reporter, name)
    try:
        yield handle
    except BaseException:
        reporter.finish(name, "stopped")
        raise
    reporter.finish(name, handle.outcome)
