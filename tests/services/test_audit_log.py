"""Who may read the audit log: auditors and administrators; every decision is itself audited."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from governance_register import Register
from sqlalchemy import text
from sqlalchemy.orm import Session

from fivesafes.audit.checkpoint_file import read_checkpoint_file
from fivesafes.audit.events import Outcome
from fivesafes.audit.log import chain_head
from fivesafes.errors import AccessDenied
from fivesafes.governance.roles import Role
from fivesafes.services.audit_log import READ_ACTION, LogQuery, checkpoint, read_log, verify_log
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance import people
from fivesafes.store.db import session_factory
from fivesafes.workspace import Workspace


def _read(reg: Register, login: str, query: LogQuery) -> list[dict[str, object]]:
    @contextmanager
    def tx() -> Iterator[Session]:
        with session_factory(reg.engine).begin() as session:
            yield session

    with session_factory(reg.engine)() as session:
        actor = resolve_actor(session, login)
    return read_log(tx, lambda: session_factory(reg.engine)(), actor, query)


def test_an_administrator_reads_events_and_the_read_is_audited(reg: Register) -> None:
    before = reg.audit_count()
    events = _read(reg, "root", LogQuery(person="ada"))
    assert events and all("ada" in (e["actor"], e["subject"]) for e in events)
    assert reg.audit_count() == before + 1
    last = reg.last_event()
    assert (last.action, last.actor, last.outcome) == (READ_ACTION, "root", Outcome.ALLOWED)
    assert last.subject == "ada"


def test_an_auditor_may_read_the_log(reg: Register) -> None:
    reg.act("root", people.change_roles, "bob", [Role.AUDITOR])
    events = _read(reg, "bob", LogQuery(action="person.*", limit=3))
    assert len(events) == 3 and all(str(e["action"]).startswith("person.") for e in events)


@pytest.mark.parametrize("login", ["ada", "iris"])  # an analyst, an information asset owner
def test_anyone_else_is_refused_and_the_refusal_is_audited_with_its_reason(
    reg: Register, login: str
) -> None:
    before = reg.audit_count()
    with pytest.raises(AccessDenied, match="may not read the audit log") as err:
        _read(reg, login, LogQuery(area="earnings"))
    assert "auditor" in (err.value.hint or "")
    # the denial was committed although the call raised
    assert reg.audit_count() == before + 1
    last = reg.last_event()
    assert (last.action, last.actor, last.outcome) == (READ_ACTION, login, Outcome.DENIED)
    details = last.to_dict()["details"]
    assert details["filters"] == {"area": "earnings", "limit": 100}
    assert "auditor" in details["reasons"][0]


def test_losing_the_auditor_role_ends_reading(reg: Register) -> None:
    reg.act("root", people.change_roles, "bob", [Role.AUDITOR])
    assert _read(reg, "bob", LogQuery(limit=1))
    reg.act("root", people.change_roles, "bob", remove=[Role.AUDITOR])
    with pytest.raises(AccessDenied):
        _read(reg, "bob", LogQuery(limit=1))


def test_verify_log_reports_an_intact_chain_and_names_the_first_bad_event(
    workspace: Workspace,
) -> None:
    report = verify_log(workspace)
    assert report.ok and report.events >= 1 and report.signatures_checked
    with workspace.transaction() as session:  # SQLite: no append-only trigger to stop this
        session.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"))
    broken = verify_log(workspace)
    assert not broken.ok and broken.first_bad is not None and broken.first_bad.seq == 1


def test_checkpoint_signs_the_head_once_and_writes_no_event(workspace: Workspace) -> None:
    with workspace.transaction() as session:
        size = chain_head(session)[0]
        first = checkpoint(session)
        again = checkpoint(session)
    assert first is not None and first.size == size and again == first
    with workspace.transaction() as session:
        assert chain_head(session)[0] == size  # signing is not itself an event
    assert first.note in read_checkpoint_file(workspace.checkpoint_log_path)[0]  # the file too
    assert verify_log(workspace).checkpoints_verified >= 1
