"""Walk every public function of the research and review services: none writes unaudited.

Each function runs after its preparation, with a spy on ``append_event`` and a
listener on every flush. A writer must flush rows and append at least one audit
event in the same transaction; a reader must flush nothing; and every public
function must be listed here, so a new one cannot slip past the walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from audit_walk import qualified, spying
from research_world import (  # noqa: F401
    TODAY,
    World,
    actor,
    build,
    research_engine_fixture,
    rolled_back_session,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fivesafes.governance.research import (
    AccreditationLevel,
)
from fivesafes.governance.research_changes import (
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
)
from fivesafes.governance.research_projects import (
    ProjectAction,
    ProjectProposal,
)
from fivesafes.services.governance import review
from fivesafes.services.research import facts as research
from fivesafes.services.research import project_views as research_project_views
from fivesafes.services.research import projects as research_projects
from fivesafes.services.research import researchers

MODULES: tuple[ModuleType, ...] = (
    research,
    researchers,
    research_project_views,
    research_projects,
    review,
)
Prepare = Callable[[Session, World, Path], Callable[[], Any]]


def _accredited(s: Session) -> None:
    researchers.accredit(
        s,
        actor(s, "admin"),
        "rita",
        body="UKSA",
        reference="A-1",
        level=AccreditationLevel.PROVISIONAL,
        supervisor="sam",
        today=TODAY,
    )


def _proposed(s: Session) -> None:
    _accredited(s)
    research_projects.propose_project(
        s,
        actor(s, "rita"),
        ProjectProposal(
            "P-1", "t", "p", "statistical", "b", ("ashe",), TODAY, TODAY + timedelta(days=9), "rita"
        ),
        today=TODAY,
    )


def _approved(s: Session) -> None:
    _proposed(s)
    research_projects.decide_project(s, actor(s, "hana"), "P-1", ProjectAction.APPROVE, today=TODAY)


def _requested(s: Session) -> int:
    _approved(s)
    change = ChangeRequest(ChangeKind.EXTEND, "later", new_end=TODAY + timedelta(days=99))
    return research_projects.request_change(s, actor(s, "rita"), "P-1", change, today=TODAY).id


WRITERS: dict[str, Prepare] = {
    "accredit": lambda s, w, p: lambda: _accredited(s),
    "change_supervisor": lambda s, w, p: (
        _accredited(s),
        lambda: researchers.change_supervisor(s, actor(s, "admin"), "rita", "hana", today=TODAY),
    )[1],
    "propose_project": lambda s, w, p: (_accredited(s), lambda: _proposed_only(s))[1],
    "decide_project": lambda s, w, p: (
        _proposed(s),
        lambda: research_projects.decide_project(
            s, actor(s, "hana"), "P-1", ProjectAction.REJECT, today=TODAY
        ),
    )[1],
    "request_change": lambda s, w, p: (
        _approved(s),
        lambda: research_projects.request_change(
            s, actor(s, "rita"), "P-1", ChangeRequest(ChangeKind.CLOSE, "done"), today=TODAY
        ),
    )[1],
    "decide_change": lambda s, w, p: (
        lambda cid: (
            lambda: research_projects.decide_change(
                s, actor(s, "hana"), cid, ChangeStatus.APPROVED, today=TODAY
            )
        )
    )(_requested(s)),
    "close_project": lambda s, w, p: (
        _approved(s),
        lambda: research_projects.close_project(s, actor(s, "hana"), "P-1", "done", today=TODAY),
    )[1],
    "carry_out_review": lambda s, w, p: (
        lambda: review.carry_out_review(s, actor(s, "admin"), p, today=TODAY)
    ),
    "review_report": lambda s, w, p: (
        lambda: review.review_report(s, actor(s, "admin"), "label", today=TODAY)
    ),
}


def _proposed_only(s: Session) -> None:
    research_projects.propose_project(
        s,
        actor(s, "rita"),
        ProjectProposal(
            "P-2", "t", "p", "statistical", "b", ("ashe",), TODAY, TODAY + timedelta(days=9), "rita"
        ),
        today=TODAY,
    )


def _p1(s: Session) -> Any:
    return research_project_views.project_row(s, "P-1")


def _with_project(call: Callable[[Session], Any]) -> Prepare:
    return lambda s, w, p: (_approved(s), lambda: call(s))[1]


READERS: dict[str, Prepare] = {
    "roles_of": lambda s, w, p: lambda: research.roles_of(w.rita),
    "current_accreditation": lambda s, w, p: (
        lambda: research.current_accreditation(s, w.rita.id, TODAY)
    ),
    "accreditation_of": lambda s, w, p: (
        _accredited(s),
        lambda: research.accreditation_of(research.current_accreditation(s, w.rita.id, TODAY)),
    )[1],
    "supervisor_facts": lambda s, w, p: lambda: research.supervisor_facts(s, w.sam, TODAY),
    "accreditation_valid": lambda s, w, p: lambda: research.accreditation_valid(s, w.rita, TODAY),
    "training_valid": lambda s, w, p: lambda: research.training_valid(s, w.rita.id, "x", TODAY),
    "as_json": lambda s, w, p: lambda: research.as_json(researchers.show_researcher(s, "rita")),
    "view_of": lambda s, w, p: (
        _accredited(s),
        lambda: researchers.view_of(research.current_accreditation(s, w.rita.id, TODAY), TODAY),
    )[1],
    "check_record_accreditation": lambda s, w, p: (
        lambda: researchers.check_record_accreditation(actor(s, "admin"), "rita")
    ),
    "list_researchers": lambda s, w, p: lambda: researchers.list_researchers(s, TODAY),
    "show_researcher": lambda s, w, p: lambda: researchers.show_researcher(s, "rita", TODAY),
    "researcher_facts": _with_project(
        lambda s: research.researcher_facts(s, "rita", "ashe", "P-1", TODAY)
    ),
    "active_projects_covering": _with_project(
        lambda s: research.active_projects_covering(s, actor(s, "rita").id, "ashe", TODAY)
    ),
    "project_row": _with_project(_p1),
    "change_row": lambda s, w, p: (lambda cid: lambda: research_project_views.change_row(s, cid))(
        _requested(s)
    ),
    "project_view": _with_project(lambda s: research_project_views.project_view(_p1(s), TODAY)),
    "member_facts": lambda s, w, p: lambda: research_project_views.member_facts(s, w.sam, TODAY),
    "actor_facts": lambda s, w, p: lambda: research_project_views.actor_facts(s, actor(s, "iona")),
    "current_members": _with_project(lambda s: research_project_views.current_members(_p1(s))),
    "current_datasets": _with_project(lambda s: research_project_views.current_datasets(_p1(s))),
    "change_view": lambda s, w, p: (
        lambda cid: (
            lambda: research_project_views.change_view(
                research_project_views.change_row(s, cid), "P-1"
            )
        )
    )(_requested(s)),
    "project_facts": _with_project(lambda s: research_project_views.project_facts(_p1(s))),
    "project_state": _with_project(lambda s: research_project_views.project_state(_p1(s))),
    "list_projects": _with_project(lambda s: research_projects.list_projects(s, TODAY)),
    "show_project": _with_project(lambda s: research_projects.show_project(s, "P-1", TODAY)),
    "gather_facts": lambda s, w, p: lambda: review.gather_facts(s, TODAY),
    "review_access": lambda s, w, p: lambda: review.review_access(s, TODAY, 30),
    "register_totals": lambda s, w, p: lambda: review.register_totals(s),
    "check_carry_out_review": lambda s, w, p: (
        lambda: review.check_carry_out_review(actor(s, "admin"))
    ),
    "write_atomic": lambda s, w, p: lambda: review.write_atomic(p / "f.txt", "x"),
    "report_paths": lambda s, w, p: lambda: review.report_paths(p, TODAY),
    "prepare_report_dir": lambda s, w, p: lambda: review.prepare_report_dir(p / "r"),
    "list_reviews": lambda s, w, p: lambda: review.list_reviews(s),
}


# What this walk covers; tests/services/test_audit_walk.py checks that every public
# function of every services module is covered by one wing's walk.
WALKED = qualified(MODULES, set(WRITERS) | set(READERS))


def test_the_research_walk_lists_each_function_once() -> None:
    assert not set(WRITERS) & set(READERS)
    assert len(WRITERS) + len(READERS) == len(WALKED)


@pytest.fixture
def session(research_engine: Engine) -> Iterator[Session]:
    yield from rolled_back_session(research_engine)


# Which rows a function flushes does not depend on the backend: SQLite is enough here.
@pytest.mark.parametrize("research_engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("name", "writes"),
    [(n, True) for n in WRITERS] + [(n, False) for n in READERS],
)
def test_writes_are_audited_and_reads_write_nothing(
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    writes: bool,
) -> None:
    world = build(session)
    call = (WRITERS if writes else READERS)[name](session, world, tmp_path)
    session.flush()
    with spying(session, monkeypatch) as spy:
        call()
    if writes:
        assert spy.written, f"{name} is listed as a writer but wrote nothing"
        assert spy.appends, f"{name} wrote {spy.written} without an audit event"
    else:
        assert not spy.written and not spy.appends, f"{name} is a reader but wrote {spy.written}"
