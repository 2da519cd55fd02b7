"""Table specifications: frozen, validated dataclasses, loaded from TOML.

A spec says what to tabulate (response, contributor, weight, dimensions and their
hierarchies), which primary rules decide sensitivity, and how secondary
suppression is done. Relative paths resolve from the spec file.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fivesafes.errors import SpecError
from fivesafes.sdc.hierarchy import DEFAULT_TOTAL_CODE
from fivesafes.sdc.spec_methods import (
    PerturbationSpec,
    ProtectionMethod,
    RoundingSpec,
    parse_perturbation,
    parse_protection,
    parse_rounding,
)
from fivesafes.sdc.spec_values import is_number as _is_number
from fivesafes.sdc.spec_values import is_whole as _is_whole
from fivesafes.sdc.spec_values import number as _number
from fivesafes.sdc.spec_values import only_keys as _only_keys
from fivesafes.sdc.spec_values import population_filter
from fivesafes.sdc.spec_values import string_value as _str
from fivesafes.sdc.suggest import did_you_mean

SecondaryMethod = Literal["auto", "optimal", "modular", "fast", "none"]
CostFunction = Literal["value", "unit", "contributors", "log"]
ZeroPolicy = Literal["safe", "sensitive"]
NegativePolicy = Literal["error", "absolute"]
SECONDARY_METHODS: tuple[str, ...] = ("auto", "optimal", "modular", "fast", "none")
COST_FUNCTIONS: tuple[str, ...] = ("value", "unit", "contributors", "log")


# The keys of [rules] (RuleSet's fields): what a spec may set, and what a release's
# regime compares (release/regimes.py)
RULE_FIELDS = (
    "threshold",
    "threshold_protection_percent",
    "dominance",
    "p_percent",
    "pq",
    "frequency_threshold",
    "zeros",
    "negatives",
    "apply_weights",
)


@dataclass(frozen=True)
class DimensionSpec:
    """One spanning variable: a data column and its hierarchy (or a flat list with a total)."""

    name: str
    hierarchy: Path | None = None
    total_code: str = DEFAULT_TOTAL_CODE


@dataclass(frozen=True)
class RuleSet:
    """Primary-sensitivity rules and the protection each one requires."""

    threshold: int | None = 3
    threshold_protection_percent: float = 10.0
    dominance: tuple[tuple[int, float], ...] = ()
    p_percent: float | None = None
    pq: tuple[float, float] | None = None
    frequency_threshold: int | None = None
    zeros: ZeroPolicy = "safe"
    negatives: NegativePolicy = "error"
    apply_weights: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Every parameter in force, defaults included (for report.json)."""
        return {
            "threshold": self.threshold,
            "threshold_protection_percent": self.threshold_protection_percent,
            "dominance": [list(r) for r in self.dominance],
            "p_percent": self.p_percent,
            "pq": list(self.pq) if self.pq else None,
            "frequency_threshold": self.frequency_threshold,
            "zeros": self.zeros,
            "negatives": self.negatives,
            "apply_weights": self.apply_weights,
        }


@dataclass(frozen=True)
class SuppressionSpec:
    """How secondary (complementary) suppression is chosen and what the attacker knows."""

    method: SecondaryMethod = "auto"
    cost: CostFunction = "value"
    total_cost_factor: float = 1.0
    time_limit: float = 60.0
    gap: float = 0.0
    singleton: bool = True
    a_priori_percent: float | None = None  # attacker's bounds: value +/- this %, else [0, inf)

    def as_dict(self) -> dict[str, Any]:
        """Every parameter in force, defaults included (for report.json)."""
        return {
            "method": self.method,
            "cost": self.cost,
            "total_cost_factor": self.total_cost_factor,
            "time_limit": self.time_limit,
            "gap": self.gap,
            "singleton": self.singleton,
            "a_priori_percent": self.a_priori_percent,
        }


