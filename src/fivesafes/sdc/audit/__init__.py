"""The independent audit of a table: the attacker's linear programs for every hidden cell.

``audit_table`` audits one table, ``audit_linked`` tables that share cells; both
return an :class:`AuditResult`. The modules of this wing: ``table`` (the entry
points), ``inputs`` (what the audit reads from a cells table), ``intervals`` (which
LPs to solve), ``local`` and ``batch`` (cheaper proofs), ``singleton`` (what one
contributor learns), ``witness`` (a method's moves, verified), ``result``.
"""

from fivesafes.sdc.audit.result import INTERVAL_COLUMNS, INTERVAL_MODES, AuditResult, IntervalMode
from fivesafes.sdc.audit.table import audit_cells, audit_linked, audit_table, combine_linked

__all__ = [
    "INTERVAL_COLUMNS",
    "INTERVAL_MODES",
    "AuditResult",
    "IntervalMode",
    "audit_cells",
    "audit_linked",
    "audit_table",
    "combine_linked",
]
