"""The workspace's keys: the Ed25519 key that signs audit checkpoints, its public half,
and the provider of the restricted areas' keys chosen at ``fivesafes init``.

Written atomically with their mode set at creation; a private key readable by group
or others is refused, as area keys are (``fivesafes.vault.keys``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from fivesafes.errors import KeyProviderError
from fivesafes.vault.atomic import fsync_dir
from fivesafes.vault.keys import FileKeyProvider, KeyProvider, PassphraseKeyProvider
from fivesafes.vault.pkcs11 import Pkcs11KeyProvider
from fivesafes.workspace.settings import KEY_PASSPHRASE_ENV, PKCS11_PIN_ENV

KEY_USE_LOG = "key-use.log"
log = logging.getLogger("fivesafes.keys")


def atomic_write(path: Path, data: bytes, *, mode: int) -> None:
    """Write ``data`` to ``path`` all or nothing, the file created with ``mode``."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write the signing key as PKCS#8 PEM, mode 0600."""
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    atomic_write(path, pem, mode=0o600)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The signing key; KeyProviderError if missing, unreadable, or readable by others."""
    # As with area keys: a signing key others can read lets them forge checkpoints.
    with suppress(FileNotFoundError):
        if path.stat().st_mode & 0o077:
            raise KeyProviderError(
                f"the workspace signing key {path} is readable by others",
                hint=f"run: chmod 600 {path}",
            )
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyProviderError(
            f"the workspace signing key {path} is missing",
            hint="restore keys/ from your backup; without it no new checkpoint can be signed",
        ) from None
    except ValueError as exc:
        raise KeyProviderError(
            f"the workspace signing key {path} is unreadable: {exc}",
            hint="restore keys/ from your backup",
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProviderError(
            f"{path} is not an Ed25519 key", hint="restore keys/ from your backup"
        )
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (e.g. an offline copy of the workspace's)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyProviderError(
            f"public key file {path} is missing",
            hint="give the path of a copy of keys/workspace-signing.pub",
        ) from None
    return public_key_from_pem(data, f"public key file {path}")


def public_key_from_pem(data: bytes, source: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM bytes (a file's, or as sent to the server)."""
    try:
        key = load_pem_public_key(data)
    except ValueError as exc:
        raise KeyProviderError(
            f"{source} is unreadable: {exc}",
            hint="give a PEM file as written to keys/workspace-signing.pub",
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyProviderError(f"{source} is not an Ed25519 public key", hint="check the file")
    return key


def public_key_fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the raw public key: compare it with your offline copy."""
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def area_key_provider(
    keys_dir: Path,
    kind: str,
    *,
    ask: Callable[[], str] | None = None,
    environ: Mapping[str, str] | None = None,
    per_area: Mapping[str, str] | None = None,
    setting: Callable[[str], Any] | None = None,
) -> KeyProvider:
    """The area-key provider a workspace was created with (setting ``key_provider``).

    ``passphrase``: one passphrase for all the workspace's areas, taken from
    FIVESAFES_KEY_PASSPHRASE, else from ``ask`` (a terminal prompt), only when a key is
    first needed, and kept in this process's memory only. With ``per_area`` (the server's:
    given at ``server start``), each area has its own passphrase and no other opens it.
    """
    if kind == "file":
        return FileKeyProvider(keys_dir)
    if kind == "pkcs11":
        return pkcs11_provider(keys_dir, setting, environ)
    if kind != "passphrase":
        raise KeyProviderError(
            f"unknown area key provider {kind!r}",
            hint="key_provider in config.toml must be 'file', 'passphrase' or 'pkcs11'",
        )
    if per_area is not None:
        phrases = dict(per_area)

        def of_area(area: str) -> str:
            phrase = phrases.get(area, "")
            if not phrase:
                raise KeyProviderError(
                    f"no passphrase for area {area!r} was given to this server",
                    hint="restart the server with a line AREA=PASSPHRASE for it on --passphrase-fd",
                )
            return phrase

        return PassphraseKeyProvider(keys_dir, of_area, shared=False)
    env = os.environ if environ is None else environ
    given: list[str] = []

    def passphrase(area: str) -> str:
        if not given:
            phrase = env.get(KEY_PASSPHRASE_ENV, "") or (ask() if ask is not None else "")
            if not phrase:
                raise KeyProviderError(
                    f"the area keys of this workspace come from a passphrase, and none was "
                    f"given (needed for area {area!r})",
                    hint=f"set {KEY_PASSPHRASE_ENV}, or run the command in a terminal to be "
                    "asked for it",
                )
            given.append(phrase)
        return given[0]

    return PassphraseKeyProvider(keys_dir, passphrase, shared=True)


def pkcs11_provider(
    keys_dir: Path,
    setting: Callable[[str], Any] | None,
    environ: Mapping[str, str] | None = None,
) -> Pkcs11KeyProvider:
    """The PKCS#11 provider of a workspace's [pkcs11] settings; each unwrap is logged.

    The log is ``keys/key-use.log`` (one JSON line per unwrap: time, area, key id, pid;
    mode 0600) and the ``fivesafes.keys`` logger: the provider holds no database session,
    and the audit log already records the access decision each use serves.
    """
    if setting is None or setting("pkcs11_token") is None:
        raise KeyProviderError(
            "the area keys of this workspace are in a PKCS#11 token, and [pkcs11] token is not set",
            hint='add [pkcs11] with token = "LABEL" (and module, pin_file) to config.toml',
        )
    pin_file = setting("pkcs11_pin_file")
    env = os.environ if environ is None else environ

    def pin() -> str:
        if pin_file is None:
            value = env.get(PKCS11_PIN_ENV, "")
            if not value:
                raise KeyProviderError(
                    "the PKCS#11 token's PIN was not given",
                    hint=f"set [pkcs11] pin_file (a 0600 file) or {PKCS11_PIN_ENV}",
                )
            return value
        path = Path(pin_file)
        try:
            if path.stat().st_mode & 0o077:
                raise KeyProviderError(
                    f"the PKCS#11 PIN file {path} is readable by others",
                    hint=f"run: chmod 600 {path}",
                )
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise KeyProviderError(
                f"the PKCS#11 PIN file {path} cannot be read: {exc.strerror}",
                hint="create it as the service account, mode 0600, the PIN on one line",
            ) from None

    return Pkcs11KeyProvider(
        keys_dir,
        module=str(setting("pkcs11_module")),
        token_label=str(setting("pkcs11_token")),
        master_label=str(setting("pkcs11_key_label")),
        pin=pin,
        on_unwrap=key_use_logger(keys_dir.parent / KEY_USE_LOG, "pkcs11"),
    )


def key_use_logger(path: Path, provider: str) -> Callable[[str, str], None]:
    """A callback that appends one JSON line per unwrap to ``path`` (created 0600)."""
    lock = threading.Lock()

    def logged(area: str, key_id: str) -> None:
        entry = {
            "at": datetime.now(UTC).isoformat(),
            "action": "key.unwrap",
            "provider": provider,
            "area": area,
            "key_id": key_id,
            "pid": os.getpid(),
        }
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        with lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        log.info("area key %s unwrapped by the %s provider", key_id, provider)

    return logged
