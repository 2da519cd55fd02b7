"""Researchers' outputs, checked as ACRO checks them, protected as fivesafes protects tables.

    from fivesafes.outputs import Session
    s = Session(suppress=True)                 # ACRO's rules, or rules=<organisation's RuleSet>
    s.crosstab(df.region, df.industry, margins=True)
    s.finalise("outputs")

A drop-in for ``acro.ACRO`` (same calls, same verdicts where ACRO is right) with real
secondary suppression (margins stay true totals), a differencing check across the
session's outputs, DuckDB tabulation, and ACRO's results.json read and written.
See docs/outputs.md.
"""

from fivesafes.outputs.acro_json import read_results
from fivesafes.outputs.differencing import EarlierOutputs, PublishedOutputs, SourceKey
from fivesafes.outputs.record import Output
from fivesafes.outputs.rules import ACRO_RULES, OutputRules, from_acro_config, from_ruleset
from fivesafes.outputs.session import Session
from fivesafes.outputs.verdict import Verdict

__all__ = [
    "ACRO_RULES",
    "EarlierOutputs",
    "Output",
    "OutputRules",
    "PublishedOutputs",
    "Session",
    "SourceKey",
    "Verdict",
    "from_acro_config",
    "from_ruleset",
    "read_results",
]
