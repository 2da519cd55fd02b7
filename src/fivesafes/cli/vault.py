"""Vault commands: ``dataset ingest|destroy|stored``, ``area rotate-key``, ``retention run``,
``query``. Thin: open the workspace, say who is acting, call ``services.vault``, render.

:func:`register` attaches them to the ``dataset`` and ``area`` groups and adds the
``retention`` group and the ``query`` command to the top-level group.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from fivesafes.cli.acting import (
    DATE,
    as_date,
    call,
    call_upload,
    emit,
    json_option,
)
from fivesafes.errors import ValidationError
from fivesafes.governance.grants import STATISTICAL


def _stored() -> str:
    # the vault service brings the table code (pandas, DuckDB): not for --help
    from fivesafes.services.vault.register import STORED

    return STORED


def _entry(o: dict[str, Any]) -> str:
    """A stored object as the server sends it (JSON), on one line."""
    state = (
        ""
        if o["state"] == _stored()
        else f"  DESTROYED {(o['destroyed_at'] or '')[:10]} ({o['destroy_reason']})"
    )
    return (
        f"{o['area'] + '/' + o['name']:<28} {o['kind']:<7} {o['rows']:>12,} rows  "
        f"{len(o['columns'])} columns  key {o['key_id']}  from {o['source'][:40]!r} "
        f"by {o['ingested_by']}{state}"
    )


def _types(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        col, sep, typ = v.partition("=")
        if not sep or not col or not typ:
            raise ValidationError(f"--type {v!r} is not COLUMN=TYPE", hint="e.g. --type age=int32")
        out[col] = typ
    return out


@click.command("ingest")
@click.argument("area")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="The registered dataset the file holds.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet"]), help="Default: from the suffix."
)
@click.option(
    "--pseudonymise",
    multiple=True,
    metavar="COLUMN",
    help="Replace this identifier column by keyed pseudonyms (repeatable).",
)
@click.option("--type", "types", multiple=True, metavar="COL=TYPE", help="CSV column type.")
@json_option
def ingest(
    area: str,
    file: Path,
    name: str,
    fmt: str | None,
    pseudonymise: tuple[str, ...],
    types: tuple[str, ...],
    as_json: bool,
) -> None:
    """Encrypt FILE (CSV or Parquet) into restricted AREA as dataset --name.

    The dataset must be registered first (`fivesafes dataset add`). The file is
    streamed in batches and encrypted as it is read; provenance (file name, SHA-256,
    rows, schema, who) is recorded and audited. The source file is left as it is:
    remove it yourself once the ingest is confirmed.

    Refused: a file with no data rows, and numbers that are not finite (NaN,
    infinity, or a value too large for a 64-bit float such as 1e309), each
    counted per column. Missing values (empty, NA, NULL) are kept as missing and
    counted per column in a warning.

    \b
    Examples:
      fivesafes dataset ingest earnings ashe-2026.csv --name ashe
      fivesafes dataset ingest earnings lfs.parquet --name lfs --pseudonymise nino
    """
    stored = call_upload(
        "dataset.ingest",
        file,
        area=area,
        name=name,
        fmt=fmt,
        types=_types(types),
        pseudonymise=list(pseudonymise),
    )
    for warning in stored["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    emit(stored, as_json, lambda: f"stored {_entry(stored)}\nsha256 {stored['source_sha256']}")


@click.command("destroy")
@click.argument("area")
@click.argument("name")
@click.option("--reason", required=True, help="Why the data are destroyed (audited).")
@click.option("--output", "is_output", is_flag=True, help="NAME is an analysis output.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
def destroy(area: str, name: str, reason: str, is_output: bool, yes: bool, as_json: bool) -> None:
    """Crypto-shred the stored data of AREA/NAME (its asset owner or an administrator).

    The data key is destroyed and the ciphertext removed; the area key is then
    rotated so that no backup of the key opens anything. The register and the
    audit log keep the facts (rows, hash, who, when, why), not the data.

    \b
    Example:
      fivesafes dataset destroy earnings ashe --reason "survey withdrawn" --yes
    """
    if not yes:
        click.confirm(f"destroy the stored data of {area}/{name} for good?", abort=True)
    gone = call("dataset.destroy", area=area, name=name, reason=reason, output=is_output)
    emit(gone, as_json, lambda: f"destroyed {_entry(gone)}")


@click.command("stored")
@click.argument("area", required=False)
@click.option("--all", "include_destroyed", is_flag=True, help="Include destroyed objects.")
@json_option
def stored(area: str | None, include_destroyed: bool, as_json: bool) -> None:
    """List the encrypted datasets and analysis outputs (of AREA, or all).

    \b
    Example:
      fivesafes dataset stored earnings --all
    """
    found = call("dataset.stored", area=area, include_destroyed=include_destroyed)
    emit(found, as_json, lambda: "\n".join(_entry(o) for o in found) or "nothing stored")


@click.command("rotate-key")
@click.argument("area")
@json_option
def rotate_key(area: str, as_json: bool) -> None:
    """Re-wrap every data key of AREA under a new area key; the old key is destroyed.

    The data are not re-encrypted, so this is quick whatever their size.

    \b
    Example:
      fivesafes area rotate-key earnings
    """
    r = call("area.rotate_key", area=area)
    emit(
        r,
        as_json,
        lambda: (
            f"area {area}: {r['rewrapped']} data keys re-wrapped under {r['new_key_id']}; "
            f"destroyed {', '.join(r['destroyed_key_ids']) or 'no old key'}"
        ),
    )


@click.group("retention")
def retention() -> None:
    """Destroy data past their retention date (see `fivesafes dataset add --retention`).

    \b
    Example:
      fivesafes retention run
    """


@retention.command("run")
@click.option("--date", "on", type=DATE, help="Act as if today were this date (YYYY-MM-DD).")
@json_option
def retention_run(on: datetime | None, as_json: bool) -> None:
    """Crypto-shred every stored dataset whose retention date has passed (administrators).

    \b
    Example:
      fivesafes retention run
    """
    done = call("retention.run", on=as_date(on))
    emit(done, as_json, lambda: "\n".join(f"destroyed {_entry(o)}" for o in done) or "nothing due")


def _preview(shown: dict[str, Any]) -> str:
    names = list(shown["columns"])
    cells = [list(r) for r in shown["rows"]]
    widths = [max([len(n)] + [len(c[i]) for c in cells]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    more = int(shown["total_rows"]) - len(cells)
    if more > 0:
        lines.append(f"... {more} more rows in the stored output")
    return "\n".join(lines)


@click.command("query")
@click.argument("area")
@click.argument("sql")
@click.option("--purpose", default=STATISTICAL, show_default=True, help="Purpose of the use.")
@click.option("--project", "project_ref", help="Approved project (researchers).")
@click.option(
    "--show",
    default=20,
    show_default=True,
    type=click.IntRange(0),
    help="Rows to show on screen (0: none), within the area's row limit.",
)
@click.option(
    "--memory-limit",
    help="DuckDB memory limit, e.g. 4GB (data never spill to disk) [default: the "
    "workspace's [engine] memory_limit].",
)
@json_option
def query(
    area: str,
    sql: str,
    purpose: str,
    project_ref: str | None,
    show: int,
    memory_limit: str | None,
    as_json: bool,
) -> None:
    """Run one SELECT over the datasets of restricted AREA (authorised analysts only).

    Each dataset the query reads goes through the access decision (audited). The
    result stays in the area, encrypted, as an analysis output. Shown here: a
    summary (GROUP BY and count/sum/avg/..., at most 200 groups) or any result
    within the area's row limit (`fivesafes area set AREA --max-rows N`, 0 by
    default), its first --show rows; a larger listing is withheld whole. Every
    showing is audited with its row count and SHA-256. Nothing else leaves the
    area except through a release.

    \b
    Examples:
      fivesafes query earnings "SELECT region, count(*) FROM ashe GROUP BY region"
      fivesafes query earnings "SELECT avg(pay) FROM ashe" --show 0 --json
    """
    got = call(
        "query",
        area=area,
        sql=sql,
        purpose=purpose,
        project=project_ref,
        show=show,
        memory_limit=memory_limit,
    )
    out, seen = got["output"], got["shown"]
    if seen["withheld"]:
        click.echo(
            f"not shown: {seen['withheld']}; release it through output checking, or ask an "
            f"administrator for `fivesafes area set {area} --max-rows N`",
            err=True,
        )
    summary = f"stored as output {out['area']}/{out['name']} ({out['rows']} rows)"
    emit(
        out | {"shown": seen},
        as_json,
        lambda: (_preview(seen) + "\n" if show > 0 and not seen["withheld"] else "") + summary,
    )


# what this module adds to other groups (fivesafes.cli.main loads them with the group)
DATASET_COMMANDS = (ingest, destroy, stored)
AREA_COMMANDS = (rotate_key,)
