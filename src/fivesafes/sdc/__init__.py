"""Statistical disclosure control: a library a statistician can use alone.

No database, no web, no global state: specs and tables in, cells with a status
and a report out.

    from fivesafes.sdc import tables
    result = tables("examples/turnover.toml", "examples/survey.csv", secondary="none")
    result.cells            # one row per cell: codes, counts, value, status, rule, protection
    result.write("out")     # cells.csv, report.json, table.csv, table.xlsx
"""

from fivesafes.sdc.pipeline import TableResult, tables
from fivesafes.sdc.rules import apply_primary_rules
from fivesafes.sdc.spec import load_spec

__all__ = ["TableResult", "apply_primary_rules", "load_spec", "tables"]
