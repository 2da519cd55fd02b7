"""Area key providers: file keys (0600) and passphrase-derived keys."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from fivesafes.errors import KeyProviderError
from fivesafes.vault import FileKeyProvider, KeyProvider, PassphraseKeyProvider, WrappedKey
from fivesafes.vault.envelope import new_data_key

FAST = {"n": 2**10, "r": 8, "p": 1}  # scrypt cost for tests only


def test_file_keys_are_private_and_round_trip(tmp_path: Path) -> None:
    p = FileKeyProvider(tmp_path / "keys")
    key_id = p.create_key("a1")
    assert key_id == "a1/v1" and p.current_key_id("a1") == key_id
    key_file = tmp_path / "keys" / "a1" / "v1.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    dk = new_data_key()
    wrapped = p.wrap("a1", dk, b"ctx")
    assert wrapped.key_id == key_id and dk not in wrapped.ciphertext
    assert p.unwrap("a1", wrapped, b"ctx") == dk
    assert WrappedKey.from_json(wrapped.to_json()) == wrapped
    assert isinstance(p, KeyProvider)


def test_wrapped_key_is_bound_to_its_context(tmp_path: Path) -> None:
    p = FileKeyProvider(tmp_path / "keys")
    p.create_key("a1")
    wrapped = p.wrap("a1", new_data_key(), b"dataset-1")
    with pytest.raises(KeyProviderError, match="does not open"):
        p.unwrap("a1", wrapped, b"dataset-2")


def test_missing_area_key_is_a_clear_error(tmp_path: Path) -> None:
    p = FileKeyProvider(tmp_path / "keys")
    with pytest.raises(KeyProviderError, match="no key for area") as info:
        p.wrap("nokey", new_data_key(), b"")
    assert info.value.hint
    p.create_key("a1")
    wrapped = p.wrap("a1", new_data_key(), b"")
    (tmp_path / "keys" / "a1" / "v1.key").unlink()
    with pytest.raises(KeyProviderError, match="missing"):
        p.unwrap("a1", wrapped, b"")


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    p = FileKeyProvider(tmp_path / "keys")
    p.create_key("a1")
    wrapped = p.wrap("a1", new_data_key(), b"")
    os.chmod(tmp_path / "keys" / "a1" / "v1.key", 0o644)
    with pytest.raises(KeyProviderError, match="chmod 600"):
        p.unwrap("a1", wrapped, b"")


def test_wrong_key_file_does_not_open(tmp_path: Path) -> None:
    p = FileKeyProvider(tmp_path / "keys")
    p.create_key("a1")
    wrapped = p.wrap("a1", new_data_key(), b"")
    key_file = tmp_path / "keys" / "a1" / "v1.key"
    key_file.write_bytes(os.urandom(32))
    with pytest.raises(KeyProviderError, match="does not open"):
        p.unwrap("a1", wrapped, b"")


def test_key_of_another_area_is_refused(tmp_path: Path) -> None:
    p = FileKeyProvider(tmp_path / "keys")
    p.create_key("a1")
    p.create_key("a2")
    wrapped = p.wrap("a1", new_data_key(), b"")
    with pytest.raises(KeyProviderError, match="does not belong"):
        p.unwrap("a2", wrapped, b"")


def test_destroyed_key_opens_nothing(tmp_path: Path) -> None:
    p = FileKeyProvider(tmp_path / "keys")
    p.create_key("a1")
    wrapped = p.wrap("a1", new_data_key(), b"")
    p.destroy_key("a1", "a1/v1")
    assert p.key_ids("a1") == []
    with pytest.raises(KeyProviderError):
        p.unwrap("a1", wrapped, b"")


def test_bad_area_name_is_refused(tmp_path: Path) -> None:
    from fivesafes.errors import ValidationError

    p = FileKeyProvider(tmp_path / "keys")
    for bad in ("../etc", "a/b", ".hidden", ""):
        with pytest.raises(ValidationError):
            p.create_key(bad)


def test_passphrase_provider_round_trips_across_instances(tmp_path: Path) -> None:
    p1 = PassphraseKeyProvider(tmp_path / "keys", "correct horse", **FAST)
    p1.create_key("a1")
    dk = new_data_key()
    wrapped = p1.wrap("a1", dk, b"ctx")
    p2 = PassphraseKeyProvider(tmp_path / "keys", lambda area: "correct horse", **FAST)
    assert p2.unwrap("a1", wrapped, b"ctx") == dk
    salt_file = tmp_path / "keys" / "a1" / "v1.salt"
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    assert b"correct horse" not in salt_file.read_bytes()


def test_passphrase_provider_wrong_passphrase(tmp_path: Path) -> None:
    p1 = PassphraseKeyProvider(tmp_path / "keys", "correct horse", **FAST)
    p1.create_key("a1")
    wrapped = p1.wrap("a1", new_data_key(), b"")
    p2 = PassphraseKeyProvider(tmp_path / "keys", "battery staple", **FAST)
    with pytest.raises(KeyProviderError, match="wrong passphrase"):
        p2.unwrap("a1", wrapped, b"")
    p3 = PassphraseKeyProvider(tmp_path / "keys", "", **FAST)
    with pytest.raises(KeyProviderError, match="no passphrase"):
        p3.unwrap("a1", wrapped, b"")


def test_passphrase_keys_differ_per_version(tmp_path: Path) -> None:
    p = PassphraseKeyProvider(tmp_path / "keys", "pw", **FAST)
    p.create_key("a1")
    w1 = p.wrap("a1", b"k" * 32, b"")
    p.create_key("a1")
    p.destroy_key("a1", "a1/v1")
    # Same passphrase, but the salt of v1 is gone: the old wrapped key no longer opens.
    forged = WrappedKey("a1/v2", w1.nonce, w1.ciphertext)
    with pytest.raises(KeyProviderError):
        p.unwrap("a1", forged, b"")
    with pytest.raises(KeyProviderError):
        p.unwrap("a1", w1, b"")


class MemoryKms:
    """A stand-in for an organisation's KMS: keys never leave it, AES key wrap (RFC 3394)."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.versions: dict[str, int] = {}

    def current_key_id(self, area: str) -> str:
        if area not in self.versions:
            raise KeyProviderError(f"no key for {area}")
        return f"{area}/v{self.versions[area]}"

    def create_key(self, area: str) -> str:
        self.versions[area] = self.versions.get(area, 0) + 1
        key_id = self.current_key_id(area)
        self.keys[key_id] = os.urandom(32)
        return key_id

    def wrap(self, area: str, data_key: bytes, context: bytes) -> WrappedKey:
        from cryptography.hazmat.primitives.keywrap import aes_key_wrap

        key_id = self.current_key_id(area)
        # Key wrap has no associated data: bind the context by wrapping under a derived key.
        kek = hashlib.sha256(self.keys[key_id] + context).digest()
        return WrappedKey(key_id, b"", aes_key_wrap(kek, data_key))

    def unwrap(self, area: str, wrapped: WrappedKey, context: bytes) -> bytes:
        from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

        if wrapped.key_id not in self.keys:
            raise KeyProviderError(f"{wrapped.key_id} destroyed")
        kek = hashlib.sha256(self.keys[wrapped.key_id] + context).digest()
        try:
            return aes_key_unwrap(kek, wrapped.ciphertext)
        except InvalidUnwrap:
            raise KeyProviderError("does not open") from None

    def destroy_key(self, area: str, key_id: str) -> None:
        self.keys.pop(key_id, None)

    def key_ids(self, area: str) -> list[str]:
        return sorted(k for k in self.keys if k.startswith(f"{area}/"))


