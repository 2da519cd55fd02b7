"""The rules an output is checked against: ACRO's rule names and defaults, as one frozen value.

ACRO (AI-SDC) reads its rules from a YAML file inside its own package; here they are
a frozen dataclass with the same names and defaults (``ACRO_RULES``), which an
organisation's rule set (``fivesafes rules set``: an ``sdc`` :class:`RuleSet`) or an
ACRO ``config.json`` replaces. Comparisons follow ACRO: a cell fails the threshold
when its count is *below* ``safe_threshold``, the N-k rule when the top N
contributors hold *at least* ``safe_nk_k`` of the total, the p-ratio when
(total - top1 - top2) / top1 is *below* ``safe_pratio_p``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from fivesafes.errors import SpecError
from fivesafes.sdc import RuleSet


@dataclass(frozen=True)
class OutputRules:
    """ACRO's risk parameters (same names, same defaults) plus what real protection needs."""

    safe_threshold: int = 10
    safe_dof_threshold: int = 10
    safe_nk_n: int = 2
    safe_nk_k: float = 0.9
    safe_pratio_p: float = 0.1
    check_missing_values: bool = False
    survival_safe_threshold: int = 10
    zeros_are_disclosive: bool = True
    # the protection a hidden threshold cell needs against an attacker (percent of its value)
    threshold_protection_percent: float = 10.0
    # further (n, k) dominance rules of an organisation's rule set (k as a share, 0-1)
    more_dominance: tuple[tuple[int, float], ...] = ()
    name: str = "acro-default"

    def __post_init__(self) -> None:
        _check(self)

    @property
    def dominance(self) -> tuple[tuple[int, float], ...]:
        """Every (n, k) dominance rule in force, ACRO's N-k first."""
        return ((self.safe_nk_n, self.safe_nk_k), *self.more_dominance)

    @property
    def top_n(self) -> int:
        """How many of the largest contributors per cell the rules need."""
        return max(2, *(n for n, _ in self.dominance))

    def as_acro_config(self) -> dict[str, Any]:
        """The rules as ACRO's ``config.json`` names them (extra fivesafes keys included)."""
        out = asdict(self)
        out["more_dominance"] = [list(r) for r in self.more_dominance]
        return out

    def to_ruleset(self, *, frequency: bool) -> RuleSet:
        """The same rules as an ``sdc`` RuleSet (for report.json and the release rules check)."""
        magnitude = not frequency
        return RuleSet(
            threshold=self.safe_threshold,
            threshold_protection_percent=self.threshold_protection_percent,
            dominance=tuple((n, k * 100.0) for n, k in self.dominance) if magnitude else (),
            p_percent=self.safe_pratio_p * 100.0 if magnitude else None,
            zeros="sensitive" if self.zeros_are_disclosive else "safe",
            negatives="absolute",
        )


def from_ruleset(rules: RuleSet, *, name: str = "organisation") -> OutputRules:
    """An organisation's ``sdc`` rule set as output rules (never weaker than it says).

    The threshold is the larger of its threshold and frequency threshold (survival tables
    use it too); the p-ratio the larger of its p% and pq ratios; every dominance rule is
    kept, and zeros follow its ``zeros`` policy. A rule set without dominance or p% rules
    keeps ACRO's N-k and p-ratio (stricter, never weaker); the residual degrees of freedom,
    which a RuleSet does not have, keep ACRO's default.
    """
    thresholds = [t for t in (rules.threshold, rules.frequency_threshold) if t is not None]
    ratios = [rules.p_percent / 100.0] if rules.p_percent is not None else []
    if rules.pq is not None:
        ratios.append(rules.pq[0] / rules.pq[1])
    dominance = [(n, k / 100.0) for n, k in rules.dominance]
    first = dominance[0] if dominance else (ACRO_RULES.safe_nk_n, ACRO_RULES.safe_nk_k)
    threshold = max(thresholds) if thresholds else 1
    return OutputRules(
        safe_threshold=threshold,
        safe_nk_n=first[0],
        safe_nk_k=first[1],
        safe_pratio_p=max(ratios) if ratios else ACRO_RULES.safe_pratio_p,
        survival_safe_threshold=threshold,
        zeros_are_disclosive=rules.zeros == "sensitive",
        threshold_protection_percent=rules.threshold_protection_percent,
        more_dominance=tuple(dominance[1:]),
        name=name,
    )


def from_acro_config(config: Mapping[str, Any], *, name: str = "acro-config") -> OutputRules:
    """Rules from an ACRO ``config.json`` / ``default.yaml`` mapping (unknown keys ignored)."""
    known = {f.name for f in fields(OutputRules)}
    values: dict[str, Any] = {k: v for k, v in config.items() if k in known}
    if "more_dominance" in values:
        values["more_dominance"] = tuple(tuple(r) for r in values["more_dominance"])
    values.setdefault("name", name)
    return OutputRules(**values)


def resolve_rules(rules: OutputRules | RuleSet | Any | None) -> OutputRules:
    """Output rules from whatever a session is given: None (ACRO's), OutputRules, a RuleSet,
    a stored rule-set version (anything with ``parameters`` and ``label``) or a mapping."""
    if rules is None:
        return ACRO_RULES
    if isinstance(rules, OutputRules):
        return rules
    if isinstance(rules, RuleSet):
        return from_ruleset(rules)
    parameters = getattr(rules, "parameters", None)
    if isinstance(parameters, Mapping):
        raw = dict(parameters)
        raw["dominance"] = tuple(tuple(r) for r in raw.get("dominance") or ())
        raw["pq"] = tuple(raw["pq"]) if raw.get("pq") else None
        known = {f.name for f in fields(RuleSet)}
        return from_ruleset(
            RuleSet(**{k: v for k, v in raw.items() if k in known}),
            name=str(getattr(rules, "label", "organisation")),
        )
    if isinstance(rules, Mapping):
        return from_acro_config(rules)
    raise SpecError(
        f"cannot use {type(rules).__name__} as output rules",
        hint="give OutputRules, an sdc RuleSet, a stored rule set or an ACRO config mapping",
    )


def _check(r: OutputRules) -> None:
    def bad(what: str) -> SpecError:
        return SpecError(f"output rules {r.name!r}: {what}", hint="see docs/outputs.md, Rules")

    for key in ("safe_threshold", "safe_dof_threshold", "survival_safe_threshold", "safe_nk_n"):
        value = getattr(r, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad(f"{key} must be a whole number >= 1, got {value!r}")
    for n, k in r.dominance:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1 or not 0 < float(k) <= 1:
            raise bad(f"dominance ({n}, {k}) needs n >= 1 and 0 < k <= 1 (a share)")
    if not 0 <= float(r.safe_pratio_p) <= 1:
        raise bad(f"safe_pratio_p must be a share in [0, 1], got {r.safe_pratio_p!r}")
    if float(r.threshold_protection_percent) < 0:
        raise bad("threshold_protection_percent must be >= 0")


ACRO_RULES = OutputRules()
