"""Run parity jobs with acro (in its own venv) and write per-cell outcomes and statuses as JSON.

    python acro_side.py JOBS.json RESULTS.json

JOBS.json: {"data": {"n": N, "seed": S, "rare": [a, b]}, "jobs": [{"id", "call", "args",
"suppress"}]}. Imports only acro, numpy and pandas: it runs with acro's pandas, not ours.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from parity_data import make_data


def label(x: Any) -> str:
    """A table label as text (tuples joined by |)."""
    return "|".join(str(p) for p in x) if isinstance(x, tuple) else str(x)


def frame_json(frame: Any) -> dict[str, Any]:
    """A DataFrame's labels and cells as text."""
    return {
        "index": [label(i) for i in frame.index],
        "columns": [label(c) for c in frame.columns],
        "cells": [[str(v) for v in row] for row in frame.to_numpy()],
    }


def run(acro: Any, df: Any, job: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """The job's call ``repeat`` times (default 1), each on a fresh session: the last
    call's status and outcome, the best time as ``seconds`` and every time as ``times``."""
    times = []
    for _ in range(int(job.get("repeat", 1))):
        out = run_once(acro, df, job, workdir)
        times.append(out["seconds"])
    out["seconds"] = min(times)
    out["times"] = times
    return out


def run_once(acro: Any, df: Any, job: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """One call on a fresh session; its status, outcome and time."""
    import statsmodels.api as sm

    a = acro.ACRO(suppress=job["suppress"])
    args = dict(job["args"])
    call = job["call"]
    start = time.perf_counter()
    if call == "crosstab":
        index = [df[c] for c in args.pop("index")]
        columns = [df[c] for c in args.pop("columns")]
        values = args.pop("values", None)
        a.crosstab(
            index if len(index) > 1 else index[0],
            columns if len(columns) > 1 else columns[0],
            values=None if values is None else df[values],
            **args,
        )
    elif call == "pivot_table":
        a.pivot_table(df, **args)
    elif call in ("ols", "logit", "probit"):
        rows = args.get("rows")
        data = df if rows is None else df.iloc[:rows]
        getattr(a, call)(data[args["endog"]], sm.add_constant(data[args["exog"]]))
    elif call in ("olsr", "logitr", "probitr"):
        rows = args.get("rows")
        getattr(a, call)(args["formula"], data=df if rows is None else df.iloc[:rows])
    elif call == "surv_func":
        a.surv_func(df[args["time"]], df[args["status"]], output="table")
    elif call in ("hist", "pie"):
        getattr(a, call)(
            df.copy(),
            args["column"],
            filename=f"{job['id']}.png",
            **({"bins": args["bins"]} if "bins" in args else {}),
        )
    else:
        raise ValueError(call)
    seconds = time.perf_counter() - start
    record = a.results.get_index(-1)
    out: dict[str, Any] = {"status": record.status, "seconds": seconds, "summary": record.summary}
    if len(record.outcome):
        out["outcome"] = frame_json(record.outcome)
    if record.output_type == "table" and record.output and hasattr(record.output[0], "to_numpy"):
        out["table"] = frame_json(record.output[0])
    out["sdc"] = record.sdc.get("summary", {}) if isinstance(record.sdc, dict) else {}
    return out


def main() -> None:
    """Read the jobs, run them, write the results."""
    jobs = json.loads(Path(sys.argv[1]).read_text())
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    import acro

    spec = jobs["data"]
    df = make_data(spec["n"], spec["seed"], rare=tuple(spec["rare"]))
    workdir = Path(sys.argv[2]).parent
    os.chdir(workdir)  # acro writes its plots and artefacts in the current folder
    results = {job["id"]: run(acro, df, job, workdir) for job in jobs["jobs"]}
    Path(sys.argv[2]).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
