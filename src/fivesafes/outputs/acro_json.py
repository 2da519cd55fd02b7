"""ACRO's ``results.json``: read outputs that ACRO made, write ours so SACRO-viewer reads them.

The layout is ACRO 1.0.2's: ``{"version", "tool", "results": {uid: {uid, status, type,
properties, files: [{name, sdc}], outcome, command, summary, timestamp, comments,
exception, fair}}}``, one CSV per table (``<uid>_<i>.csv``) and plots or custom files
beside it. ``version`` is the format's (ACRO's loader refuses any other); ``tool``
names the program that wrote it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fivesafes import __version__
from fivesafes.errors import DataError
from fivesafes.outputs.record import Output
from fivesafes.outputs.verdict import Verdict

RESULTS = "results.json"
FORMAT_VERSION = "1.0.2"  # the ACRO release whose results.json layout this is
TOOL = {"@type": "SoftwareApplication", "name": "fivesafes", "version": __version__}


def output_files(output: Output, folder: Path) -> list[str]:
    """Write one output's files into ``folder``: a CSV per table, a copy of every file."""
    names: list[str] = []
    frames = [o for o in output.output if isinstance(o, pd.DataFrame)]
    for i, frame in enumerate(frames):
        name = f"{output.uid}_{i}.csv"
        (folder / name).write_text(inert(frame).to_csv(), encoding="utf-8")
        names.append(name)
    for item in output.output:
        if isinstance(item, str | Path):
            src = Path(item)
            if not src.is_file():
                raise DataError(
                    f"{output.uid}: its file {src} is missing", hint="make the output again"
                )
            name = f"{output.uid}_{src.name}" if (folder / src.name).exists() else src.name
            shutil.copyfile(src, folder / name)
            names.append(name)
    return names


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_text(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, made plain text (a leading quote)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def inert(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text label and cell safe to open in a spreadsheet (the output
    checkers open these CSVs; a code such as ``=HYPERLINK(...)`` must stay a code)."""
    out = frame.copy()
    out.index = _inert_index(out.index)
    out.columns = _inert_index(out.columns)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(inert_text)
    return out


def _inert_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        multi: pd.Index = pd.MultiIndex.from_tuples(
            [tuple(inert_text(v) for v in t) for t in index], names=index.names
        )
        return multi
    flat: pd.Index = pd.Index([inert_text(v) for v in index], name=inert_text(index.name))
    return flat


def results_document(outputs: Sequence[Output], files: dict[str, list[str]]) -> dict[str, Any]:
    """The results.json document for ``outputs`` whose files are already written."""
    results: dict[str, Any] = {}
    for o in outputs:
        results[o.uid] = {
            "uid": o.uid,
            "status": o.status.text,
            "type": o.output_type,
            "properties": o.properties,
            "files": [{"name": name, "sdc": o.sdc} for name in files.get(o.uid, [])],
            "outcome": json.loads(o.outcome.to_json()) if len(o.outcome) else {},
            "command": o.command,
            "summary": o.summary,
            "timestamp": o.timestamp,
            "comments": list(o.comments),
            "exception": o.exception,
            "fair": {},
        }
    return {"version": FORMAT_VERSION, "tool": TOOL, "results": results}


def read_results(folder: str | Path) -> list[Output]:
    """The outputs of an ACRO (or fivesafes) results folder, tables loaded from their CSVs."""
    folder = Path(folder)
    path = folder / RESULTS
    if not path.is_file():
        raise DataError(f"{folder} has no {RESULTS}", hint="give the folder ACRO's finalise wrote")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        entries = doc["results"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path} is not an ACRO results file ({type(exc).__name__})") from None
    if not isinstance(entries, dict):
        raise DataError(f"{path}: 'results' is not an object")
    out = []
    for key, raw in entries.items():
        out.append(_output(folder, str(key), raw))
    return out


def _output(folder: Path, key: str, raw: Any) -> Output:
    if not isinstance(raw, dict):
        raise DataError(f"{RESULTS}: output {key!r} is not an object")
    files = [f for f in raw.get("files", []) if isinstance(f, dict) and "name" in f]
    items: list[Any] = []
    for f in files:
        name = Path(str(f["name"])).name  # a name, never a path out of the folder
        target = folder / name
        if not target.is_file():
            raise DataError(f"{RESULTS}: output {key!r} names {name}, which is not in {folder}")
        items.append(pd.read_csv(target, index_col=0) if target.suffix == ".csv" else target)
    outcome = raw.get("outcome") or {}
    return Output(
        uid=str(raw.get("uid", key)),
        status=Verdict.parse(str(raw.get("status", ""))),
        output_type=str(raw.get("type", "")),
        properties=dict(raw.get("properties") or {}),
        sdc=dict(files[0].get("sdc") or {}) if files else {},
        command=str(raw.get("command", "")),
        summary=str(raw.get("summary", "")),
        outcome=pd.DataFrame.from_dict(outcome) if outcome else pd.DataFrame(),
        output=tuple(items),
        checks={"imported": "from an ACRO results file: checked by ACRO, not re-checked here"},
        comments=tuple(str(c) for c in raw.get("comments") or []),
        exception=str(raw.get("exception") or ""),
        timestamp=str(raw.get("timestamp", "")),
    )
