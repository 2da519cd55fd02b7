"""Which earlier releases a new output's differencing check must see, and the check itself.

The check compares an output with the releases of its source, because only cells of one
source add up. A source the system proved (a stored `table protect --dataset` output)
fixes that set. A *declared* source proves nothing: the same table submitted as
``other:turnover`` would be compared with nothing and pass. So:

- a declared output is checked against the releases of every source of its area, one
  source at a time (it may come from any of them);
- a release whose own source was declared may come from any source too, so every check
  adds each such release of another source to the releases it compares with.

Outputs whose published cells disagree with a set of releases (one cell, two values)
cannot come from the same data; that pairing is skipped and said so. For the output's
own source, a disagreement fails the check, as before.

A release whose cells cannot hold together with the zeros of the source's data (the
combinations its data leave empty, sdc/occupancy.py) is not skipped: the check fails
with that reason, naming it. Its declared source is then likely wrong, but the zeros
come from a reading of the data, and a check that let an output pass on the strength of
that reading alone would open on any flaw in it: so it fails closed, and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fivesafes.release.checks import (
    DIFFERENCING,
    CheckResult,
    CheckVerdict,
    could_not_run,
    explain_disclosure,
    list_disclosures,
    without_values,
)
from fivesafes.sdc import (
    DifferencingResult,
    Disclosure,
    InconsistentOutputs,
    Occupancy,
    OutputsContradictData,
    OutputTable,
    check_differencing,
    outputs_agree,
)


@dataclass(frozen=True)
class EarlierRelease:
    """A published release of the area: its cells, its source, whether the source was proven."""

    table: OutputTable
    source: str
    verified: bool


@dataclass(frozen=True)
class _Run:
    source: str  # the source the new output is taken to come from
    releases: tuple[str, ...]
    outcome: str  # safe | disclosed | not comparable
    result: DifferencingResult | None


def candidate_sources(
    source: str, verified: bool, earlier: Sequence[EarlierRelease], also: Sequence[str] = ()
) -> list[str]:
    """The sources the output may come from: its own if proven, else any of the area's."""
    if verified:
        return [source]
    return sorted({source, *(e.source for e in earlier), *also})


def releases_to_protect_with(source: str, earlier: Sequence[EarlierRelease]) -> list[OutputTable]:
    """The releases a new table of the proven ``source`` is checked with at submission.

    Those of the source itself, and every release of another source whose own source
    was only declared (it may be this source's data), as long as its cells agree with
    the others: the check of a stored table skips one that disagrees, as not comparable.
    A table protected with these passes that check by construction.
    """
    chosen = [e.table for e in earlier if e.source == source]
    for extra in (e for e in earlier if e.source != source and not e.verified):
        if outputs_agree([*chosen, extra.table]):
            chosen.append(extra.table)
    return chosen


def _runs_for(
    new: OutputTable,
    source: str,
    own: bool,
    earlier: Sequence[EarlierRelease],
    occupancy: Occupancy | None = None,
) -> list[_Run]:
    base = [e.table for e in earlier if e.source == source]
    extras = [e.table for e in earlier if e.source != source and not e.verified]
    runs: list[_Run] = []
    try:
        # All at once when they agree (the usual case): one model, one solve per cell.
        result = check_differencing(new, [*base, *extras], occupancy=occupancy)
        return [_run(source, [*base, *extras], result)]
    except InconsistentOutputs:
        if not extras:
            if own:
                raise
            return [_Run(source, tuple(t.label for t in base), "not comparable", None)]
    try:
        runs.append(_run(source, base, check_differencing(new, base, occupancy=occupancy)))
    except InconsistentOutputs:
        if own:
            raise
        return [_Run(source, tuple(t.label for t in base), "not comparable", None)]
    for extra in extras:
        try:
            both = check_differencing(new, [*base, extra], occupancy=occupancy)
            runs.append(_run(source, [*base, extra], both))
        except InconsistentOutputs:
            runs.append(_Run(source, (extra.label,), "not comparable", None))
    return runs


def _run(source: str, tables: Sequence[OutputTable], result: DifferencingResult) -> _Run:
    outcome = "safe" if result.safe else "disclosed"
    return _Run(source, tuple(t.label for t in tables), outcome, result)


# How an output is seen when it comes from a source: ``new`` and ``earlier`` as the check
# of that source must see them (a family member's: with its membership, release/families.py)
Link = Callable[[OutputTable, str], tuple[OutputTable, Sequence[EarlierRelease]]]


