"""The encrypted object format: authenticated chunked AES-256-GCM.

Layout of a ``.fsv`` file::

    MAGIC (8 bytes) | header length (u32 BE) | header (JSON, plaintext, not secret)
    frame*          | frame = length (u32 BE) | nonce (12) | ciphertext+tag

Every frame is sealed with the object's data key and associated data
``SHA-256(MAGIC|header) | frame index (u64 BE) | final flag (1 byte)``, so a changed
header, a changed, swapped, reordered, dropped or appended frame all fail to open.
The last frame carries ``final=1`` and a JSON trailer (frame count, rows); a file that
ends without it was truncated. Frame payloads are Arrow IPC streams (one record batch
each), so opening decrypts straight into Arrow memory with no copy and no parsing.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fivesafes.errors import IntegrityError

MAGIC = b"FSVAULT\x01"
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_FRAME = 1 << 31  # a corrupted length must not make us allocate without bound
_U32 = struct.Struct(">I")
_AAD_TAIL = struct.Struct(">QB")


@dataclass(frozen=True)
class Header:
    """Plaintext header of an encrypted object: which object it is, nothing confidential."""

    object_id: str
    kind: str = "dataset"
    format: int = 1
    cipher: str = "AES-256-GCM"
    payload: str = "arrow-ipc-stream"

    def encode(self) -> bytes:
        """Canonical bytes of the header."""
        return json.dumps(self.__dict__, sort_keys=True, separators=(",", ":")).encode()


def _aad(header_digest: bytes, index: int, final: bool) -> bytes:
    return header_digest + _AAD_TAIL.pack(index, 1 if final else 0)


class ChunkWriter:
    """Write an encrypted object frame by frame to an open binary file."""

    def __init__(self, f: IO[bytes], key: bytes, header: Header) -> None:
        self._f = f
        self._aead = AESGCM(key)
        raw = header.encode()
        prefix = MAGIC + _U32.pack(len(raw)) + raw
        self._digest = hashlib.sha256(MAGIC + raw).digest()
        f.write(prefix)
        self._index = 0
        self._closed = False
        self.bytes_written = len(prefix)

    def _frame(self, payload: bytes, final: bool) -> None:
        nonce = secrets.token_bytes(NONCE_BYTES)
        ct = self._aead.encrypt(nonce, payload, _aad(self._digest, self._index, final))
        self._f.write(_U32.pack(len(nonce) + len(ct)))
        self._f.write(nonce)
        self._f.write(ct)
        self.bytes_written += 4 + len(nonce) + len(ct)
        self._index += 1

    def write_chunk(self, payload: bytes) -> None:
        """Encrypt and append one data frame."""
        if self._closed:
            raise RuntimeError("writer already finished")
        self._frame(payload, final=False)

    def finish(self, trailer: dict[str, Any]) -> None:
        """Append the final frame with ``trailer`` (JSON); the object is complete after this."""
        body = json.dumps({**trailer, "frames": self._index}, sort_keys=True).encode()
        self._frame(body, final=True)
        self._closed = True


def _tampered(path: Path, why: str) -> IntegrityError:
    return IntegrityError(
        f"encrypted file {path} failed its integrity check: {why}",
        hint="the file was altered, truncated or swapped; restore it from backup",
    )


def read_header(f: IO[bytes], path: Path) -> tuple[Header, bytes]:
    """Read and parse the header; return it with the digest frames are bound to."""
    magic = f.read(len(MAGIC))
    if magic != MAGIC:
        raise _tampered(path, "not a fivesafes encrypted file (bad magic)")
    raw_len = f.read(4)
    if len(raw_len) != 4:
        raise _tampered(path, "header cut short")
    (n,) = _U32.unpack(raw_len)
    raw = f.read(n)
    if len(raw) != n or n > 65536:
        raise _tampered(path, "header cut short")
    try:
        header = Header(**json.loads(raw))
    except (ValueError, TypeError):
        raise _tampered(path, "header unreadable") from None
    return header, hashlib.sha256(MAGIC + raw).digest()


def _read_frames(f: IO[bytes], path: Path) -> Iterator[tuple[bytes, bytes]]:
    while True:
        raw_len = f.read(4)
        if not raw_len:
            return
        if len(raw_len) != 4:
            raise _tampered(path, "frame length cut short")
        (n,) = _U32.unpack(raw_len)
        if n < NONCE_BYTES + TAG_BYTES or n > MAX_FRAME:
            raise _tampered(path, "impossible frame length")
        body = f.read(n)
        if len(body) != n:
            raise _tampered(path, "frame cut short (truncated file)")
        yield body[:NONCE_BYTES], body[NONCE_BYTES:]


def _open_frame(
    aead: AESGCM, digest: bytes, index: int, final: bool, nonce: bytes, ct: bytes, path: Path
) -> bytes:
    try:
        return aead.decrypt(nonce, ct, _aad(digest, index, final))
    except InvalidTag:
        raise _tampered(path, f"frame {index} does not authenticate") from None


def _check_header(header: Header, expected_id: str, path: Path) -> None:
    if header.object_id != expected_id:
        raise _tampered(path, f"it holds object {header.object_id!r}, expected {expected_id!r}")


def iter_chunks(path: Path, key: bytes, expected_id: str) -> Iterator[bytes]:
    """Decrypt data frames one by one (constant memory); the end is checked last."""
    aead = AESGCM(key)
    with open(path, "rb") as f:
        header, digest = read_header(f, path)
        _check_header(header, expected_id, path)
        pending: tuple[bytes, bytes] | None = None
        index = 0
        for frame in _read_frames(f, path):
            if pending is not None:
                yield _open_frame(aead, digest, index, False, pending[0], pending[1], path)
                index += 1
            pending = frame
        if pending is None:
            raise _tampered(path, "no frames (truncated file)")
        # The last frame must be the sealed final frame: anything else is a truncation.
        trailer = _open_frame_final(aead, digest, index, pending, path)
        if trailer.get("frames") != index:
            raise _tampered(path, "frame count does not match the trailer")


def _open_frame_final(
    aead: AESGCM, digest: bytes, index: int, frame: tuple[bytes, bytes], path: Path
) -> dict[str, Any]:
    try:
        body = aead.decrypt(frame[0], frame[1], _aad(digest, index, True))
    except InvalidTag:
        raise _tampered(path, "the final frame is missing or altered (truncated file?)") from None
    trailer: dict[str, Any] = json.loads(body)
    return trailer


def read_all_chunks(
    path: Path, key: bytes, expected_id: str, *, threads: int | None = None
) -> tuple[list[bytes], dict[str, Any]]:
    """Decrypt every frame (in parallel: AES-GCM releases the GIL); return chunks and trailer."""
    aead = AESGCM(key)
    with open(path, "rb") as f:
        header, digest = read_header(f, path)
        _check_header(header, expected_id, path)
        frames = list(_read_frames(f, path))
    if not frames:
        raise _tampered(path, "no frames (truncated file)")
    # Check the end first: a truncated file is refused before any work is done.
    trailer = _open_frame_final(aead, digest, len(frames) - 1, frames[-1], path)
    if trailer.get("frames") != len(frames) - 1:
        raise _tampered(path, "frame count does not match the trailer")
    data = frames[:-1]
    workers = threads or min(8, os.cpu_count() or 1)
    if workers <= 1 or len(data) <= 1:
        chunks = [_open_frame(aead, digest, i, False, n, c, path) for i, (n, c) in enumerate(data)]
    else:
        with ThreadPoolExecutor(workers) as pool:
            chunks = list(
                pool.map(
                    lambda ic: _open_frame(aead, digest, ic[0], False, ic[1][0], ic[1][1], path),
                    enumerate(data),
                )
            )
    return chunks, trailer
