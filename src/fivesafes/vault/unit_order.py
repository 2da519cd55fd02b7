"""The place of a record among its unit's records, from its content, not its row.

A unit with several records (the jobs of a person) needs a key per record, drawn by the
unit and the record's *occurrence* (vault/unit_keys.py). Counted in the order of the file
(scheme v1), the occurrence moves with the rows: the same records in another order swap
keys, and a cell holding some of the unit's records gets another cell key, so other
noise. Here the occurrence is the record's rank among its unit's records when they are
ordered by a keyed digest of their content: every column, by name, each value as text
(as Arrow writes it, so 12 and 12.0 agree). The same records then get the same keys in
any order of the rows. Two records with the same content tie; which of them gets which
key depends on the rows' order, and it does not matter: they lie in exactly the same
cells, so every cell's sum of keys is the same either way.

The rank needs every record of a unit before any key is drawn, so an ingest reads its
data twice (:func:`unit_order` first): 20 bytes a record are held between the passes.

The value digest is SipHash-2-4 (pandas' ``hash_array``) under a 64-bit key per column
derived from the area's secret; the order needs to be fixed by the content, not secret
(the keys drawn with it are: AES under the secret), and a test pins its outputs.
The second pass checks each record's unit against the first's; a file changed meanwhile
is refused by its size and time (vault/ingest.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from fivesafes.errors import DataError
from fivesafes.sdc import GOLDEN_GAMMA, splitmix64

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
_COLUMN_PERSON = b"fivesafes-ord2"  # BLAKE2b personalisation: a column's value-hash key
_MIX = np.uint64(GOLDEN_GAMMA)
_MAX_RECORDS = 2**32  # ranks are stored as 4 bytes
_NULL = np.uint64(2**64 - 1)  # a null value's digest


def _text(
    column: pa.Array | pa.ChunkedArray,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """Each value as text ("" for null) and where the nulls are; a type Arrow cannot write
    as text, by its repr."""
    try:
        text = column.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        text = pa.array([None if v is None else repr(v) for v in column.to_pylist()], pa.string())
    nulls = text.is_null().to_numpy(zero_copy_only=False)
    values = text.fill_null("").to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=object), np.asarray(nulls, dtype=bool)


def content_digests(batch: pa.RecordBatch, secret: bytes) -> U64:
    """A 64-bit digest of each record's content: every column (in the order of their
    names, so a file's column order does not matter), each value as text."""
    acc = np.zeros(batch.num_rows, dtype=np.uint64)
    for name in sorted(batch.schema.names):
        key = hashlib.blake2b(
            name.encode("utf-8"), key=secret, digest_size=8, person=_COLUMN_PERSON
        ).hexdigest()  # 16 characters: the 16 bytes SipHash takes
        text, nulls = _text(batch.column(name))
        # not categorize: factorising first costs ten times the hashing on distinct values
        values = pd.util.hash_array(text, hash_key=key, categorize=False).astype(np.uint64)
        values[nulls] = _NULL  # a null is no text: not "" (nor "None", as pandas hashes it)
        acc = splitmix64((acc * _MIX) ^ values)
    return acc


@dataclass(frozen=True)
class UnitOrder:
    """Each record's unit (64 bits of its digest), content digest and rank in its unit,
    in the order the data came in."""

    units: U64
    contents: U64
    ranks: U32

    def occurrences(self, start: int, units: U64) -> npt.NDArray[np.int64]:
        """The ranks of the records at ``start`` onwards, if they are of the units seen
        there (a change of other values is the file's size or time: ingest.py refuses it)."""
        stop = start + len(units)
        if stop > len(self.units) or not np.array_equal(self.units[start:stop], units):
            raise DataError(
                "the data changed between the two readings of the ingest",
                hint="ingest a file that is not being written to",
            )
        return self.ranks[start:stop].astype(np.int64)

    @property
    def records(self) -> int:
        """How many records the first reading saw."""
        return len(self.units)


def rank_in_units(units: U64, contents: U64) -> U32:
    """Each record's rank among its unit's records ordered by content (ties in the order
    given: they are the same record, and lie in the same cells)."""
    if len(units) >= _MAX_RECORDS:
        raise DataError(f"more than {_MAX_RECORDS} records", hint="split the dataset")
    order = np.lexsort((contents, units))  # stable: by unit, then content, then position
    ranked = units[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(units)]))
    ranks = np.empty(len(units), dtype=np.uint32)
    ranks[order] = np.arange(len(units)) - first
    return ranks


def unit_order(pairs: Iterable[tuple[U64, U64]]) -> UnitOrder:
    """The ranks of all records, from each batch's (unit digests, content digests)."""
    units: list[U64] = []
    contents: list[U64] = []
    for u, c in pairs:
        units.append(u)
        contents.append(c)
    all_units = np.concatenate(units) if units else np.zeros(0, dtype=np.uint64)
    all_contents = np.concatenate(contents) if contents else np.zeros(0, dtype=np.uint64)
    return UnitOrder(all_units, all_contents, rank_in_units(all_units, all_contents))
