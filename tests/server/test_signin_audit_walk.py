"""The sign-in services' audit walk: setting a password and signing in write and audit;
a refused sign-in is audited after its rollback; reading a token writes nothing."""

from __future__ import annotations

import pytest
from audit_walk import qualified, run_spied
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fivesafes.errors import AccessDenied, ValidationError
from fivesafes.services import signin, signout
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance.people import bootstrap_administrator
from fivesafes.store.db import session_factory, transaction
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.server import ServerTokenRow

WALKED = qualified(
    [signin, signout],
    [
        "set_password",
        "sign_in",
        "login_of_token",
        "token_hash",
        "sign_out",
        "sign_in_external",
        "refuse_external",
    ],
)
PASSWORD = "a long enough passphrase"


@pytest.fixture
def ada(engine: Engine) -> str:
    with session_factory(engine).begin() as session:
        bootstrap_administrator(session, "ada", "Ada Lovelace")
    return "ada"


def _actions(engine: Engine) -> list[tuple[str, str]]:
    with session_factory(engine)() as session:
        rows = session.execute(select(AuditRecord.action, AuditRecord.outcome)).all()
    return [(str(a), str(o)) for a, o in rows]


def test_setting_a_password_and_signing_in_write_and_audit(
    engine: Engine, ada: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def set_it(session: Session) -> None:
        signin.set_password(session, resolve_actor(session, ada), PASSWORD)

    spy = run_spied(engine, set_it, monkeypatch)
    assert spy.appends == 1 and "server_passwords" in spy.written
    tokens: list[signin.Token] = []
    spy = run_spied(
        engine,
        lambda s: tokens.append(signin.sign_in(s, ada, PASSWORD, signin.Throttle(), via="tcp")),
        monkeypatch,
    )
    assert spy.appends == 1 and "server_tokens" in spy.written
    token = tokens[0].token
    assert signin.token_hash(token) != token and len(signin.token_hash(token)) == 64
    spy = run_spied(engine, lambda s: signin.login_of_token(s, token), monkeypatch)
    assert spy.appends == 0 and not spy.written
    with session_factory(engine)() as session:
        assert signin.login_of_token(session, token) == ada
        assert signin.login_of_token(session, token + "x") is None
        stored = session.scalars(select(ServerTokenRow.token_sha256)).all()
    assert stored == [signin.token_hash(token)]  # the token itself is nowhere
    spy = run_spied(engine, lambda s: signout.sign_out(s, ada, token), monkeypatch)
    assert spy.appends == 1  # audited; a bulk DELETE, so the row is checked below
    with session_factory(engine)() as session:
        assert signin.login_of_token(session, token) is None  # a replayed copy is refused


def test_a_refused_sign_in_is_audited_after_its_rollback(engine: Engine, ada: str) -> None:
    with pytest.raises(AccessDenied), transaction(session_factory(engine)) as session:
        signin.sign_in(session, ada, "no password set yet", signin.Throttle(), via="tcp")
    assert ("server.signin", "denied") in _actions(engine)


def test_a_short_password_is_refused_and_nothing_is_written(engine: Engine, ada: str) -> None:
    with pytest.raises(ValidationError), transaction(session_factory(engine)) as session:
        signin.set_password(session, resolve_actor(session, ada), "short")
    assert ("server.password", "done") not in _actions(engine)


def test_an_external_sign_in_writes_a_token_and_audits_or_refuses(
    engine: Engine, ada: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = signin.ExternalIdentity("https://idp.example", "email", "ada@example.org")
    spy = run_spied(
        engine,
        lambda s: signin.sign_in_external(s, who, {"ada@example.org": ada}),
        monkeypatch,
    )
    assert spy.appends == 1 and "server_tokens" in spy.written
    for logins in ({}, {"ada@example.org": "nobody"}):  # unmapped; mapped to no person
        with pytest.raises(AccessDenied), transaction(session_factory(engine)) as session:
            signin.sign_in_external(session, who, logins)
    with pytest.raises(AccessDenied), transaction(session_factory(engine)):
        raise signin.refuse_external("anonymous", "https://idp.example", "bad signature")
    assert _actions(engine).count(("server.signin", "denied")) == 3


def test_signing_in_again_revokes_the_token_it_replaces_in_the_same_transaction(
    engine: Engine, ada: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction(session_factory(engine)) as session:
        signin.set_password(session, resolve_actor(session, ada), PASSWORD)
        first = signin.sign_in(session, ada, PASSWORD, signin.Throttle(), via="web").token
    made: list[signin.Token] = []

    def again(s: Session, token: str) -> None:
        replaces = signin.token_hash(token)
        made.append(
            signin.sign_in(s, ada, PASSWORD, signin.Throttle(), via="web", replaces=replaces)
        )

    spy = run_spied(engine, lambda s: again(s, first), monkeypatch)
    assert spy.appends == 2  # the new sign-in and the earlier token's revocation
    with session_factory(engine)() as session:
        assert signin.login_of_token(session, first) is None
        assert signin.login_of_token(session, made[0].token) == ada
    # a token that is no longer live (or never was) has nothing to revoke: one event
    spy = run_spied(engine, lambda s: again(s, first), monkeypatch)
    assert spy.appends == 1
    assert ("server.signout", "done") in _actions(engine)
