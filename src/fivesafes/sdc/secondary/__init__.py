"""Secondary (complementary) suppression: hide further cells so no primary can be recovered.

Entry points: :func:`protect_secondary` for one table, :func:`protect_linked` for
tables that share cells. Methods: ``optimal`` (MIP with constraint generation),
``modular`` (hierarchical decomposition, each sub-table optimal), ``fast`` (greedy with
LP repair) and ``auto``. Every method ends with its own attacker-LP check, so the
pattern returned meets every protection requirement; the independent audit
(:mod:`fivesafes.sdc.audit`) is run after, by the caller.
"""

from __future__ import annotations

from fivesafes.sdc.secondary.linked import protect_linked
from fivesafes.sdc.secondary.protect import choose_method, protect_secondary
from fivesafes.sdc.secondary.result import LinkedSecondaryResult, SecondaryResult

__all__ = [
    "LinkedSecondaryResult",
    "SecondaryResult",
    "choose_method",
    "protect_linked",
    "protect_secondary",
]
