"""Disclosure rules as versioned settings of the organisation; does a table meet them?

A rule set is a name, a version and the parameters of ``sdc.spec.RuleSet`` (threshold,
dominance, p%, ...). Organisations differ (thresholds of 3, 7 and 10 are all common),
so the rules are data, never module globals; every release records the version it
was checked against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fivesafes.errors import ValidationError
from fivesafes.sdc import RuleSet

DEFAULT_RULE_SET = "standard"
_KNOWN = frozenset(RuleSet().as_dict())


@dataclass(frozen=True)
class RuleSetting:
    """One version of a named rule set."""

    name: str
    version: int
    parameters: Mapping[str, Any]
    created_by: str = ""
    created_at: datetime | None = None
    note: str = ""
    id: int | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        """``name vN``: how reports name it."""
        return f"{self.name} v{self.version}"


def _number(name: str, value: Any, *, minimum: float, integer: bool = False) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"rule parameter {name} must be a number, not {value!r}")
    if integer and not float(value).is_integer():
        raise ValidationError(f"rule parameter {name} must be a whole number, not {value!r}")
    if value < minimum:
        raise ValidationError(f"rule parameter {name} must be at least {minimum:g}, not {value!r}")
    return int(value) if integer else float(value)


def parse_parameters(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate rule parameters; unknown names and out-of-range values raise ValidationError."""
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise ValidationError(
            f"unknown rule parameter(s) {unknown}", hint=f"known: {', '.join(sorted(_KNOWN))}"
        )
    out = RuleSet().as_dict()
    out.update(raw)
    out["threshold"] = _number("threshold", out["threshold"], minimum=1, integer=True)
    out["threshold_protection_percent"] = _number(
        "threshold_protection_percent", out["threshold_protection_percent"], minimum=0
    )
    out["p_percent"] = _number("p_percent", out["p_percent"], minimum=0)
    out["frequency_threshold"] = _number(
        "frequency_threshold", out["frequency_threshold"], minimum=1, integer=True
    )
    dominance = []
    for pair in out["dominance"] or []:
        if len(pair) != 2:
            raise ValidationError(f"dominance rule {pair!r} must be [n, k]", hint="e.g. [[1, 50]]")
        n = _number("dominance n", pair[0], minimum=1, integer=True)
        k = _number("dominance k", pair[1], minimum=0)
        if k > 100:
            raise ValidationError(f"dominance k must be a percentage (0-100), not {k:g}")
        dominance.append([n, k])
    out["dominance"] = dominance
    if out["pq"] is not None:
        pq = list(out["pq"])
        if len(pq) != 2:
            raise ValidationError(f"pq must be [p, q], not {pq!r}")
        out["pq"] = [_number("p", pq[0], minimum=0), _number("q", pq[1], minimum=0)]
    if out["zeros"] not in ("safe", "sensitive"):
        raise ValidationError(f"zeros must be safe or sensitive, not {out['zeros']!r}")
    if out["negatives"] not in ("error", "absolute"):
        raise ValidationError(f"negatives must be error or absolute, not {out['negatives']!r}")
    out["apply_weights"] = bool(out["apply_weights"])
    return out


def _below(name: str, table: Any, org: Any, label: str) -> list[str]:
    if org is None:
        return []
    if table is None:
        return [f"{name} is not applied; the organisation's rule set {label} requires {org:g}"]
    if float(table) < float(org):
        return [f"{name} {table:g} is weaker than {org:g} in the organisation's rule set {label}"]
    return []


def weaknesses(table_rules: Mapping[str, Any], in_force: RuleSetting) -> list[str]:
    """Every way the table's rules (report.json ``rules``) are weaker than ``in_force``."""
    org, label = in_force.parameters, in_force.label
    out: list[str] = []
    out += _below("threshold", table_rules.get("threshold"), org.get("threshold"), label)
    if org.get("threshold") is not None:
        out += _below(
            "threshold_protection_percent",
            table_rules.get("threshold_protection_percent"),
            org.get("threshold_protection_percent"),
            label,
        )
    out += _below("p_percent", table_rules.get("p_percent"), org.get("p_percent"), label)
    out += _below(
        "frequency_threshold",
        table_rules.get("frequency_threshold"),
        org.get("frequency_threshold"),
        label,
    )
    # A dominance rule (n, k) is at least as strict when it looks at as many or more
    # contributors (n' >= n) and flags from as low a share or lower (k' <= k).
    have = [tuple(r) for r in table_rules.get("dominance") or []]
    for n, k in org.get("dominance") or []:
        if not any(n2 >= n and k2 <= k for n2, k2 in have):
            out.append(f"dominance ({n}, {k:g}) of rule set {label} is not applied or weakened")
    if org.get("pq") is not None:
        pq = table_rules.get("pq")
        p, q = org["pq"]
        if pq is None or pq[0] < p or pq[1] > q:
            out.append(f"pq ({p:g}, {q:g}) of rule set {label} is not applied or weakened")
    if org.get("zeros") == "sensitive" and table_rules.get("zeros") != "sensitive":
        out.append(f"zeros must be treated as sensitive under rule set {label}")
    return out
