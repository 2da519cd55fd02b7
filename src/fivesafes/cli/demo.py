"""``fivesafes demo``: run the whole job end to end on synthetic data."""

from __future__ import annotations

from pathlib import Path

import click

from fivesafes.sdc.spec import SECONDARY_METHODS


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
def demo(out: Path, rows: int, seed: int, secondary: str | None) -> None:
    """Run fivesafes end to end on a synthetic business survey (no real data).

    Generates a seeded survey of enterprises (turnover by region and industry,
    with hierarchies, weights and enterprise ids), writes it with its
    hierarchy CSVs and a table spec into OUT/input/, protects the table and
    writes cells.csv, report.json, table.csv and table.xlsx into
    OUT/tables/<table name>/.

    \b
    Example:
      fivesafes demo --out demo-output
      fivesafes table protect demo-output/input/turnover_by_region_industry.toml \\
          --data demo-output/input/survey.csv --out my-run --secondary none
    """
    from fivesafes.cli.table import native_stdout_to_stderr
    from fivesafes.demo.run import run_demo

    with native_stdout_to_stderr():
        result = run_demo(out, rows=rows, seed=seed, secondary=secondary)
    click.echo(result.summary())
