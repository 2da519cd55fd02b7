"""``fivesafes demo``: run the whole job end to end on synthetic data."""

from __future__ import annotations

import time
from pathlib import Path

import click

from fivesafes.sdc import SECONDARY_METHODS

PART_1 = "== 1. Protect a table: count every cell, flag disclosive ones, hide others, audit"


@click.command()
@click.option(
    "--out",
    default=Path("demo-output"),
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the demo's inputs and outputs (created if needed). The survey and "
    "the protected table are written all at once, or not at all (Ctrl-C leaves it as it "
    "was); an earlier demo's folder is replaced whole, a folder of other files or a "
    "symbolic link is refused.",
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
    The survey and the protected table are written all at once or not at
    all (as table protect --out): Ctrl-C leaves OUT as it was. An earlier
    demo's OUT is replaced whole; a folder of other files is refused.

    \b
    Example:
      fivesafes demo --out demo-output
      fivesafes table protect demo-output/input/turnover_by_region_industry.toml \\
          --data demo-output/input/survey.csv --out my-run --secondary none
    """
    from fivesafes.cli.output_folder import output_file, output_folder
    from fivesafes.cli.table import native_stdout_to_stderr
    from fivesafes.demo.full import (
        DEMO_DEPTH,
        DEMO_FILES,
        earlier_demo_workspace,
        run_workspace_demo,
    )
    from fivesafes.demo.run import run_demo

    start = time.perf_counter()
    with native_stdout_to_stderr():
        # the survey and the protected table (confidential, in the story) are written
        # into a staging folder and moved into place whole, as table protect's outputs:
        # an interrupted demo leaves OUT as it was; a folder of other files is refused
        with output_folder(
            out,
            ours=lambda name: name in DEMO_FILES or output_file(name),
            depth=DEMO_DEPTH,
            ours_folder=earlier_demo_workspace,
        ) as staging:
            table = run_demo(staging, rows=rows, seed=seed, secondary=secondary, final=out)
        lines = [PART_1, *table.summary().splitlines()]
        if not tables_only:
            lines += run_workspace_demo(out)
            lines += ["", f"demo finished in {time.perf_counter() - start:.1f} s; outputs in {out}"]
    click.echo("\n".join(lines))
