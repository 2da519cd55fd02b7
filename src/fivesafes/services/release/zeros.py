"""The zeros of a proven source's data, for the differencing check at submission.

A table of the units of country X, checked with a release by region, reveals a hidden
region when the data put each region in one country (sdc/occupancy.py). The model
sees that only if it knows which combinations hold no unit, and only the data say so.
``table protect --dataset`` reads them while it protects; this reads them again for the
check that gates the release, from the dataset the stored output was made from, inside
the server and in memory only (the rows never leave this module: only which value
pairs occur, and those only reach the check's model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from fivesafes.engine.memory import memory_only_connection
from fivesafes.errors import ConflictError
from fivesafes.release.differencing_scope import EarlierRelease
from fivesafes.release.source import split_source
from fivesafes.sdc import RECORD_KEY_COLUMN, Occupancy, OutputTable, pairs_for
from fivesafes.sdc.tabulate import data_occupancy
from fivesafes.services.governance.lookup import dataset_row
from fivesafes.services.vault.register import DATASET, Vault, stored_row
from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.reader import decrypt

# (the output, the releases it is compared with) -> the zeros of the source's data, or None
OccupancyFor = Callable[[OutputTable, Sequence[OutputTable]], Occupancy | None]
# The zeros are read inside the caller's transaction (a submission, a vote, a
# publication, a figure's check), which may hold the audit log's lock already (it audits
# before its checks). A key rotation or a dataset's destruction holds the area lock
# exclusive and then audits: waiting for the area lock without end here, each would
# wait for the other for ever (PostgreSQL cannot see a file lock). So the wait is
# bounded; the transaction then ends with a clear error, and the rotation goes on.
AREA_LOCK_WAIT_SECONDS = 30.0


def paired_with(earlier: Sequence[EarlierRelease], source: str) -> list[OutputTable]:
    """The earlier outputs whose columns may pair with a new output of ``source`` in the
    check's run as that source (differencing_scope._runs_for): its own releases, and those
    whose source was only declared. The zeros are read for those pairs."""
    return [e.table for e in earlier if e.source == source or not e.verified]


def data_zeros(
    session: Session, vault: Vault | None, area: str, source: str
) -> OccupancyFor | None:
    """Reads the zeros of ``source``'s dataset for the check (None: no data to read, or
    no vault to read it from).

    Not for a derived dataset: its rows are part of its family's units, so combinations
    that only the rest of the family holds would look empty.
    """
    if vault is None:
        return None
    dataset, _ = split_source(source)
    row = dataset_row(session, dataset)
    if row.derived_from_id is not None:
        return None
    if stored_row(session, row.area_id, DATASET, dataset) is None:
        return None  # destroyed (retention): nothing to read
    store = vault.store(area)

    def occupancy_for(new: OutputTable, earlier: Sequence[OutputTable]) -> Occupancy | None:
        pairs = pairs_for(new, earlier)
        wanted = sorted({c for pair in pairs for c in pair} - {RECORD_KEY_COLUMN})
        if not wanted:
            return None
        # (inside the transaction: not queued behind a rotation waiting for the area, which
        # may be waiting for this transaction's audit lock; see vault/area_lock.py)
        with area_lock(store, exclusive=False, timeout=AREA_LOCK_WAIT_SECONDS, queue=False) as held:
            if not held:
                raise ConflictError(
                    f"the data of {area}/{dataset} could not be read for the differencing "
                    f"check: area {area} is locked by a key rotation or a dataset's destruction",
                    hint="submit again once the rotation or destruction has finished",
                    value_free=True,  # names an area and a dataset, nothing of the rows
                )
            # the footer first (its column names), then only the columns asked for
            with decrypt(store, vault.provider, dataset, columns=[]) as opened:
                present = [c for c in wanted if c in opened.column_names()]
                if not present:
                    return None
                opened.need(present)
                rows = pq.read_table(opened.path, columns=present)
        con = memory_only_connection(vault.memory_limit, threads=1)
        try:
            con.register("source_rows", rows)
            return data_occupancy(con, "source_rows", set(present), pairs)
        finally:
            con.close()
            del rows

    return occupancy_for
