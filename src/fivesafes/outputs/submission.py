"""A protected count or sum table as a folder ``fivesafes release submit`` accepts.

``release submit FOLDER --area A --source DATASET:MEASURE`` reads cells.csv,
report.json and the spec (``read_table_dir``); the spec's hash must match the one in
the report. The cells are the whole cube (every margin, true totals) with the
statuses this session gave them, so the release audit re-proves the pattern.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from fivesafes.outputs.record import TableEvidence
from fivesafes.outputs.rules import OutputRules
from fivesafes.sdc import (
    Hierarchy,
    SuppressionSpec,
    TableResult,
    TableSpec,
    build_report,
    parse_spec,
)

SPEC = "spec.toml"


def spec_text(
    name: str, evidence: TableEvidence, rules: OutputRules, suppression: SuppressionSpec
) -> str:
    """The TOML spec of the table (its hash goes into report.json)."""
    ruleset = rules.to_ruleset(frequency=evidence.frequency)
    lines = ["[table]", f"name = {json.dumps(name)}"]
    if not evidence.frequency:
        lines.append(f"response = {json.dumps(evidence.measure)}")
    for dim, total in evidence.total_codes:
        lines += [
            "",
            "[[dimension]]",
            f"name = {json.dumps(dim)}",
            f"total_code = {json.dumps(total)}",
        ]
    lines += [
        "",
        "[rules]",
        f"threshold = {ruleset.threshold}",
        f"threshold_protection_percent = {ruleset.threshold_protection_percent!r}",
        f"zeros = {json.dumps(ruleset.zeros)}",
        f"negatives = {json.dumps(ruleset.negatives)}",
    ]
    if ruleset.dominance:
        pairs = ", ".join(f"[{n}, {k!r}]" for n, k in ruleset.dominance)
        lines.append(f"dominance = [{pairs}]")
    if ruleset.p_percent is not None:
        lines.append(f"p_percent = {ruleset.p_percent!r}")
    lines += [
        "",
        "[suppression]",
        f"method = {json.dumps(suppression.method)}",
        f"singleton = {'true' if suppression.singleton and not evidence.frequency else 'false'}",
    ]
    return "\n".join(lines) + "\n"


def write_table_folder(
    folder: Path,
    name: str,
    evidence: TableEvidence,
    rules: OutputRules,
    suppression: SuppressionSpec,
    source: dict[str, Any],
) -> None:
    """Write cells.csv, report.json, table.csv, table.xlsx and spec.toml into ``folder``."""
    text = spec_text(name, evidence, rules, suppression)
    spec: TableSpec = parse_spec(tomllib.loads(text), source_text=text)
    hier = tuple(
        Hierarchy.flat(
            dim, [c for c in evidence.cells[dim].astype(str).unique() if c != total], total=total
        )
        for dim, total in evidence.total_codes
    )
    report = build_report(
        spec,
        evidence.cells,
        hier,
        source=source,
        timings={},
        notes=["made by a fivesafes.outputs Session (an ACRO-compatible researcher session)"],
        secondary=dict(evidence.reports.get("secondary", {})),
    )
    audit = evidence.reports.get("audit")
    report["audit"] = (
        {"run": True, **audit, "safe_to_release": bool(audit.get("safe"))}
        if audit
        else {
            "run": False,
            "safe": False,
            "safe_to_release": False,
            "reason": "no secondary suppression and audit ran (suppress=False or nothing hidden)",
        }
    )
    TableResult(spec=spec, cells=evidence.cells, hierarchies=hier, report=report).write(folder)
    (folder / SPEC).write_text(text, encoding="utf-8")
