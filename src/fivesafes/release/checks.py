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

from fivesafes.release.intervals import AuditIntervals, audit_intervals
from fivesafes.release.rulesets import RuleSetting, weaknesses
from fivesafes.release.submission import FILE_TYPES, MAX_FILE_BYTES, TableSubmission
from fivesafes.sdc import (
    EXACT_AUDIT_MAX_CELLS,
    STATUS,
    Disclosure,
    OutputTable,
    Status,
    audit_table,
    check_differencing,
)

RULES, AUDIT, DIFFERENCING, FILE = "rules", "audit", "differencing", "file"
Term = tuple[str, dict[str, str], float]  # a published cell in a revealing combination

# Check results are stored in plain text in the register database and shown in errors:
# they name cells, never a hidden cell's value or the bounds that pin it down (the
# submission itself is stored sealed).
CONFIDENTIAL_FIELDS = frozenset(
    {"value", "attacker_min", "attacker_max", "required_lower", "required_upper", "interval"}
)


def without_values(record: dict[str, Any]) -> dict[str, Any]:
    """A disclosure's or failed cell's record without the confidential fields."""
    return {k: v for k, v in record.items() if k not in CONFIDENTIAL_FIELDS}


def could_not_run(what: str, exc: Exception) -> str:
    """The summary of a check that raised, naming only the kind of error."""
    clashing = getattr(exc, "outputs", ())
    if clashing:  # InconsistentOutputs: the labels are safe to show, the values are not
        return (
            f"the {what} could not run: a cell has a different value in "
            + " and in ".join(clashing)
            + "; outputs of one source must be computed the same way from the same data "
            "(the same weight, filter and data version)"
        )
    # Only the kind of error: its text may quote a cell's value (e.g. "does not contain
    # its value ..."), and this summary is stored in plain text and shown in errors.
    return (
        f"the {what} could not run ({type(exc).__name__}); run `fivesafes table audit` "
        "on the table inside the area to see why"
    )


def explain_disclosure(d: Disclosure) -> str:
    """Which cell is disclosed and by which published cells, without its value or bounds."""
    where = ", ".join(f"{k}={v}" for k, v in d.codes.items())
    how = "exactly" if d.exact else "too narrowly"
    shown = _shown_terms(d.revealed_by)
    combo = " ".join(
        f"{'+' if c > 0 else '-'} {_times(c)}{t}({', '.join(f'{k}={v}' for k, v in cs.items())})"
        for t, cs, c in shown
    )
    rest = [term for term in d.revealed_by if term not in shown]
    # A reader needs the first few terms to see the subtraction; the full combination is
    # in the check's details (`release show --json`), not in a line of a thousand characters.
    more = ""
    if rest:
        sources = ", ".join(dict.fromkeys(t for t, _, _ in rest))
        more = f" and {len(rest)} more published cell(s) of {sources}"
    return f"{d.table} cell ({where}) is determined {how} by {combo.lstrip('+ ')}{more}"


def _shown_terms(terms: Sequence[Term]) -> list[Term]:
    """At most SHOWN_TERMS terms, one of every output involved first: which earlier
    outputs combine to disclose the cell matters more than the fifth cell of one of them."""
    firsts = list(dict.fromkeys(t for t, _, _ in terms))
    picked: set[int] = set()
    for table in firsts[:SHOWN_TERMS]:
        picked.add(next(i for i, term in enumerate(terms) if term[0] == table))
    for i in range(len(terms)):
        if len(picked) >= SHOWN_TERMS:
            break
        picked.add(i)
    return [terms[i] for i in sorted(picked)]


SHOWN_TERMS = 4  # terms of a revealing combination quoted in a summary
SHOWN_DISCLOSURES = 3  # disclosures listed in a summary; the details hold every one


def list_disclosures(lines: Sequence[str]) -> str:
    """Explanations one per line (a summary is read in a terminal and in errors)."""
    listed = "".join(f"\n  - {line}" for line in lines[:SHOWN_DISCLOSURES])
    rest = len(lines) - SHOWN_DISCLOSURES
    if rest <= 0:
        return listed
    return listed + f"\n  - and {rest} more (`fivesafes release show ID --json` lists them)"


def _times(c: float) -> str:
    return "" if abs(c) == 1 else f"{abs(c):g}*"


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
    # The audit's per-cell intervals (the audit check only): confidential, so never in
    # ``details``; the submission seals them with the version (release.intervals).
    intervals: AuditIntervals | None = field(default=None, compare=False, repr=False)


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
    """The independent table audit: every hidden cell's interval against its protection.

    As ``table protect`` runs it: exact intervals up to EXACT_AUDIT_MAX_CELLS cells, else
    check mode (each requirement proven, the same verdict). The intervals ride on the
    result (``intervals``) for the submission to seal, never in the stored details.
    """
    cells = table.cells
    if not (cells[STATUS].astype(str) != Status.SAFE.value).any():
        return CheckResult(AUDIT, CheckVerdict.PASS, "nothing is hidden: no interval to audit")
    try:
        result = audit_table(
            cells,
            table.hierarchies,
            frequency=table.frequency,
            a_priori_percent=table.a_priori_percent,
            intervals="exact" if len(cells) <= EXACT_AUDIT_MAX_CELLS else "check",
        )
        intervals = audit_intervals(result, table.dimensions)
    except Exception as exc:  # a table the audit cannot read cannot pass
        return CheckResult(AUDIT, CheckVerdict.FAIL, could_not_run("audit", exc))
    details = result.to_dict(max_failures=20)
    details["failed_cells"] = [without_values(r) for r in details.get("failed_cells", [])]
    verdict = CheckVerdict.PASS if result.safe else CheckVerdict.FAIL
    summary = result.summary().splitlines()[0]
    return CheckResult(AUDIT, verdict, summary, details, intervals=intervals)


def differencing_check(new: OutputTable, earlier: Sequence[OutputTable]) -> CheckResult:
    """Would the new output, with everything published from its source, reveal a hidden cell?"""
    try:
        result = check_differencing(new, earlier)
    except Exception as exc:
        return CheckResult(DIFFERENCING, CheckVerdict.FAIL, could_not_run("check", exc))
    details = {**result.to_dict(), "earlier_releases": [t.label for t in earlier]}
    details["disclosures"] = [
        without_values(d) | {"explanation": explain_disclosure(found)}
        for d, found in zip(details["disclosures"], result.disclosures, strict=True)
    ]
    if result.safe:
        summary = (
            f"no disclosure by differencing against {len(earlier)} earlier release(s) "
            f"({result.published_cells} published cells, {result.checked_cells} hidden checked)"
        )
        return CheckResult(DIFFERENCING, CheckVerdict.PASS, summary, details)
    lines = [explain_disclosure(d) for d in result.disclosures]
    summary = f"{len(lines)} cell(s) would be disclosed by differencing:" + list_disclosures(lines)
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
