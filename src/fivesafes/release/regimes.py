"""One perturbation regime per source: how a source's cells are made public, kept the same.

Each method is consistent with itself: suppression publishes true values; the cell key
method and random rounding draw each cell's noise from its cell key, so the same cell
gets the same value in every table *under the same ptable, parameters and record keys*.
Two regimes on one source break that: a cell published once with the cell key method's
noise and once random-rounded (or under two ptables, two bases, two key secrets) gives
two independent noisy values to intersect or average; a perturbed value next to the
exact one (suppression publishes it) tells the noise, and so the draw of the keys that
also perturb the other cells. Cells need not even be shared: the exact total of a
suppression table is the sum of its exact cells, so it is as good as published. So the
register keeps one regime per source (and per family of datasets), and refuses a table
whose regime differs from that of an earlier release or pending request of the source.

Controlled rounding rounds each table on its own (no keys): two controlled-rounded
tables may round a shared cell to two multiples. It is never consistent, even with
itself: a source with one controlled-rounded table has no other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fivesafes.release.checks import CheckResult, CheckVerdict
from fivesafes.release.families import Family
from fivesafes.release.submission import TableSubmission
from fivesafes.sdc import RULE_FIELDS, TableSpec, ptable_identity

REGIME = "regime"
SUPPRESSION = "suppression"
CONTROLLED = "controlled-rounding"
STORED_KEYS = "drawn at ingest"  # a stored dataset's record keys (vault/record_keys.py)
UNKNOWN = "unknown"

# What decides a published value, per method: the cell key method's counts read the
# count ptable; its magnitudes the noise ptable, the top contributions and (for a
# sensitive cell's push) the rules; random rounding its base. The record keys, for both.
_COUNT_PARAMETERS = ("D", "V", "js")
_MAGNITUDE_PARAMETERS = (
    "top_k",
    "epsilon",
    "magnitude_percent",
    "magnitude_D",
    "magnitude_V",
    "magnitude_step",
)
# A parameter a report made before it existed does not record, and the value in force
# then: the noise ptable had whole steps (sdc/perturbation/noise.py), so such a release
# matches a table of magnitude_step 1 and no other.
_BEFORE_RECORDED = {"magnitude_step": 1}


@dataclass(frozen=True)
class Regime:
    """How a table's cells are made public: the method and what decides its values."""

    method: str
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def consistent(self) -> bool:
        """Whether the same cell is published with the same value in every table of this
        regime (controlled rounding rounds each table on its own; an unknown part fails)."""
        return self.method != CONTROLLED and all(v != UNKNOWN for _, v in self.parameters)

    def matches(self, other: Regime) -> bool:
        """Whether cells published under both regimes are published the same way."""
        return self.consistent and other.consistent and self == other

    def describe(self) -> str:
        """The method and its parameters, in one phrase (no cell, no value)."""
        if not self.parameters:
            return self.method
        return f"{self.method} ({', '.join(f'{k} {v}' for k, v in self.parameters)})"

    def to_dict(self) -> dict[str, Any]:
        """For a check's details."""
        return {"method": self.method, "parameters": dict(self.parameters)}


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return format(float(value), ".15g")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


def _keys(keys: Mapping[str, Any]) -> str:
    """The record-key scheme: the stored dataset's keys, or a secret (by its fingerprint)
    over an identifier column; anything else is unknown (never matches: fail closed)."""
    origin = str(keys.get("origin") or "")
    if origin.startswith("stored column"):
        return stored_keys(str(keys.get("drawn") or ""))
    fingerprint, column = keys.get("fingerprint"), keys.get("record_id")
    if fingerprint and column:
        return f"secret {fingerprint} over {column}"
    return UNKNOWN


