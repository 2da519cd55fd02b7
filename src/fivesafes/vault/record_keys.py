"""Record keys drawn once per record at ingest, stored encrypted with the dataset.

The cell key method and random rounding perturb a cell from the sum of its records'
keys, so every table of a dataset must see the same key for each record. A dataset of
an area gets them here, as it is ingested: one more column (:data:`RECORD_KEY_COLUMN`)
of the encrypted Parquet, hidden from area queries and from every read but the table
protection's (whoever holds the keys of a published table's records can undo its noise).

The keys are a keystream, not random draws: AES-256 in counter mode under a key derived
for the dataset from the area's record-key secret (random, wrapped by the area key like
a data key, re-wrapped at rotation), the record's row number selecting the block. So
nobody can recompute them outside the area, and ingesting the same file under the same
name again gives the same keys (the same cells keep their perturbation).

That holds only for the same rows in the same order: a row inserted, deleted or moved
shifts every later key, and another dataset holding the same units gets other keys. A
dataset that names its unit identifier (``dataset add --unit``) is keyed by unit
instead (vault/unit_keys.py); this scheme stays for the datasets that do not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fivesafes.errors import DataError
from fivesafes.sdc import RECORD_KEY_COLUMN, record_key_fractions
from fivesafes.vault.area_secret import area_secret, rewrap_area_secret
from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.store import AreaStore

SECRET_FILE = "record-keys.json"  # noqa: S105 (a file name)
SECRET_OBJECT = "record-key-secret"  # noqa: S105 (an object id)
SCHEME = "aes-256-ctr-row/v1"  # recorded in the manifest: keys by row number
_PERSON = b"fivesafes-dsrk1"  # BLAKE2b personalisation: a dataset's keystream key
_BLOCK = 16  # AES block: two 8-byte record keys each

FloatArray = npt.NDArray[np.float64]


def area_record_secret(store: AreaStore, provider: KeyProvider) -> bytes:
    """The area's record-key secret, created (and wrapped by the area key) on first use."""
    return area_secret(store, provider, SECRET_FILE, SECRET_OBJECT)


def rewrap_record_secret(store: AreaStore, provider: KeyProvider) -> bool:
    """Re-wrap the area's record-key secret under the current area key; False if none."""
    return rewrap_area_secret(store, provider, SECRET_FILE, SECRET_OBJECT)


def dataset_key(secret: bytes, dataset: str) -> bytes:
    """The keystream key of one dataset: BLAKE2b of its name under the area's secret."""
    return hashlib.blake2b(
        dataset.encode("utf-8"), key=secret, digest_size=32, person=_PERSON
    ).digest()


def keys_for_rows(key: bytes, start: int, count: int) -> FloatArray:
    """The keys of rows ``start .. start+count-1`` in [0, 1), multiples of 2**-53."""
    if count <= 0:
        return np.zeros(0, dtype=np.float64)
    first_block, skip = divmod(start * 8, _BLOCK)
    blocks = -(-(skip + count * 8) // _BLOCK)
    counter = first_block.to_bytes(_BLOCK, "big")
    encryptor = Cipher(algorithms.AES(key), modes.CTR(counter)).encryptor()
    stream = encryptor.update(bytes(blocks * _BLOCK)) + encryptor.finalize()
    return record_key_fractions(stream[skip : skip + count * 8])


def check_no_key_column(names: list[str]) -> None:
    """Refuse data that already have a column of the record keys' name."""
    if RECORD_KEY_COLUMN in names:
        raise DataError(
            f"the data have a column named {RECORD_KEY_COLUMN!r}, which fivesafes keeps for "
            "the record keys it draws at ingest",
            hint="rename or drop that column before ingesting",
        )


def with_record_keys(schema: pa.Schema) -> pa.Schema:
    """The schema with the record-key column appended."""
    check_no_key_column(list(schema.names))
    return schema.append(pa.field(RECORD_KEY_COLUMN, pa.float64(), nullable=False))


def keyed_batches(batches: Iterator[pa.RecordBatch], key: bytes) -> Iterator[pa.RecordBatch]:
    """Each batch with its rows' record keys appended (rows numbered across batches)."""
    row = 0
    for batch in batches:
        keys = keys_for_rows(key, row, batch.num_rows)
        row += batch.num_rows
        yield batch.append_column(
            pa.field(RECORD_KEY_COLUMN, pa.float64(), nullable=False), pa.array(keys)
        )


def without_record_keys(table: pa.Table) -> pa.Table:
    """``table`` without the record-key column (what every reader but protection gets)."""
    if RECORD_KEY_COLUMN in table.column_names:
        return table.drop_columns([RECORD_KEY_COLUMN])
    return table
