"""The demo job: synthetic survey -> spec -> protected table -> outputs -> summary.

A sequence of small steps, each a function, so later issues can add theirs
(people, areas, releases) without touching the others. Everything here is
synthetic: nothing real is read or written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow.csv as pa_csv

from fivesafes.demo.survey import generate_survey, write_hierarchies
from fivesafes.sdc import TableResult, tables, write_all

DEMO_SEED = 20261126
DEMO_ROWS = 5_000
DEMO_ENTERPRISES = 1_200
TABLE_NAME = "turnover_by_region_industry"

SPEC_TEMPLATE = """\
# The demo's table: total turnover by region and industry, every subtotal included.
[table]
name = "{name}"
response = "turnover"            # a magnitude table (omit for a count table)
contributor = "enterprise_id"    # the unit whose value must not be disclosed
weight = "w"                     # survey weight: published values are weighted

[[dimension]]
name = "region"
hierarchy = "region.csv"         # code,parent; the parent is empty for the UK total

[[dimension]]
name = "industry"
hierarchy = "industry.csv"       # SIC 2007 sections and divisions (leading zeros kept)

[rules]
threshold = 3                    # 1 or 2 enterprises in a cell is too few
dominance = [[1, 50], [2, 85]]   # one enterprise > 50%, or two > 85%, of the cell total
p_percent = 10                   # nobody may estimate a competitor to within 10%

[suppression]
method = "modular"               # hierarchical decomposition: seconds, not minutes
# singleton = true (the default) also guards against every enterprise that is the
# only contributor of a hidden cell; its checks take several times as
# long, so the demo protects against outsiders
singleton = false
"""


@dataclass(frozen=True)
class DemoInputs:
    """The files the demo generated: the data, the hierarchies and the spec."""

    data: Path
    spec: Path
    rows: int


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced and how long it took."""

    inputs: DemoInputs
    table: TableResult
    outputs: dict[str, Path]
    seconds: float
    secondary_note: str

    def summary(self) -> str:
        """A short, readable account of the run."""
        t = self.table
        by_rule = ", ".join(f"{k} {v}" for k, v in t.rule_counts.items()) or "none"
        folder = next(iter(self.outputs.values())).parent
        lines = [
            f"fivesafes demo: synthetic business survey, {self.inputs.rows:,} rows",
            f"  table {t.name}: {len(t.cells):,} cells (every subtotal included)",
            f"  primary cells: {t.status_counts.get('primary', 0):,} ({by_rule})",
            f"  secondary cells: {t.status_counts.get('secondary', 0):,}",
            *hidden_note(
                len(t.cells), t.status_counts.get("primary", 0), t.status_counts.get("secondary", 0)
            ),
        ]
        if self.secondary_note:
            lines.append(f"  note: {self.secondary_note}")
        lines += [
            f"  time: {self.seconds:.2f} s",
            f"  inputs:  {self.inputs.data.parent}",
            f"  outputs: {folder}",
            *(f"    {name}" for name in self.outputs),
            self._see_it(folder),
        ]
        return "\n".join(lines)

    def _see_it(self, folder: Path) -> str:
        # a table not safe to release has no published view (`table show` refuses it)
        if self.table.report.get("audit", {}).get("safe_to_release") is True:
            return (
                f"  see it:  fivesafes table show {folder} (--checker: statuses, rules, intervals)"
            )
        return f"  see it:  fivesafes table show {folder} --checker (no published view: not safe)"


def run_demo(
    out_dir: str | Path,
    *,
    rows: int = DEMO_ROWS,
    seed: int = DEMO_SEED,
    secondary: str | None = None,
    final: Path | None = None,
) -> DemoResult:
    """Run the whole demo into ``out_dir`` and return what it produced.

    ``final``: where ``out_dir`` will be once moved into place (``demo --out`` writes
    into a staging folder): the paths the report records and the summary shows.
    """
    start = time.perf_counter()
    out = Path(out_dir)
    inputs = write_inputs(out / "input", rows=rows, seed=seed)
    method, note = choose_secondary(secondary)
    result = tables(inputs.spec, inputs.data, secondary=method)
    if final is not None:
        # report.json names the spec, hierarchies and data read: `table show` reads the
        # spec from there, after the staging folder is gone
        staged, moved = out.resolve(), final.resolve()
        result = replace(result, report=_relocated(result.report, staged, moved))
    outputs = result.write(out / "tables" / result.name)
    if final is not None:
        inputs = replace(
            inputs, data=_moved(inputs.data, out, final), spec=_moved(inputs.spec, out, final)
        )
        outputs = {name: _moved(path, out, final) for name, path in outputs.items()}
    return DemoResult(
        inputs=inputs,
        table=result,
        outputs=outputs,
        seconds=time.perf_counter() - start,
        secondary_note=note,
    )


def _moved(path: Path, staged: Path, final: Path) -> Path:
    return final / path.relative_to(staged)


def _relocated(value: Any, staged: Path, final: Path) -> Any:
    """``value`` (JSON data) with every path under ``staged`` as the same under ``final``."""
    if isinstance(value, dict):
        return {k: _relocated(v, staged, final) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_relocated(v, staged, final) for v in value)
    if isinstance(value, str) and Path(value).is_relative_to(staged):
        return str(_moved(Path(value), staged, final))
    return value


def write_inputs(folder: Path, *, rows: int, seed: int) -> DemoInputs:
    """Generate the survey and write it, its hierarchies and the table spec into ``folder``."""
    survey = generate_survey(rows, min(DEMO_ENTERPRISES, rows), seed)
    text = SPEC_TEMPLATE.format(name=TABLE_NAME)
    written = write_all(
        folder,
        {
            "survey.csv": lambda p: pa_csv.write_csv(survey, p),
            f"{TABLE_NAME}.toml": lambda p: p.write_text(text, encoding="utf-8"),
        },
    )
    write_hierarchies(folder, ("region", "industry"))
    return DemoInputs(
        data=written["survey.csv"], spec=written[f"{TABLE_NAME}.toml"], rows=survey.num_rows
    )


def choose_secondary(requested: str | None = None) -> tuple[str | None, str]:
    """The requested (else the spec's) secondary method, with a note when it is none."""
    if requested == "none":
        return "none", "secondary suppression was turned off: the table is not safe to publish"
    return requested, ""


def hidden_note(cells: int, primary: int, secondary: int) -> list[str]:
    """What the hidden share means, in words a reader of the demo can act on."""
    hidden = primary + secondary
    if not cells or not hidden:
        return []
    share = hidden / cells
    lines = [
        f"  hidden: {hidden:,} of {cells:,} cells ({share:.0%}): {primary:,} the rules flag "
        f"(too few enterprises, or one or two dominate) and {secondary:,} more so that "
        "they cannot be worked out from the totals"
    ]
    if share > 1 / 3:
        lines.append(
            "  that is a lot: this small survey is crossed by every region and industry; "
            "a coarser table (fewer levels) hides less, and methods that change values "
            "slightly instead of hiding them publish every cell "
            "(`fivesafes table protect --compare` puts each method's loss side by side)"
        )
    return lines
