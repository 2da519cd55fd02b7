"""Statistical disclosure control: a library a statistician can use alone.

No database, no web, no global state: specs and tables in, cells with a status
and a report out.

    from fivesafes.sdc import tables
    result = tables("examples/turnover.toml", "examples/survey.csv", secondary="none")
    result.cells            # one row per cell: codes, counts, value, status, rule, protection
    result.write("out")     # cells.csv, report.json, table.csv, table.xlsx

This module is the library's public face: code outside ``sdc`` imports from here
(engines may also import ``fivesafes.sdc.tabulate``, the tabulation seam; the cells'
columns an engine must produce, ``top_column(i)`` included, are exported here). The
wings: ``tabulate/`` (microdata -> cells), ``rules`` (primary suppression),
``secondary/`` (complementary suppression), ``audit/`` (the attacker's LPs),
``lp/`` (relations and LPs they share), ``outputs/`` (files written and read back),
``differencing`` (disclosure across outputs), ``pipeline`` (all of it in order),
``progress`` (the reporter a caller passes in to hear of long work: ``Progress``).
See docs/architecture.md.
"""

from fivesafes.sdc.audit import (
    INTERVAL_MODES,
    AuditResult,
    IntervalMode,
    audit_linked,
    audit_table,
)
from fivesafes.sdc.cells import (
    CONFIDENTIAL_SYMBOL,
    CONTRIBUTORS,
    LOWER,
    NEGATIVES,
    RECORDS,
    RULE,
    RULE_TOTAL,
    STATUS,
    UPPER,
    VALUE,
    Status,
    top_column,
)
from fivesafes.sdc.differencing import (
    DifferencingResult,
    Disclosure,
    InconsistentOutputs,
    OutputTable,
    check_differencing,
)
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.outputs.presentation import Presentation, present
from fivesafes.sdc.outputs.reader import read_cells, spec_hierarchies
from fivesafes.sdc.outputs.report import build_report
from fivesafes.sdc.outputs.writers import ProtectedTable, published_cells, write_all
from fivesafes.sdc.pipeline import (
    EXACT_AUDIT_MAX_CELLS,
    TableResult,
    linked_tables,
    measure_key,
    protect_all,
    tables,
)
from fivesafes.sdc.progress import SILENT, Progress, Recorder
from fivesafes.sdc.progress import stage as progress_stage
from fivesafes.sdc.rules import apply_primary_rules
from fivesafes.sdc.secondary import protect_secondary
from fivesafes.sdc.spec import (
    SECONDARY_METHODS,
    DimensionSpec,
    RuleSet,
    SuppressionSpec,
    TableSpec,
    load_spec,
    parse_rules,
    parse_spec,
)
from fivesafes.sdc.tabulate import (
    DuckDBTabulator,
    HierarchyLoader,
    MicrodataLike,
    Tabulation,
    Tabulator,
    tabulate,
)

__all__ = [
    "CONFIDENTIAL_SYMBOL",
    "CONTRIBUTORS",
    "EXACT_AUDIT_MAX_CELLS",
    "INTERVAL_MODES",
    "LOWER",
    "NEGATIVES",
    "RECORDS",
    "RULE",
    "RULE_TOTAL",
    "SECONDARY_METHODS",
    "SILENT",
    "STATUS",
    "UPPER",
    "VALUE",
    "AuditResult",
    "DifferencingResult",
    "DimensionSpec",
    "Disclosure",
    "DuckDBTabulator",
    "Hierarchy",
    "HierarchyLoader",
    "InconsistentOutputs",
    "IntervalMode",
    "MicrodataLike",
    "OutputTable",
    "Presentation",
    "Progress",
    "ProtectedTable",
    "Recorder",
    "RuleSet",
    "Status",
    "SuppressionSpec",
    "TableResult",
    "TableSpec",
    "Tabulation",
    "Tabulator",
    "apply_primary_rules",
    "audit_linked",
    "audit_table",
    "build_report",
    "check_differencing",
    "linked_tables",
    "load_spec",
    "measure_key",
    "parse_rules",
    "parse_spec",
    "present",
    "progress_stage",
    "protect_all",
    "protect_secondary",
    "published_cells",
    "read_cells",
    "spec_hierarchies",
    "tables",
    "tabulate",
    "top_column",
    "write_all",
]