def test_a_kms_plugs_in_through_the_protocol(tmp_path: Path) -> None:
    from fivesafes.vault import AreaStore, ingest_file, open_table, rotate_area_key

    kms = MemoryKms()
    assert isinstance(kms, KeyProvider)
    kms.create_key("a1")
    store = AreaStore(tmp_path / "areas", "a1")
    store.create()
    src = tmp_path / "x.csv"
    src.write_text("id,v\n1,2\n3,4\n")
    ingest_file(store, kms, src, name="x", ingested_by="t")
    before = open_table(store, kms, "x")
    r = rotate_area_key(store, kms)
    assert r.destroyed_key_ids == ("a1/v1",) and kms.key_ids("a1") == ["a1/v2"]
    assert open_table(store, kms, "x").equals(before)


def test_a_damaged_version_counter_is_a_clear_error(tmp_path: Path) -> None:
    p = FileKeyProvider(tmp_path / "keys")
    p.create_key("survey")
    counters = list((tmp_path / "keys").rglob("last-version"))
    assert len(counters) == 1
    counters[0].write_text("garbage")
    with pytest.raises(KeyProviderError, match="key version number"):
        p.create_key("survey")
    assert p.key_ids("survey") == ["survey/v1"]  # nothing new was made


@pytest.mark.parametrize("kind", ["file", "passphrase"])
def test_a_version_made_meanwhile_by_another_process_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # Two processes making an area's first key at once (two first seals, which share the
    # area lock) both find no key and pick v1. The other one writes its v1 first and seals
    # under it; ours replaced that key, and what the other sealed was lost.
    def provider() -> FileKeyProvider | PassphraseKeyProvider:
        if kind == "file":
            return FileKeyProvider(tmp_path / "keys")
        return PassphraseKeyProvider(tmp_path / "keys", "correct horse", **FAST)

    other = provider()
    cls = type(other)
    real = cls._new
    sealed: list[WrappedKey] = []

    def _new(self: Any, area: str, version: int) -> None:
        if not sealed:  # the other process, having picked the same version, is first
            real(other, area, version)
            sealed.append(other.wrap(area, b"k" * 32, b"theirs"))
        real(self, area, version)

    monkeypatch.setattr(cls, "_new", _new)
    ours = provider()
    assert ours.create_key("a1") == "a1/v2"
    assert ours.key_ids("a1") == ["a1/v1", "a1/v2"]
    (theirs,) = sealed
    assert theirs.key_id == "a1/v1"
    assert provider().unwrap("a1", theirs, b"theirs") == b"k" * 32  # their key still opens it
