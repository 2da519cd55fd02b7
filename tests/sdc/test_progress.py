"""The library reports its stages to the reporter it is given, and to nobody otherwise."""

from __future__ import annotations

import pytest

from fivesafes.sdc.pipeline import tables
from fivesafes.sdc.progress import Recorder, stage
from fivesafes.sdc.synthetic import balanced_tree


def _survey() -> tuple[object, list[object]]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 300
    frame = pd.DataFrame(
        {
            "ent": [f"e{i % 120}" for i in range(n)],
            "region": rng.choice(["r0.0", "r0.1", "r1.0", "r1.1"], size=n),
            "industry": rng.choice(["i0.0", "i0.1", "i1.0", "i1.1", "i1.2"], size=n),
            "turnover": rng.lognormal(4, 1, size=n).round(2),
        }
    )
    return frame, [balanced_tree("r", [2, 2]), balanced_tree("i", [2, 3])]


def test_every_stage_of_the_pipeline_is_reported_and_closed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fivesafes.sdc.spec import load_spec

    frame, hs = _survey()
    spec = tmp_path / "t.toml"
    spec.write_text(
        '[table]\nname = "t"\nresponse = "turnover"\ncontributor = "ent"\n'
        '[[dimension]]\nname = "region"\n[[dimension]]\nname = "industry"\n'
        '[rules]\nthreshold = 3\np_percent = 10\n[suppression]\nmethod = "fast"\n'
        "singleton = false\n"
    )
    recorder = Recorder()
    result = tables(load_spec(spec), frame, hierarchies=hs, progress=recorder)  # type: ignore[arg-type]
    started = recorder.stages()
    for name in ("tabulate", "primary rules", "secondary suppression", "audit"):
        assert name in started
    assert any(s.startswith("audit: attacker LPs") for s in started)
    finished = [(s, outcome) for kind, s, _, outcome in recorder.events if kind == "finish"]
    assert sorted(s for s, _ in finished) == sorted(started)  # every stage closed
    audit_line = dict(finished)["audit"]
    assert audit_line.startswith("safe") and result.report["audit"]["safe"] is True


def test_a_failing_stage_is_closed_as_stopped() -> None:
    recorder = Recorder()
    with pytest.raises(ValueError), stage(recorder, "work"):
        raise ValueError("boom")
    assert recorder.events[-1] == ("finish", "work", None, "stopped")
