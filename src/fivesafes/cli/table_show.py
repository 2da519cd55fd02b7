"""``fivesafes table show``: a protected table on the terminal (rich) or as an HTML file."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from click.core import ParameterSource
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fivesafes.cli.output_folder import check_file, write_file
from fivesafes.cli.progress import progress_on_stderr
from fivesafes.sdc import (
    TableView,
    ViewRow,
    entry_text,
    interval_text,
    percent_text,
    render_html,
    safe_text,
    view_table,
)

STYLES = {"primary": "bold red", "secondary": "yellow"}
DEFAULT_ROWS = 500


@click.command(
    "show",
    short_help="Show a protected table: as published, or the checker's view; terminal or HTML.",
)
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--checker",
    is_flag=True,
    help="The output checker's view (CONFIDENTIAL: true values): primary and secondary "
    "cells marked, the rules that flagged each, the required and the attacker's interval "
    "(the audit is run again), and the information lost per level.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the view as one self-contained HTML file instead of printing it.",
)
@click.option(
    "--spec",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The spec the table was protected with, if it has moved since [default: the path "
    "in OUT/report.json; its SHA-256 must match].",
)
@click.option(
    "--suggest/--no-suggest",
    default=None,
    help="With --checker: protect the coarser tables (one level dropped in one dimension) "
    "and list those that hide least [default: when more than a third of the cells are "
    "hidden].",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds the coarser tables may take in all; those not started in time are listed "
    "as not tried.",
)
@click.option(
    "--rows",
    "max_rows",
    type=click.IntRange(min=0),
    default=DEFAULT_ROWS,
    show_default=True,
    help="On the terminal, show at most this many rows (0: all). The HTML has every row.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the view as JSON (rows, loss, suggestions)."
)
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def show_command(
    out: Path,
    checker: bool,
    html_path: Path | None,
    spec: Path | None,
    suggest: bool | None,
    budget: float,
    max_rows: int,
    as_json: bool,
    quiet: bool,
) -> None:
    """Show the protected table in OUT (the folder of `table protect --out`).

    Rows follow the hierarchies (every total before what it adds up), indented,
    with the hierarchy files' labels. By default the table as it would be
    published: hidden cells as [c], primary and secondary alike.

    \b
    Examples:
      fivesafes table show out
      fivesafes table show out --html table.html
      fivesafes table show out --checker
      fivesafes table show out --checker --html checker.html --budget 30

    With --checker, when more than a third of the cells are hidden, the coarser
    tables (the most detailed level, or a level of subtotals, dropped in one
    dimension) are protected again and listed, those that hide least first.
    """
    if not checker:
        ctx = click.get_current_context()
        given = [
            f"--{name}"
            for name in ("suggest", "budget")
            if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
        ]
        if given:
            # the published view lists no coarser tables: silently ignoring the option
            # would let the user believe none were better
            raise click.UsageError(
                f"{' and '.join(given)} only work with --checker (the coarser tables are part "
                "of the checker's view); add --checker"
            )
    if html_path is not None:
        check_file(html_path, option="--html")  # before the audit and the coarser tables
    with progress_on_stderr(quiet) as progress:
        view = view_table(
            out,
            checker=checker,
            spec=spec,
            suggest=suggest if checker else False,
            budget_seconds=budget,
            progress=progress,
        )
    if as_json:
        click.echo(json.dumps(view.as_dict(), indent=2, ensure_ascii=False, allow_nan=False))
        return
    if html_path is not None:
        write_file(html_path, render_html(view), option="--html")
        click.echo(f"wrote {html_path}" + (" (CONFIDENTIAL: checker's view)" if checker else ""))
        return
    console = Console(
        file=sys.stdout,
        highlight=False,
        width=None if sys.stdout.isatty() else 200,
        no_color=bool(os.environ.get("NO_COLOR")) or None,
    )
    render_terminal(view, console, max_rows=max_rows)


def render_terminal(view: TableView, console: Console, *, max_rows: int = DEFAULT_ROWS) -> None:
    """Print the view with rich; every text from the table goes in as plain Text (no markup)."""
    title = safe_text(view.name) + (" (checker's view)" if view.checker else "")
    if view.checker:
        console.print(
            Text("CONFIDENTIAL: true values of hidden cells; keep inside the area.", "bold red")
        )
        console.print(Text(view.audit))
    for note in view.notes:
        console.print(Text(f"note: {safe_text(note)}"))
    table = Table(title=Text(title), title_justify="left")
    for d in view.dimensions:
        table.add_column(Text(safe_text(d)))
    unit = f" ({safe_text(view.unit)})" if view.unit else ""
    table.add_column(Text(f"value{unit}"), justify="right")
    if view.checker:
        for name in ("status", "rule", "required", "attacker's interval"):
            table.add_column(Text(name))
    shown = view.rows if max_rows == 0 else view.rows[:max_rows]
    previous: tuple[str, ...] = ()
    for row in shown:
        # the outer dimensions' codes are written once, where they change (easier to read)
        same = _common_prefix(previous, row.codes)
        table.add_row(*_cells(row, view.checker, same), style=_style(row, view.checker))
        previous = row.codes
    console.print(table)
    if len(shown) < len(view.rows):
        console.print(
            Text(
                f"{len(view.rows) - len(shown):,} more rows not shown: use --rows 0, or --html FILE"
            )
        )
    if not view.checker:
        console.print(Text("[c] = confidential; [x] = not available; totals include hidden cells."))
        return
    if view.loss is not None:
        console.print(Text("Information lost:", "bold"))
        for sentence in view.loss.sentences():
            console.print(Text(f"  {safe_text(sentence)}"))
    if view.suggestions:
        console.print(_suggestions(view))


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """How many leading codes two rows share (the last dimension is always written)."""
    n = 0
    for x, y in zip(a[:-1], b[:-1], strict=False):
        if x != y:
            break
        n += 1
    return n


def _cells(row: ViewRow, checker: bool, same: int = 0) -> list[Text]:
    out = []
    for i, (code, label, depth) in enumerate(zip(row.codes, row.labels, row.levels, strict=True)):
        if i < same:
            out.append(Text(""))
            continue
        shown = safe_text(label) if label == code else f"{safe_text(label)} ({safe_text(code)})"
        out.append(Text("  " * depth + shown))
    out.append(Text(entry_text(row)))
    if checker:
        status = "" if row.status is None else row.status.value
        if row.protected is False:
            status += " UNDER-PROTECTED"
        out += [
            Text(status),
            Text(safe_text("; ".join(row.rules))),
            Text(interval_text(row.required)),
            Text(interval_text(row.achieved)),
        ]
    return out


def _style(row: ViewRow, checker: bool) -> str | None:
    if not checker or row.status is None:
        return None
    return STYLES.get(row.status.value)


def _suggestions(view: TableView) -> Table:
    table = Table(
        title=Text("Coarser tables, those that hide least first"),
        title_justify="left",
        caption=Text("each protected within its share of the budget: a full run may hide less"),
        caption_justify="left",
    )
    for name in ("table", "cells", "hidden", "share hidden", "share of total hidden", "seconds"):
        table.add_column(Text(name), justify="left" if name == "table" else "right")
    if view.loss is not None:
        loss = view.loss
        table.add_row(
            Text("this table, as protected", "bold"),
            Text(f"{loss.cells:,}"),
            Text(f"{loss.hidden:,}"),
            Text(percent_text(loss.share_hidden)),
            Text(percent_text(loss.leaf_share_of_total())),
            Text(""),
        )
    for s in view.suggestions:
        if s.error:
            table.add_row(Text(safe_text(s.description)), Text(safe_text(s.error)))
            continue
        table.add_row(
            Text(safe_text(s.description)),
            Text(f"{s.cells:,}"),
            Text(f"{s.hidden:,}"),
            Text(percent_text(s.share_hidden)),
            Text(percent_text(s.value_share_hidden)),
            Text(f"{s.seconds:.1f}"),
        )
    return table


__all__ = ["render_terminal", "show_command"]
