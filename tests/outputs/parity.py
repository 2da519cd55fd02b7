"""Both sides of an ACRO parity run: acro in its own venv (a subprocess), fivesafes here.

The acro venv is made by ``make test`` (requirements-acro.lock; acro pins pandas<=2.3.3,
which cannot live beside ours). ``FIVESAFES_ACRO_PYTHON`` names its interpreter; without
it the repository's ``.venv-acro`` is used when present, else the parity tests skip
with that reason, unless ``make test`` set the variable: then a missing acro fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


REPO = HERE.parents[1]


def acro_python() -> str:
    """The acro venv's interpreter, or skip (fail under ``make test``) when there is none."""
    named = os.environ.get("FIVESAFES_ACRO_PYTHON")
    path = Path(named) if named else REPO / ".venv-acro" / "bin" / "python"
    if path.is_file():
        return str(path)
    if named:
        pytest.fail(f"FIVESAFES_ACRO_PYTHON={named} does not exist: run `make venv-acro`")
    pytest.skip("no acro venv (.venv-acro): `make venv-acro` creates it; `make test` does")
    raise AssertionError  # pragma: no cover


def run_acro(data: dict[str, Any], jobs: list[dict[str, Any]], tmp: Path) -> dict[str, Any]:
    """Run ``jobs`` with acro on ``make_data(**data)``; per job its status and outcome."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "jobs.json").write_text(json.dumps({"data": data, "jobs": jobs}))
    out = tmp / "results.json"
    subprocess.run(
        [acro_python(), str(HERE / "acro_side.py"), str(tmp / "jobs.json"), str(out)],
        check=True,
        capture_output=True,
        timeout=3600,
    )
    return json.loads(out.read_text())


def label(x: Any) -> str:
    """A table label as text (tuples joined by |), as the acro side writes them."""
    return "|".join(str(p) for p in x) if isinstance(x, tuple) else str(x)


def frame_json(frame: pd.DataFrame) -> dict[str, Any]:
    """A DataFrame's labels and cells as text."""
    return {
        "index": [label(i) for i in frame.index],
        "columns": [label(c) for c in frame.columns],
        "cells": [[str(v) for v in row] for row in frame.to_numpy()],
    }


def run_ours(
    df: pd.DataFrame, jobs: list[dict[str, Any]], tmp: Path, **session: Any
) -> dict[str, Any]:
    """The same jobs with fivesafes: a fresh Session per call, as on the acro side;
    ``repeat`` calls per job (default 1), the best time as ``seconds``."""
    results = {}
    for job in jobs:
        times = []
        for _ in range(int(job.get("repeat", 1))):
            out = _run_once(df, job, session)
            times.append(out["seconds"])
        out["seconds"] = min(times)  # the best of the repeats, as on the acro side
        out["times"] = times
        results[job["id"]] = out
    return results


def _run_once(df: pd.DataFrame, job: dict[str, Any], session: dict[str, Any]) -> dict[str, Any]:
    """One call of ``job`` on a fresh Session: status, time, outcome and the record."""
    import statsmodels.api as sm

    from fivesafes.outputs import Session

    s = Session(suppress=job["suppress"], **session)
    args = dict(job["args"])
    call = job["call"]
    start = time.perf_counter()
    if call == "crosstab":
        index = [df[c] for c in args.pop("index")]
        columns = [df[c] for c in args.pop("columns")]
        values = args.pop("values", None)
        s.crosstab(
            index if len(index) > 1 else index[0],
            columns if len(columns) > 1 else columns[0],
            values=None if values is None else df[values],
            **args,
        )
    elif call == "pivot_table":
        s.pivot_table(df, **args)
    elif call in ("ols", "logit", "probit"):
        rows = args.get("rows")
        data = df if rows is None else df.iloc[:rows]
        getattr(s, call)(data[args["endog"]], sm.add_constant(data[args["exog"]]))
    elif call in ("olsr", "logitr", "probitr"):
        rows = args.get("rows")
        getattr(s, call)(args["formula"], data=df if rows is None else df.iloc[:rows])
    elif call == "surv_func":
        s.surv_func(df[args["time"]], df[args["status"]], output="table")
    elif call in ("hist", "pie"):
        extra = {"bins": args["bins"]} if "bins" in args else {}
        getattr(s, call)(df, args["column"], filename=f"{job['id']}.png", **extra)
    else:
        raise ValueError(call)
    seconds = time.perf_counter() - start
    record = list(s.outputs.values())[-1]
    out: dict[str, Any] = {"status": record.status.text, "seconds": seconds}
    if len(record.outcome):
        out["outcome"] = frame_json(record.outcome)
    if record.output and isinstance(record.output[0], pd.DataFrame):
        out["table"] = frame_json(record.output[0])
    out["record"] = record
    return out


def checks_of(text: str) -> frozenset[str]:
    """The checks named in an outcome cell (ACRO writes ``ok`` glued to the next name for
    several statistics, e.g. ``okMinimumDoFCheck; ``)."""
    text = text.removeprefix("ok")
    return frozenset(p.strip() for p in text.split(";") if p.strip() and p.strip() != "ok")


def cell_sets(
    outcome: dict[str, Any], *, stat_level: bool
) -> dict[tuple[str, str], frozenset[str]]:
    """Per (row, column) the checks flagging it; with statistics on top of the columns, the
    union over the statistics (ACRO applies every statistic's checks to every column)."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for r, row in zip(outcome["index"], outcome["cells"], strict=True):
        for c, text in zip(outcome["columns"], row, strict=True):
            key = (r, c.split("|", 1)[1] if stat_level and "|" in c else c)
            out[key] = out.get(key, frozenset()) | checks_of(text)
    return out
