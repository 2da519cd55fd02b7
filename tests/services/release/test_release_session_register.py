"""A session opened on an area's dataset is checked against the dataset's releases at once.

``Session(area=..., dataset=..., register=register_loader(...))`` loads the releases
published from the dataset once, through the audited read (an access decision for the
session's user, and a ``release.register.read`` event); an output that would undo a
published release's protection fails in the session, naming the release, not only at
``release submit``. The world: 'ashe' (pay by area; a3 one contributor) and a
published table of it by region (N = a1 + a2 + a3, S = a4 + a5; a3 hidden with a
complement). The session's own table by area hides a3 and a2: safe alone; with a release
whose complement was a1 (a2 published), a3 = N - a1 - a2.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from release_world import AREA, BY_REGION, first_release, table
from sqlalchemy import Engine, select
from stored_world import Stored, build_stored

from fivesafes.errors import AccessDenied, ValidationError
from fivesafes.outputs import Session, Verdict
from fivesafes.services.release.session_register import READ_ACTION, register_loader
from fivesafes.services.vault.read import open_dataset_for
from fivesafes.store.models.audit import AuditRecord

RULES = {"safe_threshold": 5}


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    s = build_stored(engine, tmp_path)
    s.world.release(first_release())  # a3 hidden, a2 its complement: as the session's
    return s


@pytest.fixture
def other_complement(engine: Engine, tmp_path: Path) -> Stored:
    s = build_stored(engine, tmp_path)
    # a3 hidden, a1 its complement: a2 published
    s.world.release(table("pay by area", BY_REGION, {"a3": "primary", "a1": "secondary"}))
    return s


def _rows(stored: Stored) -> pd.DataFrame:
    return open_dataset_for(stored.tx, stored.vault, "ada", AREA, "ashe").to_pandas()


def _session(stored: Stored, login: str = "ada") -> Session:
    loader = register_loader(stored.tx, stored.vault, login)
    return Session(suppress=True, rules=RULES, area=AREA, dataset="ashe", register=loader)


def _by_area(s: Session, df: pd.DataFrame) -> pd.DataFrame:
    return s.crosstab(df["area"], df["area"].rename("all").map(lambda _: "all"),
                      values=df["pay"], aggfunc="sum", margins=True)  # fmt: skip


def test_an_output_that_reveals_a_published_hidden_cell_fails_in_the_session(
    other_complement: Stored,
) -> None:
    df = _rows(other_complement)
    s = _session(other_complement)
    shown = _by_area(s, df)
    assert shown.loc["a1"].notna().all() and shown.loc["a2"].isna().all()
    out = s.outputs["output_0"]
    assert out.status is Verdict.FAIL
    diff = out.checks["differencing"]
    assert diff is not None and not diff["safe"]
    named = " ".join(str(d) for d in diff["disclosures"])
    assert "REL-" in named and "a3" in named  # the combination names the release
    # the same output in a plain session (no register): safe on its own
    plain = Session(suppress=True, rules=RULES, dataset="ashe", area=AREA)
    _by_area(plain, df)
    assert plain.outputs["output_0"].status is not Verdict.FAIL


def test_an_output_that_reveals_nothing_passes_and_the_load_is_audited(stored: Stored) -> None:
    df = _rows(stored)
    s = _session(stored)
    _by_area(s, df)
    out = s.outputs["output_0"]
    assert out.status is not Verdict.FAIL
    assert out.checks["differencing"] is not None and out.checks["differencing"]["safe"]
    with stored.tx() as session:
        events = session.scalars(
            select(AuditRecord).where(AuditRecord.actor == "ada", AuditRecord.dataset == "ashe")
        ).all()
    actions = [e.action for e in events]
    assert actions.count(READ_ACTION) == 1  # loaded once, when the session opened
    assert actions.count("access.decide") >= 2  # the rows' read and the register's


def test_the_register_is_denied_to_whoever_may_not_read_the_dataset(stored: Stored) -> None:
    with pytest.raises(AccessDenied):
        _session(stored, login="olga")
    with stored.tx() as session:
        loaded = session.scalars(select(AuditRecord).where(AuditRecord.action == READ_ACTION))
        assert list(loaded) == []


def test_a_register_needs_an_area_and_a_dataset(stored: Stored) -> None:
    loader = register_loader(stored.tx, stored.vault, "ada")
    with pytest.raises(ValidationError, match="area's dataset only"):
        Session(dataset="ashe", register=loader)
