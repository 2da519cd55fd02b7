"""The disclosure log: answered FOI and EIR requests, published as CSV and HTML.

Built from closed cases only, with no personal data: the requester is never part of an
entry (it is sealed and this module never sees it). Text is escaped for HTML and kept
from starting a spreadsheet formula in CSV (``fivesafes.sdc.csv_row``).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from fivesafes.requests.kinds import RequestKind
from fivesafes.sdc import csv_row

LOGGED_KINDS = frozenset({RequestKind.FOI, RequestKind.EIR})
COLUMNS = ("reference", "kind", "received", "answered", "outcome", "summary", "exemptions",
           "figures", "releases")  # fmt: skip


@dataclass(frozen=True)
class LogEntry:
    """One answered request as the public sees it."""

    reference: str
    kind: RequestKind
    received: date
    answered: date
    outcome: str
    summary: str
    exemptions: tuple[str, ...]
    figures: tuple[tuple[str, float], ...]  # (cell, approved value)
    releases: tuple[str, ...] = ()  # published releases that are part of the answer

    def row(self) -> list[str]:
        """The entry's fields, in :data:`COLUMNS` order."""
        return [
            self.reference,
            self.kind.value.upper(),
            self.received.isoformat(),
            self.answered.isoformat(),
            self.outcome,
            self.summary,
            "; ".join(self.exemptions),
            "; ".join(f"{cell} = {value:g}" for cell, value in self.figures),
            "; ".join(self.releases),
        ]


def log_csv(entries: Sequence[LogEntry]) -> str:
    """The log as CSV text (a header, then one row per entry)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow(csv_row(list(entry.row())))
    return out.getvalue()


def log_html(entries: Sequence[LogEntry], organisation: str) -> str:
    """The log as a self-contained HTML page."""
    head = "".join(f"<th scope='col'>{html.escape(c)}</th>" for c in COLUMNS)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in entry.row()) + "</tr>"
        for entry in entries
    )
    title = f"Disclosure log: {html.escape(organisation)}"
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head><meta charset='utf-8'>"
        f"<title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n"
        f"<p>{len(entries)} answered request(s) under the Freedom of Information Act 2000 "
        "and the Environmental Information Regulations 2004.</p>\n"
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n"
        "</body>\n</html>\n"
    )
