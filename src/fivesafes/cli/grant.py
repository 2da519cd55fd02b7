"""``fivesafes grant``: need-to-know grants to restricted areas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from fivesafes.cli.acting import DATE, as_date, call, emit, json_option


def _line(g: dict[str, Any]) -> str:
    return (
        f"#{g['id']:<5} {g['person']:<16} {g['area']:<16} {g['state']:<9} "
        f"{g['start_on']}..{g['end_on']} approver {g['approver'] or '-'}"
    )


@click.group()
def grant() -> None:
    """Need-to-know grants: a person's time-limited access to one restricted area.

    \b
    States: requested -> approved | rejected; approved -> revoked;
    requested/approved -> expired after the end date (automatically).
    Only the area's information asset owner approves, never for themselves.

    \b
    Examples:
      fivesafes grant request ada earnings --justification "Annual earnings bulletin"
      fivesafes grant approve 1 --note "needed for ASHE tables"
      fivesafes grant revoke 1 --reason "project finished"
      fivesafes grant list --person ada
    """


@grant.command("request")
@click.argument("login")
@click.argument("area_name", metavar="AREA")
@click.option("--justification", required=True, help="Why LOGIN needs the data.")
@click.option("--purpose", default="statistical", show_default=True, help="Only statistical.")
@click.option("--start", type=DATE, help="First day (default today).")
@click.option("--end", type=DATE, help="Last day (default: grant_default_months from start).")
@json_option
def request(
    login: str,
    area_name: str,
    justification: str,
    purpose: str,
    start: datetime | None,
    end: datetime | None,
    as_json: bool,
) -> None:
    """Request access to AREA for LOGIN (yourself; administrators and IAOs for others).

    \b
    Example:
      fivesafes grant request ada earnings --justification "ASHE tables" --end 2026-12-31
    """
    made = call(
        "grant.request",
        login=login,
        area=area_name,
        justification=justification,
        purpose=purpose,
        start=as_date(start),
        end=as_date(end),
    )
    emit(made, as_json, lambda: f"requested {_line(made)}")


@grant.command("approve")
@click.argument("grant_id", type=int)
@click.option("--note", help="Note kept with the decision.")
@json_option
def approve(grant_id: int, note: str | None, as_json: bool) -> None:
    """Approve grant GRANT_ID (the area's information asset owner only).

    \b
    Example:
      fivesafes grant approve 3 --note "confirmed with team lead"
    """
    done = call("grant.approve", grant_id=grant_id, note=note)
    emit(done, as_json, lambda: f"approved {_line(done)}")


@grant.command("reject")
@click.argument("grant_id", type=int)
@click.option("--reason", required=True, help="Why.")
@json_option
def reject(grant_id: int, reason: str, as_json: bool) -> None:
    """Reject requested grant GRANT_ID (the area's information asset owner only).

    \b
    Example:
      fivesafes grant reject 3 --reason "aggregates are enough"
    """
    done = call("grant.reject", grant_id=grant_id, reason=reason)
    emit(done, as_json, lambda: f"rejected {_line(done)}")


@grant.command("revoke")
@click.argument("grant_id", type=int)
@click.option("--reason", required=True, help="Why.")
@json_option
def revoke(grant_id: int, reason: str, as_json: bool) -> None:
    """Revoke approved grant GRANT_ID (the area's owner or an administrator).

    \b
    Example:
      fivesafes grant revoke 3 --reason "moved team"
    """
    done = call("grant.revoke", grant_id=grant_id, reason=reason)
    emit(done, as_json, lambda: f"revoked {_line(done)}")


@grant.command("expire")
@json_option
def expire(as_json: bool) -> None:
    """Record every grant past its end date as expired (access already stopped).

    \b
    Example:
      fivesafes grant expire
    """
    done = call("grant.expire")
    emit(done, as_json, lambda: f"expired {len(done['expired'])} grant(s)")


@grant.command("list")
@click.option("--person", help="Only this person's grants.")
@click.option("--area", "area_name", help="Only this area's grants.")
@json_option
def list_(person: str | None, area_name: str | None, as_json: bool) -> None:
    """List grants with their state today.

    \b
    Example:
      fivesafes grant list --area earnings --json
    """
    found = call("grant.list", person=person, area=area_name)
    emit(found, as_json, lambda: "\n".join(_line(g) for g in found) or "no grants")
