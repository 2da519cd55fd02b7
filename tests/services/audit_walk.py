"""The audit walk's spy, shared by the wings' walks (governance, release, research, vault).

A spy counts the events appended to the audit chain and records the tables of every
row a session flushes (audit records aside), so a walk can say: this function wrote
without auditing, or this reader wrote at all.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from fivesafes import services
from fivesafes.audit import log as audit_log
from fivesafes.store.db import session_factory
from fivesafes.store.models.audit import AuditCheckpoint, AuditRecord


class WriteSpy:
    """Audit events appended and register tables written while it listens."""

    def __init__(self) -> None:
        self.appends = 0
        self.written: set[str] = set()

    def flush(self, session: Session, _ctx: Any, _instances: Any) -> None:
        for obj in [*session.new, *session.dirty, *session.deleted]:
            if isinstance(obj, AuditRecord | AuditCheckpoint):
                continue  # the log itself (an event, or a signed checkpoint of the chain)
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


def service_functions() -> set[str]:
    """``wing.module.function`` of every public function of every module of services/."""
    names = set()
    for info in pkgutil.walk_packages(services.__path__, "fivesafes.services."):
        module = importlib.import_module(info.name)
        short = module.__name__.removeprefix("fivesafes.services.")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                names.add(f"{short}.{name}")
    return names


@contextmanager
def spied_transactions(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Callable[[], Any], WriteSpy]]:
    """A transaction opener (``tx``) whose every session is spied on, and the spy.

    For services that open their own transactions (the vault's): all their writes and
    audit events, over every transaction they open, land in one spy.
    """
    spy = WriteSpy()
    real = audit_log.append_event

    def counting(sess: Session, ev: Any) -> Any:
        spy.appends += 1
        return real(sess, ev)

    @contextmanager
    def tx() -> Iterator[Session]:
        with session_factory(engine).begin() as session:
            event.listen(session, "before_flush", spy.flush)
            yield session
            session.flush()

    monkeypatch.setattr(audit_log, "append_event", counting)
    try:
        yield tx, spy
    finally:
        monkeypatch.setattr(audit_log, "append_event", real)


def qualified(modules: Sequence[ModuleType], names: Iterable[str]) -> frozenset[str]:
    """``wing.module.function`` (relative to fivesafes.services) of walked functions named
    ``module.function`` (by the module's last name) or just ``function``."""
    out = set()
    for name in names:
        short, _, fn = name.rpartition(".")
        found = [
            m
            for m in modules
            if (not short or m.__name__.rsplit(".", 1)[1] == short)
            and inspect.isfunction(getattr(m, fn, None))
            and getattr(m, fn).__module__ == m.__name__
        ]
        assert len(found) == 1, f"{name} names no single function of the walked modules"
        out.add(f"{found[0].__name__.removeprefix('fivesafes.services.')}.{fn}")
    return frozenset(out)