def scoped_differencing_check(
    new: OutputTable,
    source: str,
    verified: bool,
    earlier: Sequence[EarlierRelease],
    *,
    link: Link | None = None,
    also: Sequence[str] = (),
    occupancy: Occupancy | None = None,
) -> CheckResult:
    """The differencing check of ``new`` against every set of releases it may combine with.

    ``link`` gives the output and the releases as seen from each source it may come
    from; ``also``: more sources a declared output may come from (the members of the
    families of the area's sources, which may have no release of their own yet).
    ``occupancy``: the combinations the data of ``source`` leave empty, held at zero in
    the runs as that source (sdc/occupancy.py; the caller read them from its data).
    """
    try:
        runs: list[_Run] = []
        for candidate in candidate_sources(source, verified, earlier, also):
            as_new, as_earlier = link(new, candidate) if link else (new, earlier)
            zeros = occupancy if candidate == source else None
            runs += _runs_for(as_new, candidate, candidate == source, as_earlier, zeros)
    except OutputsContradictData as exc:
        return _not_from_these_data(exc, new.label, source, verified)
    except Exception as exc:  # a check that cannot run fails
        return CheckResult(DIFFERENCING, CheckVerdict.FAIL, could_not_run("check", exc))
    return _check_result(runs, source, verified)


def _not_from_these_data(
    exc: OutputsContradictData, label: str, source: str, verified: bool
) -> CheckResult:
    """The failed check when releases cannot hold together with the data's zeros: not a
    disclosure (no interval can be trusted), the releases named and what settles it."""
    releases = [name for name in exc.labels if name != label] or list(exc.labels)
    names = ", ".join(releases)
    summary = (
        f"the published cells of {names} cannot hold together with the data of {source} "
        "(they need units in combinations of values that no row of it holds): the "
        f"declared source of {names} is likely not these data, and with it no interval of "
        "the attacker can be trusted; this output stays blocked until an administrator "
        f"establishes where {names} came from and corrects its recorded source (changing "
        "this output does not clear it)"
    )
    details: dict[str, Any] = {
        "safe": False,
        "source": source,
        "source_verified": verified,
        "contradicted_by": releases,
        # held at zero when the contradiction showed: kept as a failure found with the zeros
        "empty_atoms": exc.empty_atoms,
        "disclosures": [],
    }
    return CheckResult(DIFFERENCING, CheckVerdict.FAIL, summary, details)


def one_run_check(
    source: str, tables: Sequence[OutputTable], result: DifferencingResult
) -> CheckResult:
    """The check's result when one run, against ``tables`` as the proven ``source``, decided
    it (the request gate's incremental check: release/figure_gate.py)."""
    return _check_result([_run(source, tables, result)], source, True)


def _check_result(runs: Sequence[_Run], source: str, verified: bool) -> CheckResult:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], Disclosure] = {}
    for run in runs:
        for d in run.result.disclosures if run.result else ():
            found.setdefault((d.table, tuple(sorted(d.codes.items()))), d)
    disclosures = list(found.values())
    compared = sorted({label for run in runs if run.result for label in run.releases})
    details: dict[str, Any] = {
        "safe": not disclosures,
        "source": source,
        "source_verified": verified,
        "earlier_releases": compared,
        "runs": [
            {"as_source": r.source, "releases": list(r.releases), "outcome": r.outcome}
            for r in runs
        ],
        "published_cells": max((r.result.published_cells for r in runs if r.result), default=0),
        "checked_cells": max((r.result.checked_cells for r in runs if r.result), default=0),
        # combinations the source's data leave empty, held at zero (0: no data read)
        "empty_atoms": max((r.result.empty_atoms for r in runs if r.result), default=0),
        "disclosures": [
            without_values(_disclosure_dict(d)) | {"explanation": explain_disclosure(d)}
            for d in disclosures
        ],
    }
    scope = "" if verified else f", as any of the area's sources ({len(runs)} check(s))"
    if not disclosures:
        summary = (
            f"no disclosure by differencing against {len(compared)} earlier release(s)"
            f"{scope} ({details['published_cells']} published cells, "
            f"{details['checked_cells']} hidden checked)"
        )
        return CheckResult(DIFFERENCING, CheckVerdict.PASS, summary, details)
    lines = [explain_disclosure(d) for d in disclosures]
    summary = f"{len(lines)} cell(s) would be disclosed by differencing{scope}:" + list_disclosures(
        lines
    )
    return CheckResult(DIFFERENCING, CheckVerdict.FAIL, summary, details)


def _disclosure_dict(d: Disclosure) -> dict[str, Any]:
    return {
        "table": d.table,
        "codes": d.codes,
        "exact": d.exact,
        "revealed_by": [[t, codes, c] for t, codes, c in d.revealed_by[:8]],
    }
