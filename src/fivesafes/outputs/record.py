"""One output of a session: what ACRO records (status, summary, outcome, files) and the checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fivesafes.outputs.verdict import Verdict


@dataclass(frozen=True)
class TableEvidence:
    """What a protected count or sum table needs to become a release submission."""

    measure: str  # "count" or the values column
    frequency: bool
    cells: pd.DataFrame  # sdc cells of the whole cube: codes, counts, value, status, rule
    total_codes: tuple[tuple[str, str], ...]  # (dimension, code of its total)
    reports: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Output:
    """A checked output, in ACRO's terms plus the machine-readable checks behind its status."""

    uid: str
    status: Verdict
    output_type: str  # table | regression | histogram | pie chart | survival table | ... | custom
    properties: dict[str, Any]
    sdc: dict[str, Any]  # ACRO's: {"summary": {check: cells}, "cells": {check: [[row, col]]}}
    command: str
    summary: str
    outcome: pd.DataFrame
    output: tuple[Any, ...]  # DataFrames, or paths of files (plots, custom outputs)
    checks: dict[str, Any] = field(default_factory=dict)
    comments: tuple[str, ...] = ()
    exception: str = ""
    timestamp: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())
    tables: tuple[TableEvidence, ...] = ()

    def describe(self) -> str:
        """The record as ACRO's ``print_outputs`` shows it."""
        return (
            f"uid: {self.uid}\nstatus: {self.status.text}\ntype: {self.output_type}\n"
            f"properties: {self.properties}\nsdc: {self.sdc}\ncommand: {self.command}\n"
            f"summary: {self.summary}\noutcome: {self.outcome}\noutput: {list(self.output)}\n"
            f"timestamp: {self.timestamp}\ncomments: {list(self.comments)}\n"
            f"exception: {self.exception}\n"
        )
