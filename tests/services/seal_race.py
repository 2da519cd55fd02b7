"""Helpers of the seal-race tests: work in a thread with a bounded wait, and a function
made to pause where the test wants it (no test may hang: every wait has a timeout)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

WAIT = 30.0  # seconds: far longer than anything here needs
WATCH = 1.5  # how long a thread is watched to see that it waits (it would end well within)


class Running:
    """``fn`` running in a daemon thread; its result or its error handed to the test."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.result = fn()
            except BaseException as exc:  # handed to the test
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def waiting(self, seconds: float = WATCH) -> bool:
        """Whether it is still running after ``seconds``."""
        self.thread.join(seconds)
        return self.thread.is_alive()

    def outcome(self, seconds: float = WAIT) -> Any:
        """Its result (its error raised), once it has ended within ``seconds``."""
        self.thread.join(seconds)
        assert not self.thread.is_alive(), f"still running after {seconds} s"
        if self.error is not None:
            raise self.error
        return self.result


class Paused:
    """``owner.name`` patched to pause until :meth:`go`, after it ran (or before, with
    ``before``): :attr:`reached` tells that a caller got there."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, *, before: bool = False
    ) -> None:
        self.reached, self._go = threading.Event(), threading.Event()
        self.calls = 0
        real = getattr(owner, name)

        def paused(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if before:
                self._pause()
            out = real(*args, **kwargs)
            if not before:
                self._pause()
            return out

        monkeypatch.setattr(owner, name, paused)

    def _pause(self) -> None:
        self.reached.set()
        self._go.wait(WAIT)

    def wait(self) -> None:
        """Until a caller has got there (fails after WAIT)."""
        assert self.reached.wait(WAIT), "nothing got there"

    def go(self) -> None:
        """Let it (and every later caller) go on."""
        self._go.set()
