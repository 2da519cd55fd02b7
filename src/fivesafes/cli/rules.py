"""``fivesafes rules``: the organisation's disclosure rules, as versioned rule sets."""

from __future__ import annotations

from typing import Any

import click

from fivesafes.cli.acting import acting, emit, json_option
from fivesafes.release.rulesets import RuleSetting
from fivesafes.services.release import rule_sets


def _rule_line(r: RuleSetting) -> str:
    params = ", ".join(f"{k}={v}" for k, v in sorted(r.parameters.items()) if v not in (None, []))
    return f"{r.label:<16} by {r.created_by} {r.created_at:%Y-%m-%d}: {params}"


@click.group()
def rules() -> None:
    """The organisation's disclosure rules: versioned rule sets.

    \b
    Every release records the version it was checked against; a table whose
    rules are weaker than the version in force is refused.

    \b
    Examples:
      fivesafes rules set standard --threshold 7 --dominance 1,50 --note "policy 2026"
      fivesafes rules list
    """


@rules.command("set")
@click.argument("name")
@click.option("--threshold", type=int, help="Minimum contributors per cell.")
@click.option("--p-percent", type=float)
@click.option("--dominance", "dominance", multiple=True, help="N,K (repeatable).")
@click.option("--frequency-threshold", type=int)
@click.option("--zeros", type=click.Choice(["safe", "sensitive"]))
@click.option("--note", default="")
@json_option
def set_(
    name: str,
    threshold: int | None,
    p_percent: float | None,
    dominance: tuple[str, ...],
    frequency_threshold: int | None,
    zeros: str | None,
    note: str,
    as_json: bool,
) -> None:
    """Put a new version of rule set NAME in force.

    \b
    Example:
      fivesafes rules set standard --threshold 10 --p-percent 15
    """
    params: dict[str, Any] = {"threshold": threshold}
    if p_percent is not None:
        params["p_percent"] = p_percent
    if dominance:
        params["dominance"] = [[float(x) for x in d.split(",")] for d in dominance]
    if frequency_threshold is not None:
        params["frequency_threshold"] = frequency_threshold
    if zeros:
        params["zeros"] = zeros
    with acting() as (_ws, session, actor):
        made = rule_sets.define_rule_set(session, actor, name, params, note)
    emit(made, as_json, lambda: "in force: " + _rule_line(made))


@rules.command("list")
@json_option
def list_rules(as_json: bool) -> None:
    """List every version of every rule set.

    \b
    Example:
      fivesafes rules list --json
    """
    with acting() as (_ws, session, _actor):
        found = rule_sets.list_rule_sets(session)
    emit(found, as_json, lambda: "\n".join(_rule_line(r) for r in found) or "no rule sets")
