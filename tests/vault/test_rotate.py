"""Rotation re-wraps data keys without touching the data; the old key opens nothing after."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fivesafes.errors import KeyProviderError
from fivesafes.vault import AreaStore, FileKeyProvider, ingest_file, open_table, rotate_area_key
from fivesafes.vault.envelope import open_data_key
from fivesafes.vault.keys import WrappedKey
from fivesafes.vault.pseudonymise import area_pseudonym_key
from fivesafes.vault.query import query_area


def test_rotation(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path, home: Path
) -> None:
    ingest_file(store, provider, survey_csv, name="a", ingested_by="x", pseudonymise=["person_id"])
    ingest_file(store, provider, survey_csv, name="b", ingested_by="x")
    query_area(store, provider, "SELECT count(*) FROM a", run_by="x", name="out1")
    tables = {n: open_table(store, provider, n) for n in ("a", "b")}
    ciphertexts = {
        n: hashlib.sha256(store.data_path(n).read_bytes()).hexdigest() for n in ("a", "b")
    }
    pkey = area_pseudonym_key(store, provider)
    old_key = (home / "keys" / "survey" / "v1.key").read_bytes()
    old_wrapped = {n: store.manifest(n).wrapped_key for n in ("a", "b")}

    r = rotate_area_key(store, provider)

    assert (
        r.new_key_id == "survey/v2" and r.destroyed_key_ids == ("survey/v1",) and r.rewrapped == 3
    )
    assert provider.key_ids("survey") == ["survey/v2"]
    assert not (home / "keys" / "survey" / "v1.key").exists()
    for n in ("a", "b"):
        assert store.manifest(n).wrapped_key.key_id == "survey/v2"
        # Data not re-encrypted: same ciphertext, still opens to the same table.
        assert hashlib.sha256(store.data_path(n).read_bytes()).hexdigest() == ciphertexts[n]
        assert open_table(store, provider, n).equals(tables[n])
    assert open_table(store, provider, "out1", kind="outputs").num_rows == 1
    assert area_pseudonym_key(store, provider) == pkey  # pseudonyms stay stable

    # The old key, restored from a backup, opens nothing that is stored now...
    (home / "keys" / "survey" / "v1.key").write_bytes(old_key)
    (home / "keys" / "survey" / "v1.key").chmod(0o600)
    for n in ("a", "b"):
        m = store.manifest(n)
        as_v1 = WrappedKey("survey/v1", m.wrapped_key.nonce, m.wrapped_key.ciphertext)
        with pytest.raises(KeyProviderError):
            open_data_key(provider, "survey", m.object_id, as_v1)
    # ...and the new key does not open old wrapped keys either (a stale manifest backup).
    (home / "keys" / "survey" / "v1.key").unlink()
    for n in ("a", "b"):
        with pytest.raises(KeyProviderError):
            open_data_key(provider, "survey", store.manifest(n).object_id, old_wrapped[n])


def test_rotation_resumes_after_a_crash(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path
) -> None:
    ingest_file(store, provider, survey_csv, name="a", ingested_by="x")
    ingest_file(store, provider, survey_csv, name="b", ingested_by="x")
    # Crash after the new key was created and one manifest re-wrapped.
    provider.create_key("survey")
    from fivesafes.vault.envelope import rewrap

    m = store.manifest("a")
    store.save_manifest(m.with_key(rewrap(provider, "survey", m.object_id, m.wrapped_key)))
    r = rotate_area_key(store, provider)
    assert provider.key_ids("survey") == [r.new_key_id] == ["survey/v3"]
    assert (
        open_table(store, provider, "a").num_rows
        == open_table(store, provider, "b").num_rows
        == 500
    )


def test_rotation_with_missing_old_key_destroys_nothing(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path, home: Path
) -> None:
    ingest_file(store, provider, survey_csv, name="a", ingested_by="x")
    key_file = home / "keys" / "survey" / "v1.key"
    saved = key_file.read_bytes()
    key_file.unlink()
    with pytest.raises(KeyProviderError):
        rotate_area_key(store, provider)
    key_file.write_bytes(saved)
    key_file.chmod(0o600)
    rotate_area_key(store, provider)
    assert open_table(store, provider, "a").num_rows == 500
