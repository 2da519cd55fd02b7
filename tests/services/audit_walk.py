"""The audit walk's spy, shared by the governance, release and research walks.

A spy counts the events appended to the audit chain and records the tables of every
row a session flushes (audit records aside), so a walk can say: this function wrote
without auditing, or this reader wrote at all.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from fivesafes.audit import log as audit_log
from fivesafes.store.db import session_factory
from fivesafes.store.models.audit import AuditRecord


class WriteSpy:
    """Audit events appended and register tables written while it listens."""

    def __init__(self) -> None:
        self.appends = 0
        self.written: set[str] = set()

    def flush(self, session: Session, _ctx: Any, _instances: Any) -> None:
        for obj in [*session.new, *session.dirty, *session.deleted]:
            if isinstance(obj, AuditRecord):
                continue
            if obj in session.dirty and not session.is_modified(obj):
                continue
            self.written.add(type(obj).__tablename__)


@contextmanager
def spying(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[WriteSpy]:
    """Spy on ``append_event`` and on every flush of ``session`` inside the block."""
    spy = WriteSpy()
    real = audit_log.append_event

    def counting(sess: Session, ev: Any) -> Any:
        spy.appends += 1
        return real(sess, ev)

    monkeypatch.setattr(audit_log, "append_event", counting)
    event.listen(session, "before_flush", spy.flush)
    try:
        yield spy
        session.flush()
    finally:
        event.remove(session, "before_flush", spy.flush)
        monkeypatch.setattr(audit_log, "append_event", real)


def run_spied(
    engine: Engine, call: Callable[[Session], Any], monkeypatch: pytest.MonkeyPatch
) -> WriteSpy:
    """Run ``call`` in its own committed transaction under a spy."""
    with session_factory(engine).begin() as session, spying(session, monkeypatch) as spy:
        call(session)
    return spy


def public_functions(modules: Sequence[ModuleType]) -> set[str]:
    """``module.function`` of every public function defined in ``modules``."""
    names = set()
    for module in modules:
        short = module.__name__.rsplit(".", 1)[1]
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                names.add(f"{short}.{name}")
    return names