@dataclass(frozen=True)
class TableSpec:
    """A table to protect: what is counted or summed, over which dimensions, under which rules."""

    name: str
    dimensions: tuple[DimensionSpec, ...]
    response: str | None = None
    contributor: str | None = None
    holding: str | None = None
    weight: str | None = None
    rules: RuleSet = field(default_factory=RuleSet)
    suppression: SuppressionSpec = field(default_factory=SuppressionSpec)
    protection: ProtectionMethod = "suppression"
    perturbation: PerturbationSpec = field(default_factory=PerturbationSpec)
    rounding: RoundingSpec = field(default_factory=RoundingSpec)
    source_text: str = ""
    source_path: Path | None = None
    unit: str | None = None  # what the values are measured in, e.g. "GBP thousand"
    # the units tabulated: (column, values kept) pairs; () for every unit (sdc/population.py)
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def is_frequency(self) -> bool:
        """True for a count table (no response variable)."""
        return self.response is None

    @property
    def dimension_names(self) -> tuple[str, ...]:
        """The dimension columns, in spec order."""
        return tuple(d.name for d in self.dimensions)

    @property
    def spec_hash(self) -> str:
        """SHA-256 of the spec's source text (or of its canonical form when built in code)."""
        text = self.source_text or repr(self)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_spec(path: str | Path) -> TableSpec:
    """Read and validate a TOML table spec; relative paths resolve from its folder."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file not found: {path}", hint="give the path of a .toml table spec")
    if path.stat().st_size == 0:
        raise SpecError(
            f"spec file {path} is empty (0 bytes)",
            hint="a spec needs at least [table] with a name and one [[dimension]] "
            "(see examples/turnover.toml)",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start} (a file saved as "
            "Latin-1 or Windows-1252 looks like this)",
            hint="save the spec as UTF-8 (TOML files are UTF-8)",
        ) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(
            f"{path} is not valid TOML: {exc}",
            hint="fix that line: sections are [table], [[dimension]], [rules], [suppression]; "
            'text goes in double quotes (name = "region"); copy examples/turnover.toml to '
            "start from a spec that works",
        ) from exc
    return parse_spec(raw, base_dir=path.parent, source_text=text, source_path=path)


# where each section's keys are explained, for an error raised without a hint of its own
_SECTION_DOCS = {
    "[rules]": "docs/tables.md, [rules]",
    "[suppression]": "docs/secondary.md, Using it",
    "[perturbation]": "docs/perturbation.md",
    "[rounding]": "docs/perturbation.md",
}


def _with_hint(exc: SpecError) -> SpecError:
    """``exc``, with a 'what to do' when it was raised without one (every spec error has one)."""
    if exc.hint:
        return exc
    message = exc.message
    section = next((s for s in _SECTION_DOCS if s in message), None)
    quoted = re.search(r"got '([0-9.eE+-]+)'$", message)
    advice = (
        f"write the number without quotes ({quoted.group(1)}, not '{quoted.group(1)}'); "
        if quoted
        else ""
    )
    where = _SECTION_DOCS[section] if section else "docs/tables.md, The spec"
    exc.hint = (
        f"{advice}correct the value in the spec: every key, its default and its range are in "
        f"{where}; examples/turnover.toml has each key with a comment"
    )
    return exc


def parse_spec(
    raw: dict[str, Any],
    *,
    base_dir: Path | None = None,
    source_text: str = "",
    source_path: Path | None = None,
) -> TableSpec:
    """Validate a spec given as a dict (the TOML's structure)."""
    try:
        return _parse_spec(raw, base_dir, source_text, source_path)
    except SpecError as exc:
        raise _with_hint(exc) from exc.__cause__


def _parse_spec(
    raw: dict[str, Any], base_dir: Path | None, source_text: str, source_path: Path | None
) -> TableSpec:
    base = base_dir or Path.cwd()
    _only_keys(
        raw, {"table", "dimension", "rules", "suppression", "perturbation", "rounding"}, "the spec"
    )
    table = raw.get("table")
    if not isinstance(table, dict):
        raise SpecError("the spec needs a [table] section", hint='add [table] with name = "..."')
    _only_keys(
        table,
        {"name", "response", "contributor", "holding", "weight", "protection", "unit", "where"},
        "[table]",
    )
    name = _str(table, "name", "[table]", required=True)
    assert name is not None
    _check_table_name(name)
    dims_raw = raw.get("dimension")
    if not isinstance(dims_raw, list) or not dims_raw:
        raise SpecError(
            "the spec needs at least one [[dimension]]",
            hint='add [[dimension]] with name = "<column>" (and hierarchy = "<file>.csv")',
        )
    dims: list[DimensionSpec] = []
    for i, d in enumerate(dims_raw, start=1):
        where = f"[[dimension]] #{i}"
        if not isinstance(d, dict):
            raise SpecError(f"{where} must be a table")
        _only_keys(d, {"name", "hierarchy", "total_code"}, where)
        dname = _str(d, "name", where, required=True)
        assert dname is not None
        h = _str(d, "hierarchy", where)
        total = _str(d, "total_code", where) or DEFAULT_TOTAL_CODE
        dims.append(
            DimensionSpec(name=dname, hierarchy=(base / h) if h else None, total_code=total)
        )
    names = [d.name for d in dims]
    if len(set(names)) != len(names):
        raise SpecError(f"dimension names repeat: {names}", hint="each dimension once")
    response = _str(table, "response", "[table]")
    contributor = _str(table, "contributor", "[table]")
    holding = _str(table, "holding", "[table]")
    weight = _str(table, "weight", "[table]")
    unit = _str(table, "unit", "[table]")
    kept = population_filter(table.get("where"), "[table]")
    used = [c for c in (response, contributor, holding, weight) if c]
    clash = sorted(set(used) & set(names))
    if clash:
        raise SpecError(f"column(s) {clash} are both a dimension and a table variable")
    filtered = sorted({c for c, _ in kept} & set(names))
    if filtered:
        raise SpecError(
            f"column(s) {filtered} are both a dimension and in [table] where",
            hint="tabulate a column or filter on it, not both",
        )
    if holding and not contributor:
        raise SpecError(
            "[table] holding needs a contributor column",
            hint="holdings group contributors; name the contributor column too",
        )
    rules = parse_rules(raw.get("rules", {}), frequency=response is None)
    suppression = _parse_suppression(raw.get("suppression", {}))
    protection = parse_protection(table.get("protection", "suppression"))
    perturbation = parse_perturbation(raw.get("perturbation", {}), base=base)
    rounding = parse_rounding(raw.get("rounding", {}), frequency=response is None)
    return TableSpec(
        name=name,
        dimensions=tuple(dims),
        response=response,
        contributor=contributor,
        holding=holding,
        weight=weight,
        rules=rules,
        suppression=suppression,
        protection=protection,
        perturbation=perturbation,
        rounding=rounding,
        source_text=source_text,
        source_path=source_path,
        unit=unit,
        where=kept,
    )


def parse_rules(raw: Any, *, frequency: bool = False) -> RuleSet:
    """Validate primary-rule parameters: a spec's [rules] table or an organisation's rule set.

    The one validator of rule parameters (``release.rulesets`` uses it too), so a rule
    set cannot hold a value a spec would refuse. ``frequency``: the table counts (no
    response), so dominance, p% and pq cannot apply. Raises SpecError.
    """
    if not isinstance(raw, dict):
        raise SpecError("[rules] must be a table")
    allowed = set(RULE_FIELDS)
    _only_keys(raw, allowed, "[rules]")
    defaults = RuleSet()
    threshold = raw.get("threshold", defaults.threshold)
    if threshold is not None and (not _is_whole(threshold) or threshold < 1):
        raise SpecError(f"[rules] threshold must be a whole number >= 1, got {threshold!r}")
    threshold = None if threshold is None else int(threshold)
    tpp = _number(raw, "threshold_protection_percent", defaults.threshold_protection_percent)
    if tpp < 0:
        raise SpecError("[rules] threshold_protection_percent must be >= 0")
    dominance: list[tuple[int, float]] = []
    dominance_raw = raw.get("dominance", [])
    if not isinstance(dominance_raw, list):
        raise SpecError(
            f"[rules] dominance must be a list of [n, k] pairs, got {dominance_raw!r}",
            hint="e.g. dominance = [[1, 50], [2, 85]]",
        )
    for item in dominance_raw:
        if (
            not isinstance(item, list | tuple)
            or len(item) != 2
            or not _is_whole(item[0])
            or not _is_number(item[1])
        ):
            raise SpecError(
                f"[rules] dominance entries are [n, k] pairs, got {item!r}",
                hint="e.g. dominance = [[1, 50], [2, 85]]",
            )
        n, k = int(item[0]), float(item[1])
        if n < 1 or not 0 < k <= 100:
            raise SpecError(f"[rules] dominance ({n}, {k}): need n >= 1 and 0 < k <= 100")
        dominance.append((n, k))
    p = raw.get("p_percent")
    if p is not None and (not _is_number(p) or not 0 < p <= 100):
        raise SpecError(f"[rules] p_percent must be in (0, 100], got {p!r}")
    pq_raw = raw.get("pq")
    pq: tuple[float, float] | None = None
    if pq_raw is not None:
        if (
            not isinstance(pq_raw, list | tuple)
            or len(pq_raw) != 2
            or not all(_is_number(x) for x in pq_raw)
            or not 0 < pq_raw[0] < pq_raw[1] <= 100
        ):
            raise SpecError(
                f"[rules] pq must be [p, q] with 0 < p < q <= 100, got {pq_raw!r}",
                hint="e.g. pq = [10, 50]: the attacker knows values to within q%, "
                "and must not estimate a contributor to within p%",
            )
        pq = (float(pq_raw[0]), float(pq_raw[1]))
    ft = raw.get("frequency_threshold")
    if ft is not None and (not _is_whole(ft) or ft < 1):
        raise SpecError(f"[rules] frequency_threshold must be a whole number >= 1, got {ft!r}")
    ft = None if ft is None else int(ft)
    zeros = raw.get("zeros", defaults.zeros)
    if zeros not in ("safe", "sensitive"):
        raise SpecError(
            f"[rules] zeros must be 'safe' or 'sensitive', got {zeros!r}"
            f"{did_you_mean(str(zeros), ('safe', 'sensitive'))}"
        )
    negatives = raw.get("negatives", defaults.negatives)
    if negatives not in ("error", "absolute"):
        raise SpecError(
            f"[rules] negatives must be 'error' or 'absolute', got {negatives!r}"
            f"{did_you_mean(str(negatives), ('error', 'absolute'))}"
        )
    apply_weights = raw.get("apply_weights", defaults.apply_weights)
    if not isinstance(apply_weights, bool):
        raise SpecError("[rules] apply_weights must be true or false")
    if frequency and (dominance or p is not None or pq is not None):
        raise SpecError(
            "dominance, p% and pq rules need a response (magnitude) variable",
            hint="set [table] response, or use threshold / frequency_threshold for counts",
        )
    return RuleSet(
        threshold=threshold,
        threshold_protection_percent=tpp,
        dominance=tuple(dominance),
        p_percent=float(p) if p is not None else None,
        pq=pq,
        frequency_threshold=ft,
        zeros=zeros,
        negatives=negatives,
        apply_weights=apply_weights,
    )


def _parse_suppression(raw: Any) -> SuppressionSpec:
    if not isinstance(raw, dict):
        raise SpecError("[suppression] must be a table")
    _only_keys(
        raw,
        {
            "method",
            "cost",
            "total_cost_factor",
            "time_limit",
            "gap",
            "singleton",
            "a_priori_percent",
        },
        "[suppression]",
    )
    d = SuppressionSpec()
    method = raw.get("method", d.method)
    if method not in SECONDARY_METHODS:
        raise SpecError(
            f"[suppression] method must be one of {SECONDARY_METHODS}, got {method!r}"
            f"{did_you_mean(str(method), SECONDARY_METHODS)}"
        )
    cost = raw.get("cost", d.cost)
    if cost not in COST_FUNCTIONS:
        raise SpecError(
            f"[suppression] cost must be one of {COST_FUNCTIONS}, got {cost!r}"
            f"{did_you_mean(str(cost), COST_FUNCTIONS)}"
        )
    factor = _number(raw, "total_cost_factor", d.total_cost_factor)
    time_limit = _number(raw, "time_limit", d.time_limit)
    gap = _number(raw, "gap", d.gap)
    if factor <= 0 or time_limit <= 0 or gap < 0:
        raise SpecError("[suppression] total_cost_factor and time_limit must be > 0, gap >= 0")
    singleton = raw.get("singleton", d.singleton)
    if not isinstance(singleton, bool):
        raise SpecError("[suppression] singleton must be true or false")
    apr = raw.get("a_priori_percent")
    if apr is not None and (not _is_number(apr) or apr <= 0):
        raise SpecError("[suppression] a_priori_percent must be a number > 0")
    return SuppressionSpec(
        method=method,
        cost=cost,
        total_cost_factor=factor,
        time_limit=time_limit,
        gap=gap,
        singleton=singleton,
        a_priori_percent=float(apr) if apr is not None else None,
    )


def _check_table_name(name: str) -> None:
    # the name becomes a folder (OUT/<name>/ when several specs run together): a path
    # in it would write confidential cells outside the output folder
    if (
        name in (".", "..")
        or name.startswith(".")
        or any(c in name for c in "/\\:")
        or not name.isprintable()
    ):
        raise SpecError(
            f"[table] name {name!r} cannot be used as a folder name",
            hint="use letters, digits, '_', '-' and '.' (not first), "
            'e.g. name = "turnover_by_region"',
        )
