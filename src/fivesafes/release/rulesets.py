"""Disclosure rules as versioned settings of the organisation; does a table meet them?

A rule set is a name, a version and the parameters of ``fivesafes.sdc.RuleSet``
(threshold, dominance, p%, ...), validated by the same function as a spec's [rules]
table. Organisations differ (thresholds of 3, 7 and 10 are all common), so the rules
are data, never module globals; every release records the version it was checked against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fivesafes.errors import SpecError, ValidationError
from fivesafes.sdc import parse_rules

DEFAULT_RULE_SET = "standard"


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


def parse_parameters(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate rule parameters with the spec's own validator; ValidationError says what is wrong.

    Returns every parameter in force, defaults included (``RuleSet.as_dict``).
    """
    try:
        rules = parse_rules(dict(raw))
    except SpecError as exc:
        raise ValidationError(
            exc.message.removeprefix("[rules] "),
            hint=exc.hint or "docs/tables.md ([rules]) gives each parameter's range",
        ) from None
    return rules.as_dict()


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
