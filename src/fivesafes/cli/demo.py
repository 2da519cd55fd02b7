"""``fivesafes demo``: run the whole job end to end on synthetic data."""

from __future__ import annotations

from pathlib import Path

import click

from fivesafes.sdc import SECONDARY_METHODS


@click.command()
@click.option(
    "--out",
    default=Path("demo-output"),
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the demo's inputs and outputs (created if needed).",
)
@click.option("--rows", default=5_000, show_default=True, help="Rows of synthetic survey data.")
@click.option("--seed", default=20261126, show_default=True, help="Seed of the synthetic data.")
@click.option(
    "--secondary",
    type=click.Choice(SECONDARY_METHODS),
    default=None,
    help="Override the demo spec's secondary suppression method (modular).",
)
@click.option(
    "--tables-only",
    is_flag=True,
    help="Only the table protection part (no workspace, people, vault or release).",
)
def demo(out: Path, rows: int, seed: int, secondary: str | None, tables_only: bool) -> None:
    """Run fivesafes end to end on a synthetic business survey (no real data).

    \b
    1. Generates a seeded survey of enterprises (turnover by region and
       industry, with hierarchies, weights and enterprise ids) into OUT/input/,
       protects the table (primary rules, secondary suppression, audit) and
       writes cells.csv, report.json, table.csv and table.xlsx into
       OUT/tables/<table name>/.
    2. Creates a demo workspace in OUT/workspace: staff, training, a
       declaration, a restricted area, a grant; one allowed and one denied
       access, with every reason.
    3. Ingests a survey into the area (encrypted), tabulates it through the
       audited read path, submits it for output checking, two checkers
       approve, publishes it (OUT/workspace/releases/), then shows a second
       output blocked by the differencing check.
    4. Verifies the audit log.

    \b
    Example:
      fivesafes demo --out demo-output
      fivesafes table protect demo-output/input/turnover_by_region_industry.toml \\
          --data demo-output/input/survey.csv --out my-run --secondary none
    """
    from fivesafes.cli.table import native_stdout_to_stderr
    from fivesafes.demo.full import run_full_demo

    with native_stdout_to_stderr():
        lines = run_full_demo(
            out, rows=rows, seed=seed, secondary=secondary, tables_only=tables_only
        )
    click.echo("\n".join(lines))
