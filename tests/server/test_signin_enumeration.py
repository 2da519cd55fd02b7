"""Sign-in as an attacker probing for logins: every refusal costs one password check
(an unknown login answers no faster than a wrong password), and the in-memory failure
counter stays bounded however many made-up logins are tried."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from fivesafes.errors import AccessDenied
from fivesafes.services import signin
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance.people import bootstrap_administrator, register_person
from fivesafes.store.db import session_factory, transaction

PASSWORD = "a long enough passphrase"


@pytest.fixture
def ada(engine: Engine) -> str:
    with session_factory(engine).begin() as session:
        bootstrap_administrator(session, "ada", "Ada Lovelace")
        signin.set_password(session, resolve_actor(session, "ada"), PASSWORD)
        register_person(session, resolve_actor(session, "ada"), "bob", "Bob, no password", [])
    return "ada"


def _checks(engine: Engine, login: str, monkeypatch: pytest.MonkeyPatch) -> int:
    real = signin._HASHER
    calls: list[str] = []

    class Counting:
        def hash(self, password: str) -> str:
            return real.hash(password)

        def verify(self, stored: str, password: str) -> bool:
            calls.append(stored)
            return real.verify(stored, password)

    monkeypatch.setattr(signin, "_HASHER", Counting())
    with pytest.raises(AccessDenied), transaction(session_factory(engine)) as session:
        signin.sign_in(session, login, "not the password", signin.Throttle(), via="tcp")
    return len(calls)


@pytest.mark.parametrize("login", ["ada", "bob", "nobody-by-this-name"])
def test_every_refusal_costs_one_password_check(
    engine: Engine, ada: str, login: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a wrong password, a person without one and an unknown login: the same work
    assert _checks(engine, login, monkeypatch) == 1


def test_the_failure_counter_is_bounded_and_keeps_a_blocked_login() -> None:
    throttle = signin.Throttle(limit=2, window_s=300.0, max_logins=4)
    throttle.failed("ada")
    throttle.failed("ada")
    assert throttle.blocked("ada")
    for i in range(50):
        throttle.failed(f"made-up-{i}")
    assert len(throttle._failures) <= 4
    # made-up logins with one failure each go first: a blocked login stays blocked
    assert throttle.blocked("ada")


def test_a_login_without_failures_takes_no_room() -> None:
    throttle = signin.Throttle(limit=2, window_s=300.0, max_logins=4)
    for i in range(50):
        assert not throttle.blocked(f"signing-in-{i}")
    assert throttle._failures == {}


def test_expired_failures_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(signin.time, "monotonic", lambda: clock[0])
    throttle = signin.Throttle(limit=2, window_s=10.0, max_logins=3)
    for i in range(3):
        throttle.failed(f"old-{i}")
    clock[0] += 11
    throttle.failed("new")
    assert set(throttle._failures) == {"new"}
