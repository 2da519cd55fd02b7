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

This module is the library's public face: code outside ``sdc`` imports from here
(engines may also import ``fivesafes.sdc.tabulate``, the tabulation seam; the cells'
columns an engine must produce, ``top_column(i)`` included, are exported here). The
wings: ``tabulate/`` (microdata -> cells), ``rules`` (primary suppression),
``secondary/`` (complementary suppression), ``audit/`` (the attacker's LPs),
``lp/`` (relations and LPs they share), ``outputs/`` (files written and read back),
``formats/`` (other tools' hierarchies, statuses and table input; text that is safe
in a spreadsheet), ``differencing`` (disclosure across outputs), ``pipeline`` (all of
it in order), ``progress`` (the reporter a caller passes in to hear of long work:
``Progress``); the methods that change values instead of hiding them:
``perturbation/`` (record keys, ptables, the cell key method), ``rounding/`` (random,
controlled, the protection check), ``protect_methods`` (their pipeline step), ``loss``
and ``compare`` (information loss, every method side by side); ``view/`` (the table as
people see it, published or for the output checker: ``view_table``, ``render_html``). See
docs/architecture.md.
"""

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fivesafes.sdc.audit import (
        INTERVAL_MODES,
        AuditResult,
        IntervalMode,
        audit_linked,
        audit_table,
    )
    from fivesafes.sdc.cells import (
        CELL_KEY,
        CONFIDENTIAL_SYMBOL,
        CONTRIBUTORS,
        LOWER,
        NEGATIVES,
        PUBLISHED,
        RECORDS,
        RULE,
        RULE_TOTAL,
        STATUS,
        UPPER,
        VALUE,
        Status,
        top_column,
    )
    from fivesafes.sdc.compare import Comparison, compare_methods, write_comparison
    from fivesafes.sdc.differencing import (
        DifferencingResult,
        Disclosure,
        InconsistentOutputs,
        OutputsContradictData,
        OutputTable,
        check_differencing,
        outputs_agree,
    )
    from fivesafes.sdc.differencing_figure import PreparedRegister
    from fivesafes.sdc.formats.export import EXPORT_TOOLS, export_table
    from fivesafes.sdc.formats.hierarchies import HIERARCHY_FORMATS, hierarchy_text, load_hierarchy
    from fivesafes.sdc.formats.injection import csv_field, csv_row, csv_unescape, xlsx_text
    from fivesafes.sdc.formats.statuses import normalise_cells
    from fivesafes.sdc.hierarchy import DEFAULT_TOTAL_CODE, Hierarchy
    from fivesafes.sdc.loss import loss_measures
    from fivesafes.sdc.occupancy import Occupancy, pairs_for
    from fivesafes.sdc.outputs.cells_csv import cells_csv_text, formula_escaped, with_format
    from fivesafes.sdc.outputs.presentation import (
        NOT_AVAILABLE_SYMBOL,
        Cell,
        Presentation,
        present,
    )
    from fivesafes.sdc.outputs.reader import read_cells, read_output_cells, spec_hierarchies
    from fivesafes.sdc.outputs.report import build_report
    from fivesafes.sdc.outputs.writers import ProtectedTable, published_cells, write_all
    from fivesafes.sdc.perturbation import (
        RECORD_KEY_COLUMN,
        KeyMaterial,
        StoredKeys,
        generate_ptable,
        load_key_material,
        ptable_identity,
        record_keys,
    )
    from fivesafes.sdc.perturbation.cellkey import GOLDEN_GAMMA, splitmix64
    from fivesafes.sdc.perturbation.keys import key_fractions as record_key_fractions
    from fivesafes.sdc.pipeline import (
        EXACT_AUDIT_MAX_CELLS,
        TableResult,
        linked_tables,
        measure_key,
        protect_all,
        tables,
    )
    from fivesafes.sdc.population import Population, restrict
    from fivesafes.sdc.progress import SILENT, Progress, Recorder
    from fivesafes.sdc.progress import stage as progress_stage
    from fivesafes.sdc.protect_methods import KEYED_METHODS, with_protection
    from fivesafes.sdc.rules import apply_primary_rules
    from fivesafes.sdc.secondary import protect_secondary
    from fivesafes.sdc.spec import (
        RULE_FIELDS,
        SECONDARY_METHODS,
        DimensionSpec,
        RuleSet,
        SuppressionSpec,
        TableSpec,
        load_spec,
        parse_rules,
        parse_spec,
    )
    from fivesafes.sdc.spec_methods import (
        PROTECTION_METHODS,
        ROUNDING_METHODS,
        PerturbationSpec,
        RoundingSpec,
    )
    from fivesafes.sdc.tabulate import (
        DuckDBTabulator,
        HierarchyLoader,
        MicrodataLike,
        RecordKeyTabulator,
        Tabulation,
        Tabulator,
        tabulate,
    )
    from fivesafes.sdc.tabulate.sources import NumericCodesWarning
    from fivesafes.sdc.view import (
        Interval,
        LevelLoss,
        Loss,
        Suggestion,
        TableView,
        ViewRow,
        build_view,
        build_views,
        entry_text,
        interval_text,
        percent_text,
        read_output,
        render_html,
        safe_text,
        suggest_coarser,
        view_table,
    )

# name -> (submodule, its name there): imported on first use (PEP 562). Importing every
# submodule here (pandas, SciPy, HiGHS, DuckDB: seconds) made any use of the library,
# a constant in a command's --help included, pay for all of it.
_WHERE = {
    "AuditResult": ("audit", "AuditResult"),
    "CELL_KEY": ("cells", "CELL_KEY"),
    "CONFIDENTIAL_SYMBOL": ("cells", "CONFIDENTIAL_SYMBOL"),
    "CONTRIBUTORS": ("cells", "CONTRIBUTORS"),
    "Cell": ("outputs.presentation", "Cell"),
    "Comparison": ("compare", "Comparison"),
    "DEFAULT_TOTAL_CODE": ("hierarchy", "DEFAULT_TOTAL_CODE"),
    "DifferencingResult": ("differencing", "DifferencingResult"),
    "DimensionSpec": ("spec", "DimensionSpec"),
    "Disclosure": ("differencing", "Disclosure"),
    "DuckDBTabulator": ("tabulate", "DuckDBTabulator"),
    "EXACT_AUDIT_MAX_CELLS": ("pipeline", "EXACT_AUDIT_MAX_CELLS"),
    "EXPORT_TOOLS": ("formats.export", "EXPORT_TOOLS"),
    "GOLDEN_GAMMA": ("perturbation.cellkey", "GOLDEN_GAMMA"),
    "HIERARCHY_FORMATS": ("formats.hierarchies", "HIERARCHY_FORMATS"),
    "Hierarchy": ("hierarchy", "Hierarchy"),
    "HierarchyLoader": ("tabulate", "HierarchyLoader"),
    "INTERVAL_MODES": ("audit", "INTERVAL_MODES"),
    "InconsistentOutputs": ("differencing", "InconsistentOutputs"),
    "Interval": ("view", "Interval"),
    "IntervalMode": ("audit", "IntervalMode"),
    "KEYED_METHODS": ("protect_methods", "KEYED_METHODS"),
    "KeyMaterial": ("perturbation", "KeyMaterial"),
    "LOWER": ("cells", "LOWER"),
    "LevelLoss": ("view", "LevelLoss"),
    "Loss": ("view", "Loss"),
    "MicrodataLike": ("tabulate", "MicrodataLike"),
    "NEGATIVES": ("cells", "NEGATIVES"),
    "NOT_AVAILABLE_SYMBOL": ("outputs.presentation", "NOT_AVAILABLE_SYMBOL"),
    "NumericCodesWarning": ("tabulate.sources", "NumericCodesWarning"),
    "Occupancy": ("occupancy", "Occupancy"),
    "OutputTable": ("differencing", "OutputTable"),
    "OutputsContradictData": ("differencing", "OutputsContradictData"),
    "PROTECTION_METHODS": ("spec_methods", "PROTECTION_METHODS"),
    "PUBLISHED": ("cells", "PUBLISHED"),
    "PerturbationSpec": ("spec_methods", "PerturbationSpec"),
    "Population": ("population", "Population"),
    "PreparedRegister": ("differencing_figure", "PreparedRegister"),
    "Presentation": ("outputs.presentation", "Presentation"),
    "Progress": ("progress", "Progress"),
    "ProtectedTable": ("outputs.writers", "ProtectedTable"),
    "RECORDS": ("cells", "RECORDS"),
    "RECORD_KEY_COLUMN": ("perturbation", "RECORD_KEY_COLUMN"),
    "ROUNDING_METHODS": ("spec_methods", "ROUNDING_METHODS"),
    "RULE": ("cells", "RULE"),
    "RULE_FIELDS": ("spec", "RULE_FIELDS"),
    "RULE_TOTAL": ("cells", "RULE_TOTAL"),
    "RecordKeyTabulator": ("tabulate", "RecordKeyTabulator"),
    "Recorder": ("progress", "Recorder"),
    "RoundingSpec": ("spec_methods", "RoundingSpec"),
    "RuleSet": ("spec", "RuleSet"),
    "SECONDARY_METHODS": ("spec", "SECONDARY_METHODS"),
    "SILENT": ("progress", "SILENT"),
    "STATUS": ("cells", "STATUS"),
    "Status": ("cells", "Status"),
    "StoredKeys": ("perturbation", "StoredKeys"),
    "Suggestion": ("view", "Suggestion"),
    "SuppressionSpec": ("spec", "SuppressionSpec"),
    "TableResult": ("pipeline", "TableResult"),
    "TableSpec": ("spec", "TableSpec"),
    "TableView": ("view", "TableView"),
    "Tabulation": ("tabulate", "Tabulation"),
    "Tabulator": ("tabulate", "Tabulator"),
    "UPPER": ("cells", "UPPER"),
    "VALUE": ("cells", "VALUE"),
    "ViewRow": ("view", "ViewRow"),
    "apply_primary_rules": ("rules", "apply_primary_rules"),
    "audit_linked": ("audit", "audit_linked"),
    "audit_table": ("audit", "audit_table"),
    "build_report": ("outputs.report", "build_report"),
    "build_view": ("view", "build_view"),
    "build_views": ("view", "build_views"),
    "cells_csv_text": ("outputs.cells_csv", "cells_csv_text"),
    "check_differencing": ("differencing", "check_differencing"),
    "compare_methods": ("compare", "compare_methods"),
    "csv_field": ("formats.injection", "csv_field"),
    "csv_row": ("formats.injection", "csv_row"),
    "csv_unescape": ("formats.injection", "csv_unescape"),
    "entry_text": ("view", "entry_text"),
    "export_table": ("formats.export", "export_table"),
    "formula_escaped": ("outputs.cells_csv", "formula_escaped"),
    "generate_ptable": ("perturbation", "generate_ptable"),
    "hierarchy_text": ("formats.hierarchies", "hierarchy_text"),
    "interval_text": ("view", "interval_text"),
    "linked_tables": ("pipeline", "linked_tables"),
    "load_hierarchy": ("formats.hierarchies", "load_hierarchy"),
    "load_key_material": ("perturbation", "load_key_material"),
    "load_spec": ("spec", "load_spec"),
    "loss_measures": ("loss", "loss_measures"),
    "measure_key": ("pipeline", "measure_key"),
    "normalise_cells": ("formats.statuses", "normalise_cells"),
    "outputs_agree": ("differencing", "outputs_agree"),
    "pairs_for": ("occupancy", "pairs_for"),
    "parse_rules": ("spec", "parse_rules"),
    "parse_spec": ("spec", "parse_spec"),
    "percent_text": ("view", "percent_text"),
    "present": ("outputs.presentation", "present"),
    "progress_stage": ("progress", "stage"),
    "protect_all": ("pipeline", "protect_all"),
    "protect_secondary": ("secondary", "protect_secondary"),
    "ptable_identity": ("perturbation", "ptable_identity"),
    "published_cells": ("outputs.writers", "published_cells"),
    "read_cells": ("outputs.reader", "read_cells"),
    "read_output": ("view", "read_output"),
    "read_output_cells": ("outputs.reader", "read_output_cells"),
    "record_key_fractions": ("perturbation.keys", "key_fractions"),
    "record_keys": ("perturbation", "record_keys"),
    "render_html": ("view", "render_html"),
    "restrict": ("population", "restrict"),
    "safe_text": ("view", "safe_text"),
    "spec_hierarchies": ("outputs.reader", "spec_hierarchies"),
    "splitmix64": ("perturbation.cellkey", "splitmix64"),
    "suggest_coarser": ("view", "suggest_coarser"),
    "tables": ("pipeline", "tables"),
    "top_column": ("cells", "top_column"),
    "view_table": ("view", "view_table"),
    "with_format": ("outputs.cells_csv", "with_format"),
    "with_protection": ("protect_methods", "with_protection"),
    "write_all": ("outputs.writers", "write_all"),
    "write_comparison": ("compare", "write_comparison"),
    "xlsx_text": ("formats.injection", "xlsx_text"),
}


class _Package(types.ModuleType):
    """This package, whose ``tabulate`` is the function, as its eager imports had it.

    ``tabulate`` is also a subpackage's name, and importing a subpackage binds it on its
    parent: the function is looked up on use, and that binding is ignored.
    """

    @property
    def tabulate(self) -> Any:
        from fivesafes.sdc.tabulate.duckdb_tabulator import tabulate

        return tabulate

    @tabulate.setter
    def tabulate(self, _subpackage: Any) -> None:
        pass


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, attribute = _WHERE[name]
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    globals()[name] = value
    return value


__all__ = [
    "CELL_KEY",
    "CONFIDENTIAL_SYMBOL",
    "CONTRIBUTORS",
    "DEFAULT_TOTAL_CODE",
    "EXACT_AUDIT_MAX_CELLS",
    "EXPORT_TOOLS",
    "GOLDEN_GAMMA",
    "HIERARCHY_FORMATS",
    "INTERVAL_MODES",
    "KEYED_METHODS",
    "LOWER",
    "NEGATIVES",
    "NOT_AVAILABLE_SYMBOL",
    "PROTECTION_METHODS",
    "PUBLISHED",
    "RECORDS",
    "RECORD_KEY_COLUMN",
    "ROUNDING_METHODS",
    "RULE",
    "RULE_FIELDS",
    "RULE_TOTAL",
    "SECONDARY_METHODS",
    "SILENT",
    "STATUS",
    "UPPER",
    "VALUE",
    "AuditResult",
    "Cell",
    "Comparison",
    "DifferencingResult",
    "DimensionSpec",
    "Disclosure",
    "DuckDBTabulator",
    "Hierarchy",
    "HierarchyLoader",
    "InconsistentOutputs",
    "Interval",
    "IntervalMode",
    "KeyMaterial",
    "LevelLoss",
    "Loss",
    "MicrodataLike",
    "NumericCodesWarning",
    "Occupancy",
    "OutputTable",
    "OutputsContradictData",
    "PerturbationSpec",
    "Population",
    "PreparedRegister",
    "Presentation",
    "Progress",
    "ProtectedTable",
    "RecordKeyTabulator",
    "Recorder",
    "RoundingSpec",
    "RuleSet",
    "Status",
    "StoredKeys",
    "Suggestion",
    "SuppressionSpec",
    "TableResult",
    "TableSpec",
    "TableView",
    "Tabulation",
    "Tabulator",
    "ViewRow",
    "apply_primary_rules",
    "audit_linked",
    "audit_table",
    "build_report",
    "build_view",
    "build_views",
    "cells_csv_text",
    "check_differencing",
    "compare_methods",
    "csv_field",
    "csv_row",
    "csv_unescape",
    "entry_text",
    "export_table",
    "formula_escaped",
    "generate_ptable",
    "hierarchy_text",
    "interval_text",
    "linked_tables",
    "load_hierarchy",
    "load_key_material",
    "load_spec",
    "loss_measures",
    "measure_key",
    "normalise_cells",
    "outputs_agree",
    "pairs_for",
    "parse_rules",
    "parse_spec",
    "percent_text",
    "present",
    "progress_stage",
    "protect_all",
    "protect_secondary",
    "ptable_identity",
    "published_cells",
    "read_cells",
    "read_output",
    "read_output_cells",
    "record_key_fractions",
    "record_keys",
    "render_html",
    "restrict",
    "safe_text",
    "spec_hierarchies",
    "splitmix64",
    "suggest_coarser",
    "tables",
    "tabulate",
    "top_column",
    "view_table",
    "with_format",
    "with_protection",
    "write_all",
    "write_comparison",
    "xlsx_text",
]
