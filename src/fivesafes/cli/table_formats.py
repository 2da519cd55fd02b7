"""``fivesafes table export`` and ``table hierarchy``: in and out of tau-Argus and sdcTable."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fivesafes.cli.output_folder import check_output_folder, export_file, output_folder, place_files
from fivesafes.cli.table_audit import read_cells_csv
from fivesafes.sdc import (
    DEFAULT_TOTAL_CODE,
    EXPORT_TOOLS,
    HIERARCHY_FORMATS,
    export_table,
    hierarchy_text,
    load_hierarchy,
    load_spec,
    normalise_cells,
    spec_hierarchies,
)


@click.command("export")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "--cells",
    "cells_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The protected table's cells.csv (from table protect).",
)
@click.option(
    "--to",
    "tool",
    required=True,
    type=click.Choice(EXPORT_TOOLS),
    help="The tool to write input for.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the files, of their own (created; an earlier export there is replaced).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the files written as JSON.")
def export_command(spec: Path, cells_path: Path, tool: str, out: Path, as_json: bool) -> None:
    """Write a protected table as tau-Argus or sdcTable input, to compare the tools.

    The files carry the same cells, hierarchies and primary cells (with their
    protection), so the other tool protects the same problem; audit its answer
    with `fivesafes table audit SPEC --cells ITS_OUTPUT.csv --status-map argus`
    (or sdctable).

    \b
    argus:    NAME.tab (the table input, one line per cell), NAME.rda (its
              metadata), NAME_DIM.hrc per hierarchical dimension
    sdctable: NAME_sdctable.csv (the inner cells: dimensions, freq, value),
              NAME_hier_DIM.csv per dimension (level,name), NAME_fivesafes.csv
              (every cell with fivesafes' status as sdcStatus)

    The files hold every cell's true value: keep them where cells.csv is kept.
    OUT is a folder of its own, written whole or not at all: an earlier export
    there is replaced; a folder of other files is refused.

    \b
    Example:
      fivesafes table export examples/turnover.toml --cells out/cells.csv \\
          --to argus --out argus
    """
    check_output_folder(out, ours=export_file, depth=0)
    loaded = load_spec(spec)
    cells, _notes = normalise_cells(
        read_cells_csv(cells_path, loaded.dimension_names), where=str(cells_path)
    )
    hierarchies = spec_hierarchies(loaded, cells)
    # OUT is replaced whole once every file is written (as table protect's --out): an
    # earlier export's NAME_DIM.hrc of a dimension since dropped never stays beside these
    with output_folder(out, ours=export_file, depth=0) as staging:
        written = export_table(tool, loaded.name, cells, hierarchies, staging)
    if as_json:
        click.echo(json.dumps({"files": [str(out / name) for name in written]}, indent=2))
    else:
        click.echo(f"wrote {len(written)} file(s) for {tool} in {out}: " + ", ".join(written))


@click.command("hierarchy")
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--to", "fmt", required=True, type=click.Choice(HIERARCHY_FORMATS), help="The format to write."
)
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--total-code",
    default=DEFAULT_TOTAL_CODE,
    show_default=True,
    help="The total's code when reading an .hrc file (it is not in the file).",
)
def hierarchy_command(source: Path, fmt: str, out: Path, total_code: str) -> None:
    """Convert a hierarchy file: csv (code,parent[,label]), hrc (tau-Argus), sdc (sdcTable).

    The format of SOURCE is recognised: .hrc by its suffix, a CSV by its header
    (code,parent or level,name). Labels are kept in csv only.

    \b
    Examples:
      fivesafes table hierarchy examples/region.csv --to hrc --out region.hrc
      fivesafes table hierarchy region.hrc --to csv --out region.csv --total-code UK
    """
    h = load_hierarchy(source.stem, source, total_code=total_code)
    text = hierarchy_text(h, fmt)
    place_files(
        out.parent,
        {out.name: lambda p: Path(p).write_text(text, encoding="utf-8")},
        option="--out",
        link_ok=True,
    )
    click.echo(f"wrote {out}: {len(h.codes)} codes, {h.max_depth} level(s) below {h.root!r}")
