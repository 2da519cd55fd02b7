"""Walk every public function of the release services: none may write without auditing.

As tests/services/governance/test_governance_audit_walk.py: each call runs in its own
transaction with a spy on ``append_event`` and a listener on flushed rows.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from audit_walk import WriteSpy, qualified, run_spied
from release_world import AREA, CONTEXT, SOURCE, World, first_release
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from stored_world import Stored, build_stored, spec_text

from fivesafes.outputs import Session as OutputsSession
from fivesafes.release.votes import Vote
from fivesafes.services.context import resolve_actor
from fivesafes.services.release import checks as release_checks
from fivesafes.services.release import inspect as release_inspect
from fivesafes.services.release import locks as release_locks
from fivesafes.services.release import moves as release_moves
from fivesafes.services.release import publish as release_publish
from fivesafes.services.release import reconcile as release_reconcile
from fivesafes.services.release import regimes as release_regimes
from fivesafes.services.release import register as published_register
from fivesafes.services.release import requests as release_requests
from fivesafes.services.release import reviews as release_reviews
from fivesafes.services.release import rule_sets
from fivesafes.services.release import scope as release_scope
from fivesafes.services.release import session_folder as release_session_folder
from fivesafes.services.release import session_register as release_session_register
from fivesafes.services.release import sources as release_sources
from fivesafes.services.release import submission as release_submission
from fivesafes.services.release import submitter as release_submitter
from fivesafes.services.release import views as release_views
from fivesafes.services.release import zeros as release_zeros
from fivesafes.services.vault.read import open_dataset_for
from fivesafes.store.models.release import ReleaseRequestRow

MODULES: tuple[ModuleType, ...] = (
    published_register,
    release_checks,
    release_inspect,
    release_locks,
    release_moves,
    release_publish,
    release_reconcile,
    release_regimes,
    release_requests,
    release_reviews,
    release_scope,
    release_session_folder,
    release_session_register,
    release_sources,
    release_submission,
    release_submitter,
    release_views,
    release_zeros,
    rule_sets,
)

Call = Callable[[Session, World, dict[str, int]], Any]
_STORED: dict[str, Any] = {}  # a stored protected table (vault, AREA/NAME), made per test


def _as(login: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Call:
    def call(s: Session, w: World, ids: dict[str, int]) -> Any:
        real = [ids[a[1:]] if isinstance(a, str) and a.startswith("@") else a for a in args]
        return fn(s, resolve_actor(s, login), *real, **kw)

    return call


def _with_provider(login: str, fn: Callable[..., Any], *args: Any) -> Call:
    def call(s: Session, w: World, ids: dict[str, int]) -> Any:
        real = [ids[a[1:]] if isinstance(a, str) and a.startswith("@") else a for a in args]
        return fn(s, resolve_actor(s, login), w.provider, *real)

    return call


def _request(s: Session, ids: dict[str, int], key: str) -> ReleaseRequestRow:
    return release_moves.request_row(s, ids[key])


WRITERS: dict[str, Call] = {
    "rule_sets.define_rule_set": _as(
        "root", rule_sets.define_rule_set, "strict", {"threshold": 10}
    ),
    "submission.submit_output": lambda s, w, ids: release_submission.submit_output(
        s, resolve_actor(s, "ada"), w.provider, AREA, first_release(), CONTEXT, source=SOURCE
    ),
    "submission.submit_stored_output": lambda s, w, ids: release_submission.submit_stored_output(
        s, resolve_actor(s, "ada"), _STORED["vault"], _STORED["output"], CONTEXT
    ),
    # its own transactions (an audited read of the dataset, then the submission): here
    # all in the spied one
    "session_folder.submit_session_folder": lambda s, w, ids: (
        release_session_folder.submit_session_folder(
            lambda: nullcontext(s), _STORED["vault"], "ada", _STORED["folder"], CONTEXT
        )
    ),
    # an access decision and the register's read event (a read of hidden cells, recorded)
    "session_register.session_register": lambda s, w, ids: (
        release_session_register.session_register(
            lambda: nullcontext(s), _STORED["vault"], "ada", AREA, "walk"
        )
    ),
    "requests.withdraw_request": _as("ada", release_requests.withdraw_request, "@a", "x"),
    "reviews.review_request": _with_provider(
        "olga", release_reviews.review_request, "@b", Vote.APPROVE
    ),
    "reviews.resolve_conflict": _as(
        "olga", release_reviews.resolve_conflict, "@c", Vote.REJECT, "no"
    ),
    "publish.publish_request": lambda s, w, ids: release_publish.publish_request(
        s, resolve_actor(s, "ada"), w.provider, w.releases, ids["d"]
    ),
    "sources.confirm_source": _as("iris", release_sources.confirm_source, "@e", "ok"),
    # opening a request's content writes nothing but its audit event (the web's request page)
    "inspect.inspect_request": _with_provider("olga", release_inspect.inspect_request, "@b"),
    # the same opening with the version's sealed audit intervals (the checker's view)
    "inspect.inspect_with_intervals": _with_provider(
        "olga", release_inspect.inspect_with_intervals, "@b"
    ),
    # the access decision a submission starts with, made alone (the server's admission
    # before it waits for the area's key): its people checks are audited
    "submission.check_may_submit": lambda s, w, ids: release_submission.check_may_submit(
        s, resolve_actor(s, "ada"), AREA, CONTEXT, None
    ),
    # the same with the submitter's scope for the declared source's dataset
    "submission.admit_submission": lambda s, w, ids: release_submission.admit_submission(
        s, resolve_actor(s, "ada"), AREA, CONTEXT, source=SOURCE
    ),
}

READERS: dict[str, Call] = {
    "publish.publication_area": lambda s, w, i: release_publish.publication_area(s, i["d"]),
    "publish.check_may_publish": lambda s, w, i: release_publish.check_may_publish(
        s, resolve_actor(s, "ada"), i["d"]
    ),
    "rule_sets.rule_set_in_force": lambda s, w, i: rule_sets.rule_set_in_force(s, "standard"),
    "rule_sets.list_rule_sets": lambda s, w, i: rule_sets.list_rule_sets(s),
    "views.get_request": lambda s, w, i: release_views.get_request(s, i["a"], "ada"),
    "views.list_requests": lambda s, w, i: release_views.list_requests(s, "ada"),
    "views.awaiting_review": lambda s, w, i: release_views.awaiting_review(s),
    "moves.request_row": lambda s, w, i: release_moves.request_row(s, i["a"]),
    "views.reviews_of": lambda s, w, i: release_views.reviews_of(s, _request(s, i, "c")),
    "views.view_of": lambda s, w, i: release_views.view_of(s, _request(s, i, "c"), "olga"),
    "checks.version_row": lambda s, w, i: release_checks.version_row(s, _request(s, i, "a")),
    "checks.stored_checks": lambda s, w, i: release_checks.stored_checks(s, 1),
    "checks.rule_setting": lambda s, w, i: release_checks.rule_setting(s, _request(s, i, "a")),
    "checks.run_checks": lambda s, w, i: release_checks.run_checks(
        s, w.provider, _request(s, i, "a"), first_release(), None
    ),
    "register.list_published": lambda s, w, i: published_register.list_published(s),
    "register.published_cells": lambda s, w, i: published_register.published_cells(s, SOURCE),
    "register.earlier_outputs": lambda s, w, i: published_register.earlier_outputs(
        s, w.provider, SOURCE
    ),
    "register.earlier_table_releases": (
        lambda s, w, i: published_register.earlier_table_releases(s, SOURCE)
    ),
    "scope.area_releases": lambda s, w, i: release_scope.area_releases(
        s, w.provider, _request(s, i, "a").area_id
    ),
    "scope.area_families": lambda s, w, i: release_scope.area_families(
        s, _request(s, i, "a").area_id
    ),
    "locks.family_root": lambda s, w, i: release_locks.family_root(
        s, _request(s, i, "a").area_id, SOURCE
    ),
    "locks.lock_for_check": lambda s, w, i: release_locks.lock_for_check(
        s, _request(s, i, "a").area_id, SOURCE, verified=False
    ),
    "regimes.earlier_regimes": lambda s, w, i: release_regimes.earlier_regimes(
        s,
        lambda r: release_checks.submission_of(w.provider, r, release_checks.version_row(s, r)),
        _request(s, i, "a").area_id,
        SOURCE,
        False,
        release_scope.area_releases(s, w.provider, _request(s, i, "a").area_id),
        [],
    ),
    # reads the stored dataset's value pairs for the check (in memory), writes nothing
    "zeros.data_zeros": lambda s, w, i: release_zeros.data_zeros(s, _STORED["vault"], AREA, SOURCE),
}

# Writers whose only row is their audit event: a read of confidential content, or an
# access decision, recorded.
AUDITED_READS = {
    "submission.check_may_submit",
    "submission.admit_submission",
    "inspect.inspect_request",
    "inspect.inspect_with_intervals",
    "session_register.session_register",
}

# Parts of an audited write: they add rows only inside the writers above, whose audit
# event covers them (store_checks in submit_output, register_release and record_cells in
# publish_request, check_not_blocked refreshing the rule set in review_request and publish_request;
# move_request, which records its own move event, in withdraw, review and publish).
PARTS = {
    # reconcile audits each step it takes itself (release.reconcile), and writes nothing
    # when nothing was left behind; publish_request runs it first.
    "reconcile.reconcile_releases",
    "checks.store_checks",
    "checks.check_not_blocked",
    "register.record_cells",
    "register.register_release",
    "moves.move_request",
    # the submission's project and datasets used, decided (each audited) in submit_*
    "submitter.check_submitter_scope",
}

# No session: they cannot write.
PURE = {
    "checks.checks_in_force",
    "reconcile.staging_dir",
    "reconcile.hold_publication",
    "reconcile.fsync_dir",
    "sources.source_settled",
    "sources.check_source_settled",
    "checks.version_object_id",
    "checks.submission_of",
    "checks.intervals_of",
    "checks.zeros_unread",
    "zeros.paired_with",
    "register.published_of",
    "register.hidden_object_id",
    "register.seal_hidden",
    "publish.release_id_of",
    "moves.check_author",
    "rule_sets.rule_setting_of",
    # builds the loader only; what it calls (session_register) is walked above
    "session_register.register_loader",
}


# What this walk covers; tests/services/test_audit_walk.py checks that every public
# function of every services module is covered by one wing's walk.
WALKED = qualified(MODULES, set(WRITERS) | set(READERS) | PARTS | PURE)


def test_the_release_walk_lists_each_function_once() -> None:
    listed = [*WRITERS, *READERS, *PARTS, *PURE]
    assert len(listed) == len(set(listed)) == len(WALKED)


def _session_folder(stored: Stored, tmp_path: Path) -> Path:
    """A table folder finalised by a session opened on the area's dataset 'walk'."""
    stored.add_dataset("walk", {a: [3 + i % 5 for i in range(12)] for a in ("a1", "a2", "a4")})
    df = open_dataset_for(stored.tx, stored.vault, "ada", AREA, "walk").to_pandas()
    s = OutputsSession(suppress=True, area=AREA, dataset="walk")
    s.pivot_table(df, values="pay", index="area", aggfunc="sum")
    return s.finalise(str(tmp_path / "session")) / "tables" / "output_0"


