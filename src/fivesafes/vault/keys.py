"""Area keys (key-encryption keys): where they live and how data keys are wrapped with them.

An area key never leaves its provider in the protocol: callers hand a data key in and
get a :class:`WrappedKey` back (and the reverse), so a KMS or HSM can implement the same
protocol without ever exporting the area key. Two local providers are built in:

- :class:`FileKeyProvider`: a random 256-bit key per area and version, in a file of
  mode 0600 inside the workspace keys directory;
- :class:`PassphraseKeyProvider`: the key is derived with scrypt from a passphrase and a
  random per-version salt; only the salt and a verifier are stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from fivesafes.errors import KeyProviderError
from fivesafes.vault.atomic import atomic_write_bytes, create_bytes, private_dirs
from fivesafes.vault.names import NAME_PATTERN, check_name

KEY_BYTES = 32
NONCE_BYTES = 12


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted under one version of an area key (AES-256-GCM)."""

    key_id: str  # "AREA/vN": which area key version wrapped it
    nonce: bytes
    ciphertext: bytes

    def to_json(self) -> dict[str, str]:
        """Serialise for a manifest or a register column."""
        return {
            "key_id": self.key_id,
            "nonce": base64.b64encode(self.nonce).decode(),
            "ciphertext": base64.b64encode(self.ciphertext).decode(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WrappedKey:
        """Inverse of :meth:`to_json`."""
        return cls(
            key_id=str(data["key_id"]),
            nonce=base64.b64decode(data["nonce"]),
            ciphertext=base64.b64decode(data["ciphertext"]),
        )


@runtime_checkable
class KeyProvider(Protocol):
    """Holds the area keys; wraps and unwraps data keys without handing area keys out."""

    def current_key_id(self, area: str) -> str:
        """The key id new data keys of ``area`` are wrapped with; KeyProviderError if none."""
        ...

    def create_key(self, area: str) -> str:
        """Create a new area key version, make it current, return its id."""
        ...

    def wrap(self, area: str, data_key: bytes, context: bytes) -> WrappedKey:
        """Encrypt ``data_key`` under the current area key, bound to ``context``."""
        ...

    def unwrap(self, area: str, wrapped: WrappedKey, context: bytes) -> bytes:
        """Decrypt a wrapped data key; KeyProviderError when the key is missing or wrong."""
        ...

    def destroy_key(self, area: str, key_id: str) -> None:
        """Destroy one area key version: nothing wrapped under it opens afterwards."""
        ...

    def key_ids(self, area: str) -> list[str]:
        """Every key version the provider still holds for ``area``, oldest first."""
        ...


def _version_of(key_id: str) -> int:
    try:
        return int(key_id.rsplit("/v", 1)[1])
    except (IndexError, ValueError):
        raise KeyProviderError(
            f"malformed area key id {key_id!r}", hint="key ids look like AREA/v1"
        ) from None


class _LocalKeyProvider:
    """Shared logic of providers that hold the area key bytes in this process."""

    def __init__(self, keys_dir: Path | str) -> None:
        self.keys_dir = Path(keys_dir)

    # -- subclasses supply these ---------------------------------------------------
    def _load(self, area: str, version: int) -> bytes:
        raise NotImplementedError

    def _new(self, area: str, version: int) -> None:
        raise NotImplementedError

    def _suffix(self) -> str:
        raise NotImplementedError

    # -- layout ----------------------------------------------------------------------
    def _area_dir(self, area: str) -> Path:
        return self.keys_dir / check_name("area", area)

    def _versions(self, area: str) -> list[int]:
        d = self._area_dir(area)
        if not d.is_dir():
            return []
        out = []
        for p in d.iterdir():
            if p.name.startswith("v") and p.name.endswith(self._suffix()):
                stem = p.name[1 : -len(self._suffix())]
                if stem.isdigit():
                    out.append(int(stem))
        return sorted(out)

    def _path(self, area: str, version: int) -> Path:
        return self._area_dir(area) / f"v{version}{self._suffix()}"

    # -- protocol --------------------------------------------------------------------
    def key_ids(self, area: str) -> list[str]:
        """Every key version still held for ``area``, oldest first."""
        return [f"{area}/v{v}" for v in self._versions(area)]

    def current_key_id(self, area: str) -> str:
        """The newest key version of ``area``."""
        versions = self._versions(area)
        if not versions:
            raise KeyProviderError(
                f"no key for area {area!r} in {self.keys_dir}",
                hint="create the area first (it creates its key), or restore the keys directory",
            )
        return f"{area}/v{versions[-1]}"

    def create_key(self, area: str) -> str:
        """Create the next key version of ``area`` and return its id."""
        d = self._area_dir(area)
        private_dirs(d)  # keys/areas too, not only keys/areas/AREA
        # Versions are never reused, even after the newest key was destroyed or lost:
        # a reused id would make old wrapped keys look current.
        counter = d / "last-version"
        try:
            last = int(counter.read_text()) if counter.is_file() else 0
        except ValueError:
            raise KeyProviderError(
                f"{counter} does not hold a key version number",
                hint="restore it from the key backup (it must be at least the highest "
                "version ever made, so that no key id is reused)",
            ) from None
        while True:
            version = max([last, *self._versions(area)]) + 1
            atomic_write_bytes(counter, str(version).encode(), mode=0o600)
            try:
                self._new(area, version)
            except FileExistsError:
                # Another process made this version meanwhile (two first seals of an area
                # at once share its lock): overwritten, its key would be lost, and with it
                # whatever that process sealed under it. The next version, then.
                last = version
                continue
            return f"{area}/v{version}"

    def _key(self, area: str, key_id: str) -> bytes:
        if not key_id.startswith(f"{area}/v"):
            raise KeyProviderError(
                f"key {key_id!r} does not belong to area {area!r}",
                hint="a data key can only be opened with its own area's key",
            )
        version = _version_of(key_id)
        if not self._path(area, version).exists():
            raise KeyProviderError(
                f"area key {key_id} is missing from {self.keys_dir}",
                hint="restore the key file from the key backup; it may have been rotated away",
            )
        return self._load(area, version)

    def wrap(self, area: str, data_key: bytes, context: bytes) -> WrappedKey:
        """Encrypt ``data_key`` under the current area key, bound to ``context``."""
        key_id = self.current_key_id(area)
        nonce = secrets.token_bytes(NONCE_BYTES)
        ct = AESGCM(self._key(area, key_id)).encrypt(nonce, data_key, key_id.encode() + context)
        return WrappedKey(key_id, nonce, ct)

    def unwrap(self, area: str, wrapped: WrappedKey, context: bytes) -> bytes:
        """Decrypt a wrapped data key."""
        kek = self._key(area, wrapped.key_id)
        try:
            return AESGCM(kek).decrypt(
                wrapped.nonce, wrapped.ciphertext, wrapped.key_id.encode() + context
            )
        except InvalidTag:
            raise KeyProviderError(
                f"area key {wrapped.key_id} does not open this data key",
                hint="the key file or passphrase is wrong, or the wrapped key was altered",
            ) from None

    def destroy_key(self, area: str, key_id: str) -> None:
        """Delete one key version (overwrite first, best effort, then unlink)."""
        path = self._path(area, _version_of(key_id))
        if path.exists():
            size = path.stat().st_size
            # Overwriting helps on plain filesystems; on copy-on-write/SSD it is best effort.
            with open(path, "r+b") as f:
                f.write(b"\0" * size)
                f.flush()
                os.fsync(f.fileno())
            path.unlink()


class FileKeyProvider(_LocalKeyProvider):
    """Random area keys in files of mode 0600 under ``keys_dir/AREA/vN.key``."""

    def _suffix(self) -> str:
        return ".key"

    def _new(self, area: str, version: int) -> None:
        create_bytes(self._path(area, version), secrets.token_bytes(KEY_BYTES))

    def _load(self, area: str, version: int) -> bytes:
        path = self._path(area, version)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyProviderError(
                f"key file {path} is readable by others (mode {mode:o})",
                hint=f"run: chmod 600 {path}",
            )
        data = path.read_bytes()
        if len(data) != KEY_BYTES:
            raise KeyProviderError(
                f"key file {path} is not a {KEY_BYTES}-byte key",
                hint="restore it from the key backup",
            )
        return data


# scrypt cost: 2**15 * 8 * 128 bytes = 32 MiB and ~0.1 s per derivation (OWASP minimum
# is 2**17 for password storage; an area key is derived once per process and cached).
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_VERIFIER_LABEL = b"fivesafes area key verifier"


class PassphraseKeyProvider(_LocalKeyProvider):
    """Area keys derived with scrypt from a passphrase; only salt and verifier are stored."""

    def __init__(
        self,
        keys_dir: Path | str,
        passphrase: str | Callable[[str], str],
        *,
        n: int = SCRYPT_N,
        r: int = SCRYPT_R,
        p: int = SCRYPT_P,
        shared: bool = False,
    ) -> None:
        super().__init__(keys_dir)
        self._passphrase = passphrase
        self._shared = shared  # one passphrase for every area (a workspace's provider)
        self._params = {"n": n, "r": r, "p": p}
        self._cache: dict[tuple[str, int], bytes] = {}

    def _suffix(self) -> str:
        return ".salt"

    def _phrase(self, area: str) -> bytes:
        phrase = self._passphrase(area) if callable(self._passphrase) else self._passphrase
        if not phrase:
            raise KeyProviderError(
                f"no passphrase for area {area!r}", hint="set the area passphrase and retry"
            )
        return phrase.encode()

    @staticmethod
    def _derive(phrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
        return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(phrase)

    def create_key(self, area: str) -> str:
        """Create the next key version, after checking the passphrase opens the current one.

        A mistyped passphrase must not become a new key version (a rotation would then
        hand the area to a passphrase nobody knows); with ``shared``, a new area's first
        key is checked against another area's key the same way.
        """
        self._phrase(area)  # no passphrase: refuse before a version number is taken
        versions = self._versions(area)
        if versions:
            self._load(area, versions[-1])
        elif self._shared and self.keys_dir.is_dir():
            areas = (d.name for d in self.keys_dir.iterdir() if d.is_dir())
            for other in sorted(a for a in areas if NAME_PATTERN.match(a)):
                held = self._versions(other)
                if held:
                    self._load(other, held[-1])
                    break
        return super().create_key(area)

    def _new(self, area: str, version: int) -> None:
        salt = secrets.token_bytes(16)
        key = self._derive(self._phrase(area), salt, **self._params)
        record = {
            "kdf": "scrypt",
            **self._params,
            "salt": base64.b64encode(salt).decode(),
            "verifier": hmac.new(key, _VERIFIER_LABEL, hashlib.sha256).hexdigest(),
        }
        create_bytes(self._path(area, version), json.dumps(record).encode())
        self._cache[(area, version)] = key

    def _load(self, area: str, version: int) -> bytes:
        if (area, version) in self._cache:
            return self._cache[(area, version)]
        path = self._path(area, version)
        try:
            record = json.loads(path.read_text())
            salt = base64.b64decode(record["salt"])
            n, r, p = int(record["n"]), int(record["r"]), int(record["p"])
            verifier = str(record["verifier"])
        except (ValueError, KeyError, TypeError):
            raise KeyProviderError(
                f"salt file {path} is unreadable", hint="restore it from the key backup"
            ) from None
        key = self._derive(self._phrase(area), salt, n, r, p)
        check = hmac.new(key, _VERIFIER_LABEL, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(check, verifier):
            raise KeyProviderError(
                f"wrong passphrase for area {area!r} (key {area}/v{version})",
                hint="retry with the passphrase that was set when this key version was created",
            )
        self._cache[(area, version)] = key
        return key

    def destroy_key(self, area: str, key_id: str) -> None:
        """Forget the derived key and destroy its salt: the passphrase alone no longer opens it."""
        self._cache.pop((area, _version_of(key_id)), None)
        super().destroy_key(area, key_id)
