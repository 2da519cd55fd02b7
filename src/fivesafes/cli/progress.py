"""Progress on stderr for long commands: a rich bar per running stage, a line per finished one.

The library reports through :class:`fivesafes.sdc.Progress`; this is the
CLI's implementation. A stage shows a bar (or a spinner when its size is unknown)
only once it has run for a second, and when it ends after a second or more one line
stays: ``audit: safe, 3,754 LPs (12.3 s)``. Quick stages leave nothing behind.
Nothing goes to stdout, so ``--json`` output stays clean.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from fivesafes.sdc import SILENT
from fivesafes.sdc import Progress as ProgressProtocol

SHOW_AFTER = 1.0  # seconds before a stage's bar appears, and the least worth a line


class StderrProgress:
    """Stage bars and lines on stderr (rich), for stages that take a second or more."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.console = Console(file=stream, stderr=stream is None)
        self.bars = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[detail]}"),
            console=self.console,
            transient=True,
        )
        self._tasks: dict[str, tuple[TaskID, float, threading.Timer]] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> StderrProgress:
        # bars only on a terminal: rich's Progress ends with an empty line on any other
        # stream, one stray line in every log; the lines of finished stages are written alike
        if self.console.is_terminal:
            self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            for _, _, timer in self._tasks.values():
                timer.cancel()
        if self.bars.live.is_started:
            self.bars.stop()

    def start(self, stage: str, total: float | None = None) -> None:
        """A stage begins: its bar appears if it is still running after a second."""
        with self._lock:
            old = self._tasks.pop(stage, None)
            if old is not None:
                old[2].cancel()
                self.bars.remove_task(old[0])
            task = self.bars.add_task(stage, total=total, visible=False, detail="")
            timer = threading.Timer(SHOW_AFTER, self._show, args=(task,))
            timer.daemon = True
            self._tasks[stage] = (task, time.monotonic(), timer)
        timer.start()

    def _show(self, task: TaskID) -> None:
        self.bars.update(task, visible=True)

    def advance(self, stage: str, steps: float = 1.0, detail: str = "") -> None:
        """Move a stage's bar on."""
        entry = self._tasks.get(stage)
        if entry is None:
            return
        if detail:
            self.bars.update(entry[0], advance=steps, detail=detail)
        else:
            self.bars.advance(entry[0], steps)

    def finish(self, stage: str, outcome: str = "") -> None:
        """A stage ends: its bar goes, and a line stays when it took a second or more."""
        with self._lock:
            entry = self._tasks.pop(stage, None)
        if entry is None:
            return
        task, started, timer = entry
        timer.cancel()
        self.bars.remove_task(task)
        seconds = time.monotonic() - started
        if seconds >= SHOW_AFTER:
            text = (
                f"{stage}: {outcome} ({seconds:.1f} s)" if outcome else f"{stage} ({seconds:.1f} s)"
            )
            self.console.print(text, highlight=False, markup=False)


@contextmanager
def progress_on_stderr(quiet: bool) -> Iterator[ProgressProtocol]:
    """The reporter a command passes to the library: silent with ``--quiet``."""
    if quiet:
        yield SILENT
        return
    with StderrProgress() as reporter:
        yield reporter