def _run(w: World, call: Call, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> WriteSpy:
    return run_spied(w.engine, lambda s: call(s, w, ids), monkeypatch)


def test_release_writers_write_and_audit_readers_do_not_write(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = build_stored(engine, tmp_path)
    w = stored.world
    (made,) = stored.protect(stored.spec("pay", spec_text("pay", None, method="none")))
    _STORED.update(vault=stored.vault, output=f"{AREA}/{made.output.name}")
    _STORED["folder"] = _session_folder(stored, tmp_path)
    ids = {k: w.submit(first_release()) for k in "abcd"}
    ids["e"] = w.submit(first_release(), confirm=False)
    w.vote("olga", ids["c"], Vote.APPROVE)
    w.vote("oscar", ids["c"], Vote.REJECT)
    w.vote("olga", ids["d"], Vote.APPROVE)
    w.vote("oscar", ids["d"], Vote.APPROVE)
    for name, call in WRITERS.items():
        spy = _run(w, call, ids, monkeypatch)
        assert spy.appends >= 1, f"{name} did not audit"
        if name not in AUDITED_READS:
            assert spy.written, f"{name} is listed as a writer but wrote nothing"
    for name, call in READERS.items():
        spy = _run(w, call, ids, monkeypatch)
        assert not spy.written and spy.appends == 0, f"{name} wrote {spy.written}"
