"""``fivesafes rules``: the organisation's disclosure rules, as versioned rule sets."""

from __future__ import annotations

from typing import Any

import click

from fivesafes.cli.acting import call, emit, json_option
from fivesafes.errors import ValidationError


def _pair(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise ValidationError(
            f"--dominance {text!r} is not N,K", hint="e.g. --dominance 1,50"
        ) from None


def _rule_line(r: dict[str, Any]) -> str:
    params = ", ".join(
        f"{k}={v}" for k, v in sorted(r["parameters"].items()) if v not in (None, [])
    )
    return f"{r['label']:<16} by {r['created_by']} {(r['created_at'] or '')[:10]}: {params}"


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
    made = call(
        "rules.set",
        name=name,
        threshold=threshold,
        p_percent=p_percent,
        dominance=[_pair(d) for d in dominance],
        frequency_threshold=frequency_threshold,
        zeros=zeros,
        note=note,
    )
    emit(made, as_json, lambda: "in force: " + _rule_line(made))


@rules.command("list")
@json_option
def list_rules(as_json: bool) -> None:
    """List every version of every rule set.

    \b
    Example:
      fivesafes rules list --json
    """
    found = call("rules.list")
    emit(found, as_json, lambda: "\n".join(_rule_line(r) for r in found) or "no rule sets")
