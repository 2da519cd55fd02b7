"""A KMS-style area-key provider: area keys wrapped by a key that never leaves a PKCS#11 token.

The token (an HSM, or SoftHSM2 for tests and small sites) holds one AES-256 master key,
created non-extractable and sensitive: nobody, the service account included, can read
it out. Each area key version is 32 random bytes encrypted *inside the token* with that
key (AES-GCM, bound to the key id) and stored as ``keys/areas/AREA/vN.p11``; the file
alone opens nothing. To wrap or unwrap a data key the server asks the token to decrypt
the area key, uses it in memory for that one operation and drops it: every use goes
through the token, and each is logged (``on_unwrap``), like a KMS's decrypt calls. Taking
the token (or its PIN) away closes every area at once.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fivesafes.errors import KeyProviderError
from fivesafes.vault.atomic import create_bytes
from fivesafes.vault.keys import KEY_BYTES, _LocalKeyProvider

DEFAULT_MASTER_LABEL = "fivesafes-master"
_AAD = b"fivesafes area key "


def _pkcs11() -> Any:
    try:
        import pkcs11
    except ImportError:  # pragma: no cover - python-pkcs11 is in the lockfile
        raise KeyProviderError(
            "the pkcs11 key provider needs python-pkcs11",
            hint="pip install python-pkcs11 (it is in requirements.lock)",
        ) from None
    return pkcs11


class Pkcs11KeyProvider(_LocalKeyProvider):
    """Area keys under ``keys_dir``, each wrapped by the token's non-extractable master key."""

    def __init__(
        self,
        keys_dir: Path | str,
        *,
        module: str,
        token_label: str,
        pin: Callable[[], str],
        master_label: str = DEFAULT_MASTER_LABEL,
        on_unwrap: Callable[[str, str], None] | None = None,
    ) -> None:
        super().__init__(keys_dir)
        self.module, self.token_label, self.master_label = module, token_label, master_label
        self._pin = pin
        self._on_unwrap = on_unwrap
        self._lock = threading.Lock()  # one session, used by one thread at a time
        self._session: Any = None

    def _suffix(self) -> str:
        return ".p11"

    # -- the token -------------------------------------------------------------------
    def _open(self) -> Any:
        if self._session is not None:
            return self._session
        pkcs11 = _pkcs11()
        try:
            token = pkcs11.lib(self.module).get_token(token_label=self.token_label)
        except (OSError, RuntimeError, pkcs11.PKCS11Error) as exc:
            raise KeyProviderError(
                f"PKCS#11 token {self.token_label!r} cannot be reached through {self.module}: "
                f"{type(exc).__name__} {exc}",
                hint="check [pkcs11] module and token in config.toml, and that the token is "
                "present (softhsm2-util --show-slots)",
            ) from None
        try:
            self._session = token.open(user_pin=self._pin(), rw=True)
        except pkcs11.PKCS11Error as exc:
            raise KeyProviderError(
                f"PKCS#11 token {self.token_label!r} refused the sign-in: {type(exc).__name__}",
                hint="check the PIN ([pkcs11] pin_file or FIVESAFES_PKCS11_PIN)",
            ) from None
        return self._session

    def _master(self, session: Any, *, create: bool = False) -> Any:
        pkcs11 = _pkcs11()
        from pkcs11 import Attribute, KeyType

        try:
            key = session.get_key(label=self.master_label, key_type=KeyType.AES)
        except pkcs11.NoSuchKey:
            if not create:
                raise KeyProviderError(
                    f"the token {self.token_label!r} has no key {self.master_label!r}",
                    hint="the token that wrapped these area keys is not this one; insert it",
                ) from None
            key = session.generate_key(
                KeyType.AES,
                KEY_BYTES * 8,
                label=self.master_label,
                store=True,
                template={
                    Attribute.EXTRACTABLE: False,
                    Attribute.SENSITIVE: True,
                    Attribute.ENCRYPT: True,
                    Attribute.DECRYPT: True,
                    Attribute.WRAP: False,
                    Attribute.UNWRAP: False,
                },
            )
        except pkcs11.MultipleObjectsReturned:
            raise KeyProviderError(
                f"the token {self.token_label!r} has several keys {self.master_label!r}",
                hint="keep one; delete the others with the token's own tool",
            ) from None
        if key[Attribute.EXTRACTABLE] or not key[Attribute.SENSITIVE]:
            raise KeyProviderError(
                f"the token's key {self.master_label!r} can be read out of the token",
                hint="make a new non-extractable key (fivesafes creates one if none exists) "
                "and re-wrap the area keys with it",
            )
        return key

    def _gcm(self, nonce: bytes, key_id: str) -> Any:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        return {
            "mechanism": Mechanism.AES_GCM,
            "mechanism_param": GCMParams(nonce, _AAD + key_id.encode(), 128),
        }

    # -- the provider ----------------------------------------------------------------
    def _new(self, area: str, version: int) -> None:
        key_id = f"{area}/v{version}"
        nonce = secrets.token_bytes(12)
        with self._lock:
            session = self._open()
            # the area key's bytes come from the token's generator, encrypted at once
            area_key = bytes(session.generate_random(KEY_BYTES * 8))
            wrapped = self._master(session, create=True).encrypt(
                area_key, **self._gcm(nonce, key_id)
            )
        record = {
            "provider": "pkcs11",
            "token": self.token_label,
            "master": self.master_label,
            "nonce": base64.b64encode(nonce).decode(),
            "wrapped": base64.b64encode(bytes(wrapped)).decode(),
        }
        create_bytes(self._path(area, version), json.dumps(record).encode())

    def _load(self, area: str, version: int) -> bytes:
        key_id = f"{area}/v{version}"
        path = self._path(area, version)
        try:
            record = json.loads(path.read_text())
            nonce = base64.b64decode(record["nonce"])
            wrapped = base64.b64decode(record["wrapped"])
        except (ValueError, KeyError, TypeError):
            raise KeyProviderError(
                f"wrapped key file {path} is unreadable", hint="restore it from the key backup"
            ) from None
        pkcs11 = _pkcs11()
        with self._lock:
            session = self._open()
            try:
                area_key = bytes(self._master(session).decrypt(wrapped, **self._gcm(nonce, key_id)))
            except pkcs11.PKCS11Error:
                raise KeyProviderError(
                    f"the token's key does not open area key {key_id}",
                    hint="the wrapped key file was altered or belongs to another token",
                ) from None
        if self._on_unwrap is not None:
            self._on_unwrap(area, key_id)
        return area_key

    def close(self) -> None:
        """End the token session (the next use opens a new one)."""
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None