def _regime(
    method: str,
    frequency: bool,
    parameters: Mapping[str, Any],
    ptable: str,
    rounding: Mapping[str, Any],
    rules: Mapping[str, Any],
    keys: str,
) -> Regime:
    if method == SUPPRESSION:
        return Regime(SUPPRESSION)
    if method == "cellkey":
        names = _COUNT_PARAMETERS if frequency else _MAGNITUDE_PARAMETERS
        pairs = [(n, _text(parameters.get(n, _BEFORE_RECORDED.get(n, UNKNOWN)))) for n in names]
        pairs.append(("ptable", ptable))
        if not frequency:
            pairs += [(f"rule {r}", _text(rules.get(r))) for r in RULE_FIELDS if r in rules]
        return Regime(method, (*pairs, ("record keys", keys)))
    base = ("base", _text(rounding.get("base", UNKNOWN)))
    if method == "random-rounding":
        return Regime(method, (base, ("record keys", keys)))
    return Regime(method, (base,))


def regime_of_report(report: Mapping[str, Any], *, frequency: bool) -> Regime:
    """The regime a protected table's report.json records (no ``protection``: suppression)."""
    section = report.get("protection") or {}
    method = str(section.get("method") or SUPPRESSION)
    parameters = section.get("parameters") or {}
    ptable = (section.get("ptable") or {}).get("identity")
    if ptable is None:  # a report from before the identity was recorded: the path it names
        named = parameters.get("ptable" if frequency else "magnitude_ptable")
        ptable = f"file {named}" if named else "generated"
    rules = report.get("rules") or {}
    keys = _keys(section.get("keys") or {})
    return _regime(method, frequency, parameters, str(ptable), parameters, rules, keys)


def regime_of_submission(table: TableSubmission) -> Regime:
    """The regime of a submitted table."""
    return regime_of_report(table.report, frequency=table.frequency)


def stored_keys(drawn: str) -> str:
    """A stored dataset's record keys, with how they were drawn where the report says (by
    unit in a family, or by row of one file): keys drawn apart never match."""
    return f"{STORED_KEYS} ({drawn})" if drawn else STORED_KEYS


def regime_of_spec(spec: TableSpec, keys: str = STORED_KEYS) -> Regime:
    """The regime ``spec`` will be protected under from a stored dataset (its keys drawn at
    ingest as ``keys`` says), before any work: what ``table protect --dataset`` checks early."""
    p = spec.perturbation
    ptable = ptable_identity(p.ptable if spec.is_frequency else p.magnitude_ptable)
    return _regime(
        spec.protection,
        spec.is_frequency,
        p.as_dict(),
        ptable,
        spec.rounding.as_dict(),
        spec.rules.as_dict(),
        keys,
    )


@dataclass(frozen=True)
class Earlier:
    """A release or pending request of the source (or its family), with its regime."""

    label: str  # REL-0001, request 3 v1, an answer's label
    source: str
    regime: Regime
    pending: bool = False

    @property
    def where(self) -> str:
        state = "is pending" if self.pending else "was published"
        return f"{self.label} of {self.source} {state}"


def _dataset_measure(source: str) -> tuple[str, str]:
    dataset, _, measure = source.partition(":")
    return dataset, measure


def in_scope(
    source: str,
    verified: bool,
    other: str,
    other_verified: bool,
    families: Sequence[Family],
    agree: Callable[[], bool],
) -> bool:
    """Whether a release of ``other`` publishes cells of the same units and measure as an
    output of ``source``, as the differencing check links them: the same source; a member
    of its family with the same measure; a source only declared (either side) with the
    same measure whose cells agree with the output's (``agree``: it may be these data)."""
    if other == source:
        return True
    dataset, measure = _dataset_measure(source)
    other_dataset, other_measure = _dataset_measure(other)
    if measure != other_measure:
        return False
    for f in families:
        members = (f.parent, *f.derived)
        if dataset in members and other_dataset in members:
            return True
    return (not verified or not other_verified) and agree()


