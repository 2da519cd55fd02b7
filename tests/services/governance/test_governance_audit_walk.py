"""Walk every public function of the governance services: none may write without auditing.

Each function runs in its own transaction with a spy on ``append_event`` and a
listener that sees every row the session flushes. A function that flushes a
register row must have appended an audit event in the same transaction; a
function listed as a writer must actually write (so the walk cannot pass by
calling nothing); and every public function must be listed here.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext, suppress
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from audit_walk import WriteSpy, qualified, run_spied
from governance_register import EXTRA_COURSE, MANDATORY, TODAY, Register
from sqlalchemy.orm import Session

from fivesafes.errors import ConflictError
from fivesafes.governance.areas import Dataset
from fivesafes.governance.roles import Role
from fivesafes.services import audit_evidence, backup, context, restore, setup
from fivesafes.services import audit_log as audit_reading
from fivesafes.services.audit_log import LogQuery
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance import (
    access,
    areas,
    datasets,
    declarations,
    grants,
    lookup,
    people,
    qualification,
    training,
)
from fivesafes.store.models.governance import PersonRow

MODULES: tuple[ModuleType, ...] = (
    access,
    areas,
    audit_evidence,
    audit_reading,
    backup,
    context,
    datasets,
    declarations,
    grants,
    lookup,
    people,
    qualification,
    restore,
    setup,
    training,
)

Call = Callable[[Session, Register], Any]


def _as(login: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Call:
    return lambda s, r: fn(s, resolve_actor(s, login), *args, **kw)


def _plain(fn: Callable[..., Any], *args: Any, **kw: Any) -> Call:
    return lambda s, r: fn(s, *args, **kw)


def _requested_grant(r: Register) -> int:
    return r.act("ada", grants.request_grant, "ada", "earnings", "why", today=TODAY).id


def _owner_signed(r: Register) -> None:
    """iris decides grants: she signs the declaration in force (the walk publishes a v2)."""
    version = r.read(declarations.current_version_number)
    with suppress(ConflictError):
        r.act("iris", declarations.sign_declaration, version)


def _grant_to_approve(r: Register) -> int:
    _owner_signed(r)
    return _requested_grant(r)


def _approved_grant(r: Register) -> int:
    return r.act("iris", grants.approve_grant, _grant_to_approve(r), None, TODAY).id


def _on_grant(
    prepare: Callable[[Register], int], login: str, fn: Callable[..., Any], *a: Any
) -> Call:
    """A call on a grant made beforehand, in its own committed transaction."""

    def call(s: Session, gid: int) -> Any:
        return fn(s, resolve_actor(s, login), gid, *a)

    return _Prepared(prepare, call)  # type: ignore[return-value]


class _Prepared:
    def __init__(self, prepare: Callable[[Register], Any], call: Callable[[Session, Any], Any]):
        self.prepare, self.call = prepare, call


# name -> how to call it. Writers must write and audit; readers must not write.
WRITERS: dict[str, Call] = {
    # Records the people checks it passed (people.qualify); a refusal is recorded after the
    # rollback (tests/services/governance/test_qualified_reviewers.py). First: ada is ready
    # until the new declaration below.
    "qualification.require_qualified": _as(
        "ada", qualification.require_qualified, "earnings", "review an output"
    ),
    "people.register_person": _as("root", people.register_person, "zed", "Zed", [Role.FOI_OFFICER]),
    "people.change_roles": _as("root", people.change_roles, "ada", [Role.OUTPUT_CHECKER]),
    "people.mark_leaver": _as("root", people.mark_leaver, "bob", "left"),
    "training.add_course": _as("root", training.add_course, "New course"),
    "training.record_completion": _as(
        "root", training.record_completion, "ada", MANDATORY, TODAY, None, TODAY
    ),
    "declarations.publish_declaration": _as("root", declarations.publish_declaration, "v2"),
    # zed and version 2 come from the entries above.
    "declarations.sign_declaration": _as("zed", declarations.sign_declaration, 2),
    "areas.create_area": _as("root", areas.create_area, "pay", "iris", [EXTRA_COURSE]),
    "areas.require_course": _as("root", areas.require_course, "earnings", MANDATORY),
    "areas.set_threshold_policy": _as("root", areas.set_threshold_policy, "earnings", True),
    "areas.set_max_rows": _as("root", areas.set_max_rows, "earnings", 20),
    "datasets.register_dataset": _as(
        "iris",
        datasets.register_dataset,
        Dataset("ons", "earnings", True, True, True, "s", "b"),
        TODAY,
    ),
    "grants.request_grant": _as("ada", grants.request_grant, "ada", "earnings", "why", today=TODAY),
    "grants.approve_grant": _on_grant(_grant_to_approve, "iris", grants.approve_grant, None, TODAY),
    "grants.reject_grant": _on_grant(_requested_grant, "iris", grants.reject_grant, "no", TODAY),
    "grants.revoke_grant": _on_grant(_approved_grant, "root", grants.revoke_grant, "done", TODAY),
    "grants.expire_grants": _Prepared(  # type: ignore[dict-item]
        _requested_grant, lambda s, _gid: grants.expire_grants(s, TODAY + timedelta(days=400))
    ),
    "access.check_access": _as("root", access.check_access, "ada", "ashe", "statistical"),
    "context.record": _plain(context.record, "root", "test.event"),
    # A read of the log records its decision (and writes nothing else).
    "audit_log.decide_log_read": _as("ada", audit_reading.decide_log_read, LogQuery()),
    "audit_log.read_log": lambda s, r: audit_reading.read_log(
        lambda: nullcontext(s), lambda: nullcontext(s), resolve_actor(s, "root"), LogQuery()
    ),
}

READERS: dict[str, Call] = {
    "people.list_people": _plain(people.list_people),
    "people.get_person": _plain(people.get_person, "ada"),
    "people.summarise_person": _plain(people.summarise_person, "ada", TODAY),
    "training.list_courses": _plain(training.list_courses),
    "training.training_of": _plain(training.training_of, "ada", TODAY),
    "declarations.current_declaration": _plain(declarations.current_declaration),
    "declarations.current_version_number": _plain(declarations.current_version_number),
    "declarations.signed_versions": lambda s, r: declarations.signed_versions(
        s, resolve_actor(s, "ada").id
    ),
    "areas.list_areas": _plain(areas.list_areas),
    "areas.get_area": _plain(areas.get_area, "earnings"),
    "datasets.list_datasets": _plain(datasets.list_datasets),
    "datasets.get_dataset": _plain(datasets.get_dataset, "ashe"),
    "grants.list_grants": _plain(grants.list_grants),
    "grants.get_grant": _Prepared(  # type: ignore[dict-item]
        _requested_grant, lambda s, gid: grants.get_grant(s, gid, TODAY)
    ),
    "access.gather_facts": _plain(access.gather_facts, "ada", "ashe", "statistical", TODAY),
    "access.gather_people_facts": _plain(access.gather_people_facts, "ada", "earnings", TODAY),
    "context.resolve_actor": _plain(context.resolve_actor, "ada"),
    # allowed: writes nothing (a refusal is recorded after the rollback, tests/web)
    "audit_evidence.check_may_verify": lambda s, r: audit_evidence.check_may_verify(
        s, resolve_actor(s, "root")
    ),
    "lookup.person_row": _plain(lookup.person_row, "ada"),
    "lookup.course_row": _plain(lookup.course_row, MANDATORY),
    "lookup.area_row": _plain(lookup.area_row, "earnings"),
    "lookup.dataset_row": _plain(lookup.dataset_row, "ashe"),
    "lookup.grant_row": _Prepared(_requested_grant, lookup.grant_row),  # type: ignore[dict-item]
    "lookup.one_by": _plain(
        lookup.one_by,
        PersonRow,
        PersonRow.login,
        "ada",
        missing="no such person",
        hint="register them",
    ),
}

# Pure helpers: they take no session, so they cannot write.
PURE = {
    "context.person_of",
    "context.now",
    "context.today_or",
    "training.course_of",
    "areas.area_of",
    "datasets.dataset_of",
    "grants.grant_of",
    "access.decision_details",
    "audit_evidence.summary",
    "audit_evidence.folder_witness_files",  # reads the witness folders, no session
}

# Exercised end to end elsewhere (they need a whole workspace): init_workspace in
# tests/cli/test_governance_cli.py; verify_log (reads only) and checkpoint (signs the head,
# a row of the log itself) in tests/services/test_audit_log.py; create_backup and
# restore_backup (each audited: workspace.backup in the source, workspace.restore in the
# restored log) in tests/cli/test_backup_restore.py.
ELSEWHERE = {
    # need a whole workspace (its settings, witnesses, checkpoint file): the evidence
    # page's state (reads only) and verify-now (appends its audit.verify event, nothing
    # else) in tests/web/test_web_intervals_evidence.py
    "audit_evidence.evidence_state",
    "audit_evidence.verify_and_record",
    "setup.init_workspace",
    "audit_log.verify_log",
    "audit_log.checkpoint",
    # a server's start: records audit.unsigned_tail and signs it, in
    # tests/server/test_server_crash.py (a real server killed before it signed)
    "audit_log.sign_unsigned_tail",
    "backup.create_backup",
    "restore.restore_backup",
}

# Only on an empty register: test_bootstrap_writes_and_audits_on_an_empty_register.
EMPTY_REGISTER = {"people.bootstrap_administrator"}


# What this walk covers; tests/services/test_audit_walk.py checks that every public
# function of every services module is covered by one wing's walk.
WALKED = qualified(MODULES, set(WRITERS) | set(READERS) | PURE | ELSEWHERE | EMPTY_REGISTER)


def test_the_governance_walk_lists_each_function_once() -> None:
    listed = [*WRITERS, *READERS, *PURE, *ELSEWHERE, *EMPTY_REGISTER]
    assert len(listed) == len(set(listed)) == len(WALKED)


def _run(reg: Register, call: Call | _Prepared, monkeypatch: pytest.MonkeyPatch) -> WriteSpy:
    if not isinstance(call, _Prepared):
        return run_spied(reg.engine, lambda s: call(s, reg), monkeypatch)
    # Preparation (e.g. requesting the grant to approve) commits first, unobserved.
    prepared = call.prepare(reg)
    return run_spied(reg.engine, lambda s: call.call(s, prepared), monkeypatch)


def test_writers_write_and_audit_readers_do_not_write(
    reg: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg.make_ready("ada")
    for name, call in WRITERS.items():
        spy = _run(reg, call, monkeypatch)
        assert spy.appends >= 1, f"{name} did not audit"
        decisions = {"access.check_access", "qualification.require_qualified", "context.record"}
        if name not in decisions and not name.startswith("audit_log."):
            assert spy.written, f"{name} is listed as a writer but wrote nothing"
    for name, call in READERS.items():
        spy = _run(reg, call, monkeypatch)
        assert not spy.written and spy.appends == 0, f"{name} wrote {spy.written}"


def test_bootstrap_writes_and_audits_on_an_empty_register(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _run(Register(engine), _plain(people.bootstrap_administrator, "x", "X"), monkeypatch)
    assert spy.written == {"people", "person_roles"} and spy.appends == 1
