"""``fivesafes dataset``: the dataset register."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from fivesafes.cli.acting import DATE, as_date, call, emit, json_option


def _line(d: dict[str, Any]) -> str:
    kind = "confidential" if d["confidential"] else "not confidential by the definition"
    derived = ""
    if d.get("derived_from"):
        derived = f"; derived from {d['derived_from']} (unit {d['unit']})"
    elif d.get("unit"):
        derived = (
            f"; unit {d['unit']} (record keys by unit, as in every dataset of the area "
            "naming it; parent of any derived dataset)"
        )
    return f"{d['name']:<20} area {d['area']:<16} {kind}; basis: {d['lawful_basis']}{derived}"


@click.group()
def dataset() -> None:
    """Register datasets: area, confidentiality, source, lawful basis, retention.

    Data are confidential when they relate to an identifiable entity, are not
    public, and would cause damage, harm or distress if disclosed.

    \b
    Examples:
      fivesafes dataset add ashe --area earnings --source "ASHE survey" \\
          --lawful-basis "SRSA 2007 s.45" --retention 2030-12-31 --privacy-notice PN-12
      fivesafes dataset list --area earnings
    """


@dataset.command("add")
@click.argument("name")
@click.option("--area", "area_name", required=True, help="Restricted area holding it.")
@click.option("--source", required=True, help="Where the data come from.")
@click.option("--lawful-basis", required=True, help="Statutory basis for holding and using it.")
@click.option(
    "--identifiable/--not-identifiable",
    default=True,
    show_default=True,
    help="Relates to an identifiable person or business.",
)
@click.option(
    "--not-public/--public",
    "not_public",
    default=True,
    show_default=True,
    help="Not in the public domain.",
)
@click.option(
    "--harmful/--not-harmful",
    default=True,
    show_default=True,
    help="Disclosure would cause damage, harm or distress.",
)
@click.option("--retention", type=DATE, help="Delete by this date (YYYY-MM-DD).")
@click.option("--privacy-notice", help="Reference of the privacy notice.")
@click.option(
    "--derived-from",
    help="A dataset (same area) whose units this one is a subset of: their releases are "
    "checked together for differencing.",
)
@click.option(
    "--unit",
    help="The column naming the unit (person, enterprise): record keys (cell key method, "
    "random rounding) then follow the unit, not the row, so a re-ingest, a derived dataset or "
    "any dataset of the area naming the same column perturbs the same units the same way. "
    "Required with --derived-from (the column in both).",
)
@json_option
def add(
    name: str,
    area_name: str,
    source: str,
    lawful_basis: str,
    identifiable: bool,
    not_public: bool,
    harmful: bool,
    retention: datetime | None,
    privacy_notice: str | None,
    derived_from: str | None,
    unit: str | None,
    as_json: bool,
) -> None:
    """Register dataset NAME (the area's asset owner or an administrator).

    \b
    Example:
      fivesafes dataset add ashe --area earnings --source "ASHE survey" \\
          --lawful-basis "SRSA 2007 s.45" --unit enterprise
      fivesafes dataset add ashe-small --area earnings --source "ASHE, small firms" \\
          --lawful-basis "SRSA 2007 s.45" --derived-from ashe --unit enterprise
    """
    made = call(
        "dataset.add",
        name=name,
        area=area_name,
        identifiable=identifiable,
        not_public=not_public,
        harmful=harmful,
        source=source,
        lawful_basis=lawful_basis,
        retention=as_date(retention),
        privacy_notice=privacy_notice,
        derived_from=derived_from,
        unit=unit,
    )
    emit(made, as_json, lambda: f"registered {_line(made)}")


@dataset.command("list")
@click.option("--area", "area_name", help="Only this area.")
@json_option
def list_(area_name: str | None, as_json: bool) -> None:
    """List registered datasets.

    \b
    Example:
      fivesafes dataset list --area earnings --json
    """
    found = call("dataset.list", area=area_name)
    emit(found, as_json, lambda: "\n".join(_line(d) for d in found) or "no datasets")


@dataset.command("show")
@click.argument("name")
@json_option
def show(name: str, as_json: bool) -> None:
    """Show one dataset's register entry.

    \b
    Example:
      fivesafes dataset show ashe
    """
    found = call("dataset.show", name=name)
    emit(found, as_json, lambda: _line(found))