def clashes(regime: Regime, earlier: Sequence[Earlier]) -> list[Earlier]:
    """The earlier outputs whose regime ``regime`` does not match."""
    return [e for e in earlier if not regime.matches(e.regime)]


def clash_reason(label: str, regime: Regime, found: Earlier) -> str:
    """Why ``label`` cannot be published beside ``found``, and what to do (no value)."""
    if CONTROLLED in (regime.method, found.regime.method):
        why = (
            "controlled rounding rounds each table on its own, so a cell the two share may be "
            "published as two different multiples (or beside its exact or perturbed value): "
            "a source with a controlled-rounded table publishes no other"
        )
    else:
        why = (
            "the same cells published under two regimes give two independent noisy values "
            "of a cell to intersect or average, or its exact value beside a perturbed one, "
            "which tells the noise and the draws of the record keys"
        )
    return (
        f"{label} is protected by {regime.describe()}, but {found.where} protected by "
        f"{found.regime.describe()}: {why}"
    )


def what_to_do(found: Sequence[Earlier]) -> str:
    """The way out of a clash (never a weaker protection)."""
    first = found[0]
    wait = f", or wait until {first.label} is withdrawn or rejected" if first.pending else ""
    same = (
        f"protect the table again with the same method and parameters as {first.label} "
        f"({first.regime.describe()}){wait}"
        if first.regime.consistent
        else f"no other table of the source can follow {first.label}{wait}"
    )
    return (
        f"{same}; a change of a source's method needs a review of the methodology (by the "
        "head of profession) before anything more of the source is published"
    )


def regime_check(
    label: str, source: str, regime: Regime, earlier: Sequence[Earlier]
) -> CheckResult:
    """Fail when ``regime`` differs from that of an earlier release or pending request of
    the source (``earlier``, already scoped); a controlled-rounded table fails beside any."""
    found = clashes(regime, earlier)
    details: dict[str, Any] = {
        "regime": regime.to_dict(),
        "compared": [e.label for e in earlier],
        "clashes": [
            {"output": e.label, "source": e.source, "pending": e.pending, **e.regime.to_dict()}
            for e in found
        ],
    }
    if found:
        reasons = [clash_reason(label, regime, e) for e in found[:3]]
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        summary = "; ".join(reasons) + more + ". To publish: " + what_to_do(found)
        return CheckResult(REGIME, CheckVerdict.FAIL, summary, details)
    if not earlier:
        summary = f"{regime.describe()}: the first output of {source}"
    else:
        summary = (
            f"{regime.describe()}: as {len(earlier)} earlier output(s) of {source} "
            f"({', '.join(e.label for e in earlier[:5])}{'...' if len(earlier) > 5 else ''})"
        )
    return CheckResult(REGIME, CheckVerdict.PASS, summary, details)


EXACT = Regime(SUPPRESSION)  # an answer's figure: the true value of its cell


def figure_clash_reason(label: str, source: str, found: Sequence[Earlier]) -> str:
    """Why the exact figure ``label`` cannot leave beside the perturbed outputs ``found``
    of its source, and what the officer does instead (no value, never a weaker check)."""
    first = found[0]
    if first.pending:
        instead = (
            f"wait until {first.label} is published and answer with its figure (fivesafes "
            f"request attach-release), or until it is withdrawn or rejected"
        )
    else:
        instead = (
            f"answer with the published figure of {first.label} (fivesafes request "
            f"attach-release CASE {first.label}; FOIA s21: information reasonably accessible "
            "by other means)"
        )
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return (
        f"{REGIME}: {label} is an exact figure of {source}, but {first.where} "
        f"protected by {first.regime.describe()}{more}: the exact value beside the "
        "perturbed one tells the noise, and so the draws of the record keys that also "
        f"perturb the source's other cells. Instead: {instead}; or withhold the exact "
        "figure (fivesafes request exempt: FOIA s44 with SRSA 2007 s39, or s40(2)); the "
        "exact figure is never given beside the perturbed one"
    )
