"""The register a researcher's session on an area's dataset is checked against.

``Session(area=AREA, dataset=DATASET, register=register_loader(tx, vault, login))``
loads, once when it is opened, the releases published from the dataset (every
``DATASET:MEASURE`` source of the area, through ``scope.area_releases``, the same
gathering the release checks and ``table protect --dataset`` use), so that an output
which would undo a published release's protection fails in the session at once, not
only at ``release submit`` (which checks again, against the register as it is then).

The hidden cells of those releases (unsealed) reach the session's process. They are
cells of the dataset itself, which the session's user may read whole; so the load is
the same access decision as reading the dataset (purpose, project, grants), audited,
and refused when the read would be. A release of another source is never loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fivesafes.governance.grants import STATISTICAL
from fivesafes.outputs.differencing import PublishedOutputs
from fivesafes.sdc import OutputTable
from fivesafes.services.context import record
from fivesafes.services.governance.lookup import area_row
from fivesafes.services.release.scope import area_releases
from fivesafes.services.vault.read import _decide, _denied, _stored_dataset
from fivesafes.services.vault.register import Transact, Vault

READ_ACTION = "release.register.read"


def session_register(
    tx: Transact,
    vault: Vault,
    login: str,
    area: str,
    dataset: str,
    purpose: str = STATISTICAL,
    *,
    today: date | None = None,
    project_ref: str | None = None,
) -> PublishedOutputs:
    """The releases of ``area``/``dataset`` for ``login``'s session: decided, audited, else
    denied (AccessDenied, as reading the dataset would be)."""
    decisions = _decide(tx, login, area, [dataset], purpose, today, project_ref)
    if not decisions[dataset].allowed:
        raise _denied(f"dataset {area}/{dataset} (its published releases)", decisions)
    _stored_dataset(tx, area, dataset)
    # the rows as the area gives them: only an output over all of them is the same source
    rows = vault.store(area).manifest(dataset, "datasets").rows
    prefix = f"{dataset}:"
    releases: dict[str, list[OutputTable]] = {}
    with tx() as session:
        for earlier in area_releases(session, vault.provider, area_row(session, area).id):
            if earlier.source.startswith(prefix):
                releases.setdefault(earlier.source, []).append(earlier.table)
        record(
            session,
            login,
            READ_ACTION,
            area=area,
            dataset=dataset,
            details={
                "purpose": purpose,
                "project": project_ref,
                "rows": rows,
                "releases": {s: [t.label for t in ts] for s, ts in sorted(releases.items())},
            },
        )
    return PublishedOutputs(dataset, rows, releases)


def register_loader(
    tx: Transact,
    vault: Vault,
    login: str,
    purpose: str = STATISTICAL,
    *,
    today: date | None = None,
    project_ref: str | None = None,
) -> Callable[[str, str], PublishedOutputs]:
    """What ``Session(register=...)`` calls once, with its area and dataset."""

    def load(area: str, dataset: str) -> PublishedOutputs:
        return session_register(
            tx, vault, login, area, dataset, purpose, today=today, project_ref=project_ref
        )

    return load
