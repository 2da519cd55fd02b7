"""Record keys and the key material they come from.

Each record gets a key uniform in [0, 1): a keyed pseudo-random function (BLAKE2b in
its keyed mode, RFC 7693, personalised for this use) of the record's identifier
under a per-dataset secret, cut to 53 bits so that it is exactly a float64. Without
the secret nobody can recompute the keys; with it, they are the same every run.

A cell's key is the sum of its records' keys mod 1. The tabulation computes it on
the integer form (key * 2**53, summed mod 2**53), which is exact and independent of
the order of summation, so the same records give the same cell key in every table.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fivesafes.errors import DataError, KeyProviderError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

KEY_BITS = 53
KEY_SCALE = 2**KEY_BITS  # a record key k / 2**53; cell keys are sums mod this
MIN_SECRET_BYTES = 16
SECRET_ENV = "FIVESAFES_CELLKEY_SECRET"  # noqa: S105 (the variable's name, not a secret)
RECORD_KEY_COLUMN = "_fivesafes_record_key"  # where attached keys travel with the data
_PERSON = b"fivesafes-rkey1"  # BLAKE2b personalisation: these keys and nothing else
_MISSING = "perturbation is never published when the key material is missing"


@dataclass(frozen=True)
class KeyMaterial:
    """A per-dataset secret for record keys and where it came from (never printed)."""

    secret: bytes = field(repr=False)
    origin: str

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_BYTES:
            raise KeyProviderError(
                f"the key material from {self.origin} has {len(self.secret)} bytes; "
                f"record keys need at least {MIN_SECRET_BYTES}",
                hint="make one with: head -c 32 /dev/urandom > cellkey.key; chmod 600 cellkey.key",
            )

    @property
    def fingerprint(self) -> str:
        """A short digest that tells two secrets apart without revealing either."""
        return hashlib.blake2b(self.secret, digest_size=8, person=b"fivesafes-keyfp").hexdigest()


def record_keys(secret: bytes, ids: Iterable[object]) -> FloatArray:
    """Each record's key in [0, 1) (53 bits) from its identifier, under ``secret``.

    An identifier is used as its text (``str(id)``, UTF-8): 17 and "17" get the same key.
    """
    material = KeyMaterial(bytes(secret), "the caller")
    key = material.secret
    if len(key) > 64:  # BLAKE2b takes keys up to 64 bytes
        key = hashlib.sha256(key).digest()
    digests = []
    for value in ids:
        if value is None:
            raise DataError("a record has no identifier", hint="every record needs its identifier")
        text = value if isinstance(value, str) else str(value)
        digests.append(
            hashlib.blake2b(text.encode("utf-8"), key=key, digest_size=8, person=_PERSON).digest()
        )
    return key_fractions(b"".join(digests))


def key_fractions(stream: bytes) -> FloatArray:
    """Record keys in [0, 1) from pseudo-random bytes, 8 per key (the top 53 bits)."""
    words = np.frombuffer(stream, dtype=">u8").astype(np.uint64)
    out: FloatArray = (words >> np.uint64(64 - KEY_BITS)).astype(np.float64) / float(KEY_SCALE)
    return out


def key_integers(keys: FloatArray) -> IntArray:
    """Record keys as the integers the tabulation sums (exact: keys are k / 2**53)."""
    arr = np.asarray(keys, dtype=np.float64)
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() >= 1):
        raise DataError("record keys must lie in [0, 1)", hint="draw them with record_keys()")
    ints = np.asarray(arr * KEY_SCALE, dtype=np.int64)
    if np.any(ints.astype(np.float64) != arr * KEY_SCALE):
        raise DataError(
            "record keys must be multiples of 2**-53", hint="draw them with record_keys()"
        )
    return ints


def cell_keys(integer_sums: npt.ArrayLike) -> FloatArray:
    """Cell keys in [0, 1) from the tabulation's integer key sums (already mod 2**53)."""
    ints = np.asarray(integer_sums, dtype=np.int64) % KEY_SCALE
    out: FloatArray = ints.astype(np.float64) / float(KEY_SCALE)
    return out


def load_key_material(
    key_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> KeyMaterial:
    """The secret from ``key_file`` (mode 0600), else from $FIVESAFES_CELLKEY_SECRET (hex).

    Raises KeyProviderError when there is none: perturbed values are never produced
    from a missing, short or exposed secret.
    """
    env = os.environ if environ is None else environ
    if key_file is not None:
        return _from_file(Path(key_file))
    text = env.get(SECRET_ENV, "").strip()
    if text:
        try:
            secret = bytes.fromhex(text)
        except ValueError:
            raise KeyProviderError(
                f"${SECRET_ENV} is not hexadecimal", hint="e.g. the output of: openssl rand -hex 32"
            ) from None
        return KeyMaterial(secret, f"${SECRET_ENV}")
    raise KeyProviderError(
        f"{_MISSING}: give --key-file FILE or set ${SECRET_ENV}",
        hint="the record keys come from a per-dataset secret: keep it (e.g. head -c 32 "
        "/dev/urandom > cellkey.key; chmod 600 cellkey.key) and use the same one for every "
        "table of the dataset, or the same cell gets different values",
    )


def _from_file(path: Path) -> KeyMaterial:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyProviderError(f"{_MISSING}: key file {path} does not exist") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyProviderError(f"key file {path} is not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise KeyProviderError(
            f"key file {path} is readable by others (mode {mode:o})",
            hint=f"run: chmod 600 {path}",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyProviderError(f"cannot read key file {path}: {exc.strerror}") from None
    text = data.strip()
    # a key written as hex text (openssl rand -hex 32) is its bytes, not its characters
    if text and len(text) % 2 == 0 and all(c in b"0123456789abcdefABCDEF" for c in text):
        data = bytes.fromhex(text.decode("ascii"))
    return KeyMaterial(data, f"key file {path}")


@dataclass(frozen=True)
class StoredKeys:
    """Record keys already in the data (drawn at ingest): the column that holds them, and
    how they were drawn (recorded in the report: two tables whose keys were drawn apart
    perturb the same units independently, release/regimes.py)."""

    column: str
    drawn: str = ""


RecordKeySource = KeyMaterial | StoredKeys
