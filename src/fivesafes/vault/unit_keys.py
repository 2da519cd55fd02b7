"""Record keys that follow the unit: the same unit gets the same keys in every version of
its dataset, in every dataset of its family and (scheme v2) in every dataset of the area
that names the same unit column.

The cell key method promises that the same set of units always gets the same
perturbation. Keys drawn by row number (vault/record_keys.py) break that as soon as a
row is inserted, deleted or moved (every later key shifts) and between a parent and a
derived dataset (other names, other row numbers): two independent perturbations of one
set of units, which an intruder averages. So a dataset that names its unit identifier
(``dataset add --unit``) keys each record by its unit instead:

    d   = BLAKE2b-128(unit id as text; key = the hash key)
    key = top 53 bits of AES-256(the AES key; d[:12] || occurrence, 4 bytes)

Scheme ``blake2b-aes-unit/v2`` (every ingest since): both keys are derived from the
area's record-key secret and the **unit namespace**, the name of the unit column
(``person``), never a dataset's or a family's name: a new version of a dataset stored
under another name, not declared derived, still gets the same keys for the same units,
so its tables cannot be averaged with the old one's. ``occurrence`` is the record's rank
among its unit's records ordered by their content (vault/unit_order.py), so the order of
the rows changes no key. Scheme ``blake2b-aes-unit/v1`` (datasets stored before, kept
readable and named as they were in their reports) derived the keys from the family (the
root of the ``--derived-from`` chain) and counted the occurrence in the order of the file.

Several records of one unit (the jobs of a person) each need a key of their own: one key
repeated would count the unit twice in every cell that holds both. A cell that holds all
of a unit's records gets the same sum of keys in any order. Both keys come from the
secret, so nobody outside the area can compute them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fivesafes.errors import DataError
from fivesafes.sdc import RECORD_KEY_COLUMN, record_key_fractions
from fivesafes.vault.unit_order import UnitOrder, content_digests, unit_order
from fivesafes.vault.units import unit_text

# recorded in the manifest: keys by unit namespace and rank of the record's content
UNIT_SCHEME = "blake2b-aes-unit/v2"
UNIT_SCHEME_V1 = "blake2b-aes-unit/v1"  # by family and occurrence in file order (before)
_FAMILY_PERSON = b"fivesafes-fuk1"  # BLAKE2b personalisation: a family's two keys (v1)
_NAMESPACE_PERSON = b"fivesafes-nsk2"  # BLAKE2b personalisation: a namespace's two keys
_UNIT_PERSON = b"fivesafes-unit1"  # BLAKE2b personalisation: a unit id's digest
_DIGEST = 16
_ID_BYTES = 12  # of the digest in the AES block; the occurrence takes the other 4
_MAX_OCCURRENCE = 2**32

FloatArray = npt.NDArray[np.float64]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class UnitKeying:
    """Key records by ``column`` (the unit identifier) within ``family`` (its root dataset)."""

    column: str
    family: str


@dataclass(frozen=True)
class FamilyKeys:
    """The two keys of a family (never printed)."""

    hash_key: bytes
    aes_key: bytes

    def __repr__(self) -> str:
        return "FamilyKeys(...)"


def family_keys(secret: bytes, family: str) -> FamilyKeys:
    """The keys of ``family`` (its root dataset's name) under the area's record-key secret."""
    return _derived_keys(secret, family, _FAMILY_PERSON)


def namespace_keys(secret: bytes, unit_column: str) -> FamilyKeys:
    """The keys of the unit namespace ``unit_column`` under the area's record-key secret
    (scheme v2): the same for every dataset of the area that names this unit column."""
    return _derived_keys(secret, unit_column, _NAMESPACE_PERSON)


def _derived_keys(secret: bytes, name: str, person: bytes) -> FamilyKeys:
    # one BLAKE2b of the name under the secret, personalised per scheme: 64 bytes, two keys
    both = hashlib.blake2b(name.encode("utf-8"), key=secret, digest_size=64, person=person).digest()
    return FamilyKeys(both[:32], both[32:])


def unit_digests(text: pa.Array, keys: FamilyKeys) -> tuple[npt.NDArray[np.uint8], int]:
    """Each unit id's keyed digest (one row of 16 bytes per record) and how many are null.

    Each distinct id of the batch is hashed once; a null gets zeros (the ingest then
    refuses the file)."""
    encoded = text.dictionary_encode()
    # the keyed state made once and copied for each id: keying costs a whole block
    keyed = hashlib.blake2b(key=keys.hash_key, digest_size=_DIGEST, person=_UNIT_PERSON)
    digests = []
    for value in encoded.dictionary.to_pylist():
        state = keyed.copy()
        state.update(value.encode("utf-8"))
        digests.append(state.digest())
    digests.append(bytes(_DIGEST))  # for the nulls
    table = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, _DIGEST)
    nulls = encoded.indices.null_count
    index = encoded.indices.fill_null(len(digests) - 1).to_numpy(zero_copy_only=False)
    return table[index], nulls


class UnitCounts:
    """How many records of each unit came before, across the batches of one ingest.

    Units are held as 64-bit digests with their counts in sorted runs, merged as they
    grow (16 bytes a unit, each batch looked up in O(log units) runs): a dictionary of
    millions of units would take ten times the memory."""

    def __init__(self) -> None:
        self._runs: list[tuple[U64, I64]] = []

    def occurrences(self, units: U64) -> I64:
        """Each record's place among the records of its unit seen so far (0 for the first)."""
        if len(units) == 0:
            return np.zeros(0, dtype=np.int64)
        order = np.argsort(units, kind="stable")  # stable: a unit's records in file order
        ranked = units[order]
        distinct, first, counts = np.unique(ranked, return_index=True, return_counts=True)
        before = np.zeros(len(distinct), dtype=np.int64)
        for held, held_counts in self._runs:
            at = np.minimum(np.searchsorted(held, distinct), len(held) - 1)
            found = held[at] == distinct
            before[found] += held_counts[at[found]]
        place = np.arange(len(units), dtype=np.int64) - np.repeat(first, counts)
        out = np.empty(len(units), dtype=np.int64)
        out[order] = place + np.repeat(before, counts)
        self._add(distinct, counts.astype(np.int64))
        return out

    def _add(self, units: U64, counts: I64) -> None:
        self._runs.append((units, counts))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            newer, older = self._runs.pop(), self._runs.pop()
            both = np.concatenate([older[0], newer[0]])
            order = np.argsort(both, kind="stable")
            ranked = both[order]
            starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
            summed = np.add.reduceat(np.concatenate([older[1], newer[1]])[order], starts)
            self._runs.append((ranked[starts], summed))


def keys_for_units(
    digests: npt.NDArray[np.uint8], occurrences: I64, keys: FamilyKeys
) -> FloatArray:
    """The record keys of units (their digests) at their occurrences, in [0, 1)."""
    if len(digests) == 0:
        return np.zeros(0, dtype=np.float64)
    if occurrences.max() >= _MAX_OCCURRENCE:
        raise DataError(
            f"a unit has more than {_MAX_OCCURRENCE} records", hint="check the unit column"
        )
    blocks = np.empty((len(digests), 16), dtype=np.uint8)
    blocks[:, :_ID_BYTES] = digests[:, :_ID_BYTES]
    blocks[:, _ID_BYTES:] = occurrences.astype(">u4").view(np.uint8).reshape(-1, 4)
    # AES as a pseudo-random function of distinct 16-byte blocks, one block each: ECB is
    # exactly that (no block repeats, and nothing is encrypted to be decrypted)
    encryptor = Cipher(algorithms.AES(keys.aes_key), modes.ECB()).encryptor()  # noqa: S305
    out = np.frombuffer(encryptor.update(blocks.tobytes()) + encryptor.finalize(), np.uint8)
    return record_key_fractions(out.reshape(-1, 16)[:, :8].tobytes())


def _counted(digests: npt.NDArray[np.uint8]) -> U64:
    """The first 8 bytes of each digest, as the number :class:`UnitCounts` counts by."""
    return digests[:, :8].copy().view(">u8").ravel().astype(np.uint64)


def unit_keyed_batches(
    batches: Iterator[pa.RecordBatch], unit: UnitKeying, keys: FamilyKeys
) -> Iterator[pa.RecordBatch]:
    """Each batch with its records' keys by unit and occurrence in file order appended
    (scheme v1, kept to recompute keys of datasets stored under it); after the last
    batch, refuses data with records that have no unit (the count, never a value)."""
    counts = UnitCounts()
    nulls = 0
    for batch in batches:
        text = unit_text(batch.column(unit.column), unit.column)
        digests, missing = unit_digests(text, keys)
        nulls += missing
        occurrences = counts.occurrences(_counted(digests))
        yield batch.append_column(
            pa.field(RECORD_KEY_COLUMN, pa.float64(), nullable=False),
            pa.array(keys_for_units(digests, occurrences, keys)),
        )
    if nulls:
        raise _no_unit(nulls, unit)


def _units(
    batch: pa.RecordBatch, unit: UnitKeying, keys: FamilyKeys
) -> tuple[npt.NDArray[np.uint8], int]:
    """A batch's unit digests and its records without a unit."""
    return unit_digests(unit_text(batch.column(unit.column), unit.column), keys)


def first_reading(
    batches: Iterator[pa.RecordBatch], unit: UnitKeying, keys: FamilyKeys
) -> UnitOrder:
    """The first pass over the data (scheme v2): every record's rank within its unit, by
    its unit (64 bits of the digest) and its content's digest."""
    return unit_order(
        (_counted(_units(b, unit, keys)[0]), content_digests(b, keys.hash_key)) for b in batches
    )


def ordered_unit_batches(
    batches: Iterator[pa.RecordBatch], unit: UnitKeying, keys: FamilyKeys, order: UnitOrder
) -> Iterator[pa.RecordBatch]:
    """Each batch with its records' keys by unit and content rank appended (scheme v2);
    refuses data that differ from the first reading's, or records without a unit."""
    position = nulls = 0
    for batch in batches:
        digests, missing = _units(batch, unit, keys)
        nulls += missing
        occurrences = order.occurrences(position, _counted(digests))
        position += batch.num_rows
        yield batch.append_column(
            pa.field(RECORD_KEY_COLUMN, pa.float64(), nullable=False),
            pa.array(keys_for_units(digests, occurrences, keys)),
        )
    if position != order.records:
        raise DataError(
            "the data changed between the two readings of the ingest",
            hint="ingest a file that is not being written to",
        )
    if nulls:
        raise _no_unit(nulls, unit)


def _no_unit(nulls: int, unit: UnitKeying) -> DataError:
    return DataError(
        f"{nulls} record(s) have no value in the unit column {unit.column!r}",
        hint="every record needs its unit identifier (its record key for the cell key "
        "method and random rounding follows it): fill them in the file and ingest again",
    )


def check_unit_column(names: list[str], unit: UnitKeying) -> None:
    """Refuse data without the unit column that their dataset names."""
    if unit.column not in names:
        raise DataError(
            f"the data have no column {unit.column!r}, the unit identifier registered for "
            f"the dataset (family {unit.family!r})",
            hint=f"the file has columns {', '.join(names)}; a dataset that names its unit "
            "(dataset add --unit) must hold it in that column",
        )
