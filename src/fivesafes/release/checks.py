"""Automated checks attached to a submitted version, and which of them block approval.

Fail closed: a verdict is ordered ``PASS < REVIEW < FAIL``; a check that cannot run
fails. Tables get the rule-set check, the table audit (every hidden cell's interval)
and the differencing check against the register; other files get a type/size check
and always need a human (REVIEW).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import PurePath
from typing import Any

from fivesafes.release.rulesets import RuleSetting, weaknesses
from fivesafes.release.submission import FILE_TYPES, MAX_FILE_BYTES, TableSubmission
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.cells import STATUS, Status
from fivesafes.sdc.differencing import OutputTable, check_differencing

RULES, AUDIT, DIFFERENCING, FILE = "rules", "audit", "differencing", "file"


class CheckVerdict(IntEnum):
    """Outcome of one check, ordered so that ``max()`` fails closed."""

    PASS = 0
    REVIEW = 1
    FAIL = 2


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict, a one-line summary, and JSON-ready details."""

    name: str
    verdict: CheckVerdict
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def rules_check(table_rules: dict[str, Any], in_force: RuleSetting | None) -> CheckResult:
    """Fail when no rule set is in force or the table's rules are weaker than it."""
    if in_force is None:
        return CheckResult(
            RULES,
            CheckVerdict.FAIL,
            "no rule set is in force: define one with fivesafes rules set NAME ...",
        )
    weak = weaknesses(table_rules, in_force)
    details = {"rule_set": in_force.label, "weaknesses": weak}
    if weak:
        return CheckResult(RULES, CheckVerdict.FAIL, "; ".join(weak), details)
    return CheckResult(RULES, CheckVerdict.PASS, f"meets rule set {in_force.label}", details)


def audit_check(table: TableSubmission) -> CheckResult:
    """The independent table audit: every hidden cell's interval against its protection."""
    cells = table.cells
    if not (cells[STATUS].astype(str) != Status.SAFE.value).any():
        return CheckResult(AUDIT, CheckVerdict.PASS, "nothing is hidden: no interval to audit")
    try:
        result = audit_table(
            cells,
            table.hierarchies,
            frequency=table.frequency,
            a_priori_percent=table.a_priori_percent,
        )
    except Exception as exc:  # a table the audit cannot read cannot pass
        return CheckResult(AUDIT, CheckVerdict.FAIL, f"the audit could not run: {exc}")
    details = result.to_dict(max_failures=20)
    verdict = CheckVerdict.PASS if result.safe else CheckVerdict.FAIL
    return CheckResult(AUDIT, verdict, result.summary().splitlines()[0], details)


def differencing_check(new: OutputTable, earlier: Sequence[OutputTable]) -> CheckResult:
    """Would the new output, with everything published from its source, reveal a hidden cell?"""
    try:
        result = check_differencing(new, earlier)
    except Exception as exc:
        return CheckResult(DIFFERENCING, CheckVerdict.FAIL, f"the check could not run: {exc}")
    details = {**result.to_dict(), "earlier_releases": [t.label for t in earlier]}
    if result.safe:
        summary = (
            f"no disclosure by differencing against {len(earlier)} earlier release(s) "
            f"({result.published_cells} published cells, {result.checked_cells} hidden checked)"
        )
        return CheckResult(DIFFERENCING, CheckVerdict.PASS, summary, details)
    lines = [d.explain() for d in result.disclosures]
    summary = f"{len(lines)} cell(s) would be disclosed by differencing: " + " | ".join(lines[:3])
    return CheckResult(DIFFERENCING, CheckVerdict.FAIL, summary, details)


def file_check(name: str, size: int) -> CheckResult:
    """Type and size of a non-table output; passing still needs a human (REVIEW)."""
    suffix = PurePath(name).suffix.lower()
    details = {"name": name, "bytes": size, "human_check_required": True}
    if suffix not in FILE_TYPES:
        allowed = ", ".join(sorted(FILE_TYPES))
        return CheckResult(
            FILE, CheckVerdict.FAIL, f"type {suffix or '(none)'} is not one of {allowed}", details
        )
    if size > MAX_FILE_BYTES:
        return CheckResult(
            FILE, CheckVerdict.FAIL, f"{size} bytes is over {MAX_FILE_BYTES}", details
        )
    return CheckResult(
        FILE, CheckVerdict.REVIEW, "type and size acceptable; a human must check it", details
    )


def blocking(results: Sequence[CheckResult]) -> list[CheckResult]:
    """The checks that block approval (FAIL)."""
    return [r for r in results if r.verdict is CheckVerdict.FAIL]
