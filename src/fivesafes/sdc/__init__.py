"""Statistical disclosure control: a library a statistician can use alone.

No database, no web, no global state: specs and tables in, cells with a status
and a report out.

    from fivesafes.sdc import tables
    result = tables("examples/turnover.toml", "examples/survey.csv", secondary="none")
    result.published()      # the table as the public sees it: hidden cells NA, hierarchy order
    result.cells            # CONFIDENTIAL: every true value and the top contributions
    result.write("out")     # cells.csv, report.json, table.csv, table.xlsx
    result.export("argus", "out/argus")   # the same table as tau-Argus / sdcTable input

Specs can be built in code too::

    from fivesafes.sdc import DimensionSpec, Hierarchy, RuleSet, TableSpec, tables
    spec = TableSpec("t", (DimensionSpec("region"),), response="turnover",
                     rules=RuleSet(threshold=3, p_percent=10))
"""

from fivesafes.sdc.formats.hierarchies import load_hierarchy
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.protect import TableResult, tables
from fivesafes.sdc.rules import apply_primary_rules
from fivesafes.sdc.sources import NumericCodesWarning
from fivesafes.sdc.spec import (
    DimensionSpec,
    RuleSet,
    SuppressionSpec,
    TableSpec,
    load_spec,
    parse_spec,
)

__all__ = [
    "DimensionSpec",
    "Hierarchy",
    "NumericCodesWarning",
    "RuleSet",
    "SuppressionSpec",
    "TableResult",
    "TableSpec",
    "apply_primary_rules",
    "load_hierarchy",
    "load_spec",
    "parse_spec",
    "tables",
]
