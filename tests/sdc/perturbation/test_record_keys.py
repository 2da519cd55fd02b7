"""Record keys: a keyed PRF of the identifier, fixed by the secret, and never made without one."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from fivesafes.errors import DataError, KeyProviderError
from fivesafes.sdc.perturbation.keys import (
    KEY_SCALE,
    SECRET_ENV,
    KeyMaterial,
    cell_keys,
    key_integers,
    load_key_material,
    record_keys,
)

SECRET = bytes(range(32))


def test_keys_are_53_bit_fractions_fixed_by_the_secret_and_the_identifier() -> None:
    ids = [f"P{i}" for i in range(1000)]
    a = record_keys(SECRET, ids)
    assert a.dtype == np.float64 and a.shape == (1000,)
    assert ((a >= 0) & (a < 1)).all()
    ints = a * KEY_SCALE
    assert np.array_equal(ints, np.floor(ints))  # exactly k / 2**53
    assert np.array_equal(a, record_keys(SECRET, ids))  # the same every run
    other = record_keys(bytes(reversed(SECRET)), ids)
    assert not np.any(a == other)  # another secret: other keys
    assert record_keys(SECRET, [17])[0] == record_keys(SECRET, ["17"])[0]  # text identity


def test_keys_look_uniform() -> None:
    keys = record_keys(SECRET, range(20_000))
    assert stats.kstest(keys, "uniform").pvalue > 1e-3


def test_a_short_secret_or_a_missing_identifier_is_refused() -> None:
    with pytest.raises(KeyProviderError, match="at least 16"):
        record_keys(b"short", ["a"])
    with pytest.raises(DataError, match="no identifier"):
        record_keys(SECRET, ["a", None])


def test_no_key_material_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyProviderError, match="never published when the key material is missing"):
        load_key_material(None, environ={})
    with pytest.raises(KeyProviderError, match="does not exist"):
        load_key_material(tmp_path / "nope.key", environ={})


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    path.write_bytes(SECRET)
    os.chmod(path, 0o644)
    with pytest.raises(KeyProviderError, match="readable by others"):
        load_key_material(path)
    os.chmod(path, 0o600)
    assert load_key_material(path).secret == SECRET


def test_a_hex_key_file_and_the_environment_give_the_same_secret(tmp_path: Path) -> None:
    path = tmp_path / "k.hex"
    path.write_text(SECRET.hex() + "\n")
    os.chmod(path, 0o600)
    from_file = load_key_material(path)
    from_env = load_key_material(None, environ={SECRET_ENV: SECRET.hex()})
    assert from_file.secret == from_env.secret == SECRET
    assert from_file.fingerprint == from_env.fingerprint
    assert SECRET.hex() not in repr(from_file)  # never printed
    with pytest.raises(KeyProviderError, match="not hexadecimal"):
        load_key_material(None, environ={SECRET_ENV: "not hex"})


def test_cell_keys_are_sums_mod_one_of_record_keys() -> None:
    keys = record_keys(SECRET, range(10))
    total = int(key_integers(keys).sum()) % KEY_SCALE
    expected = float(np.sum(keys)) % 1.0
    assert cell_keys([total])[0] == pytest.approx(expected, abs=1e-12)
    with pytest.raises(DataError):
        key_integers(np.array([0.5, 1.0]))
    with pytest.raises(DataError):
        key_integers(np.array([0.1]))  # not a multiple of 2**-53


def test_key_material_repr_hides_the_secret() -> None:
    assert "secret" not in repr(KeyMaterial(SECRET, "test"))
