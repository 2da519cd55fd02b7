"""Approved answers in the register: the figures later answers and releases are checked against.

An approved figure was published (sent to a requester), so it is read back as a one-cell
release of its source, labelled ``request-7-figure-3``: a table of part of the units whose
filters keep the leaves it covers among every code of each column (requests/figure.py),
unsealed from the row (the plain ``hierarchies_json`` holds only the figure's own codes).
The release wing's ``scope.area_releases`` adds them to every differencing check of the
area, releases included. A figure approved before the codes were sealed is read as it was
kept (its codes only): a check that finds it clashing with a release fails, never passes.
"""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.release.differencing_scope import EarlierRelease
from fivesafes.release.sealing import unseal
from fivesafes.release.submission import hierarchy_from_pairs
from fivesafes.requests.figure import figure_object_id
from fivesafes.sdc import STATUS, VALUE, OutputTable, Status
from fivesafes.store.models.requests import RequestFigureRow
from fivesafes.vault.keys import KeyProvider


def answer_label(case_id: int, figure_id: int) -> str:
    """How the register and refusals name an approved figure: ``request-7-figure-3``."""
    return f"request-{case_id}-figure-{figure_id}"


def area_answers(session: Session, provider: KeyProvider, area: str) -> list[EarlierRelease]:
    """The approved figures of ``area`` (every source), as one-cell releases, oldest first."""
    rows = session.scalars(
        select(RequestFigureRow)
        .where(RequestFigureRow.area == area, RequestFigureRow.approved.is_(True))
        .order_by(RequestFigureRow.id)
    ).all()
    out = []
    for row in rows:
        pairs = json.loads(row.hierarchies_json)
        if row.sealed_hierarchies is not None and row.hierarchies_wrapped_key_json is not None:
            plain = unseal(
                provider,
                row.area,
                figure_object_id(row.id),
                row.sealed_hierarchies,
                row.hierarchies_wrapped_key_json,
            )
            pairs = json.loads(plain)
        hierarchies = tuple(hierarchy_from_pairs(name, p) for name, p in pairs.items())
        cell = {**json.loads(row.codes_json), VALUE: row.value, STATUS: Status.SAFE.value}
        table = OutputTable(answer_label(row.case_id, row.id), hierarchies, pd.DataFrame([cell]))
        # The system computed it from the dataset itself: its source is proven.
        out.append(EarlierRelease(table, row.source, True))
    return out
