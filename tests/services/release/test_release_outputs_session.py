"""A researcher's session (fivesafes.outputs) goes through output checking as a folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from release_world import AREA, World, build_world
from sqlalchemy import Engine

from fivesafes.outputs import Session
from fivesafes.release.submission import read_table_dir
from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def test_a_finalised_session_table_is_submitted_checked_and_published(
    world: World, tmp_path: Path
) -> None:
    rng = np.random.default_rng(4)
    n = 2000
    df = pd.DataFrame(
        {
            "region": rng.choice(["N", "S", "E", "W"], n, p=[0.5, 0.3, 0.195, 0.005]),
            "grade": rng.choice(["g1", "g2", "g3"], n),
            "pay": rng.lognormal(8, 1, n),
        }
    )
    s = Session(suppress=True, dataset="ashe", area=AREA)
    table = s.crosstab(df.region, df.grade, values=df.pay, aggfunc="sum", margins=True)
    assert table.isna().to_numpy().any()  # something was hidden
    folder = s.finalise(str(tmp_path / "session"))
    submission = read_table_dir(folder / "tables" / "output_0")
    rid = world.submit(submission, source="ashe:pay")
    view = world.show(rid)
    checks = {c.name: c.verdict for c in view.versions[0].checks}
    assert checks == {
        "source": "review",
        "rules": "pass",
        "audit": "pass",
        "differencing": "pass",
        "regime": "pass",
    }
    world.vote("olga", rid, Vote.APPROVE)
    world.vote("oscar", rid, Vote.APPROVE)
    world.publish(rid)
    assert world.show(rid).state is RequestState.RELEASED
