"""The encrypted object format: authenticated chunked AES-256-GCM.

Layout of a ``.fsv`` file::

    MAGIC (8 bytes) | header length (u32 BE) | header (JSON, plaintext, not secret)
    frame*          | frame = length (u32 BE) | nonce (12) | ciphertext+tag

Every frame is sealed with the object's data key and associated data
``SHA-256(MAGIC|header) | frame index (u64 BE) | final flag (1 byte)``, so a changed
header, a changed, swapped, reordered, dropped or appended frame all fail to open.
The last frame carries ``final=1`` and a JSON trailer (frame count, rows); a file that
ends without it was truncated. The frames' plaintexts, concatenated, are one Parquet
file (written by :class:`EncryptingSink`); :mod:`fivesafes.vault.frames` rebuilds all of
it, or only the frames a query needs, in an anonymous in-memory file (``memfd``) that
DuckDB and pyarrow read natively.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import struct
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
    payload: str = "parquet"

    def encode(self) -> bytes:
        """Canonical bytes of the header."""
        return json.dumps(self.__dict__, sort_keys=True, separators=(",", ":")).encode()


def frame_aad(header_digest: bytes, index: int, final: bool) -> bytes:
    """The associated data that binds a frame to its object, position and finality."""
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
        ct = self._aead.encrypt(nonce, payload, frame_aad(self._digest, self._index, final))
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


def tampered(path: Path, why: str) -> IntegrityError:
    """The IntegrityError for an object file that fails authentication."""
    return IntegrityError(
        f"encrypted file {path} failed its integrity check: {why}",
        hint="the file was altered, truncated or swapped; restore it from backup",
    )


def read_header(f: IO[bytes], path: Path) -> tuple[Header, bytes]:
    """Read and parse the header; return it with the digest frames are bound to."""
    magic = f.read(len(MAGIC))
    if magic != MAGIC:
        raise tampered(path, "not a fivesafes encrypted file (bad magic)")
    raw_len = f.read(4)
    if len(raw_len) != 4:
        raise tampered(path, "header cut short")
    (n,) = _U32.unpack(raw_len)
    if n > 65536:  # check before reading: a corrupted length must not allocate gigabytes
        raise tampered(path, "impossible header length")
    raw = f.read(n)
    if len(raw) != n:
        raise tampered(path, "header cut short")
    try:
        header = Header(**json.loads(raw))
    except (ValueError, TypeError):
        raise tampered(path, "header unreadable") from None
    return header, hashlib.sha256(MAGIC + raw).digest()


def check_header(header: Header, expected_id: str, path: Path) -> None:
    """Raise IntegrityError unless the header names the expected object."""
    if header.object_id != expected_id:
        raise tampered(path, f"it holds object {header.object_id!r}, expected {expected_id!r}")


def open_frame_final(
    aead: AESGCM, digest: bytes, index: int, frame: tuple[bytes, bytes | memoryview], path: Path
) -> dict[str, Any]:
    """Decrypt the final (manifest) frame and return its JSON content."""
    try:
        body = aead.decrypt(frame[0], frame[1], frame_aad(digest, index, True))
    except InvalidTag:
        raise tampered(path, "the final frame is missing or altered (truncated file?)") from None
    trailer: dict[str, Any] = json.loads(body)
    return trailer


# Plaintext bytes per frame written by EncryptingSink. Small, so that a query decrypts
# little beyond the column chunks it reads (a frame straddling a chunk boundary is
# decrypted whole; 4 MiB frames held a piece of every column, so a query decrypted all
# of them); big enough that the 32 bytes and the AES call per frame vanish. Readers take
# any frame size (each frame carries its length): datasets sealed with the earlier
# 4 MiB frames still open, they only decrypt more per query.
SINK_FRAME_BYTES = 256 << 10


class EncryptingSink(io.RawIOBase):
    """A write-only file object that seals what is written into frames (for pyarrow)."""

    def __init__(self, writer: ChunkWriter, frame_bytes: int = SINK_FRAME_BYTES) -> None:
        super().__init__()
        self._writer = writer
        self._frame_bytes = frame_bytes
        self._buf = bytearray()
        self._pos = 0
        self.frames = 0

    def writable(self) -> bool:
        """Always: this is a sink."""
        return True

    def write(self, data: Any) -> int:
        """Buffer ``data``; seal every full frame."""
        view = memoryview(data).cast("B")
        self._buf += view
        self._pos += len(view)
        while len(self._buf) >= self._frame_bytes:
            self._writer.write_chunk(bytes(self._buf[: self._frame_bytes]))
            del self._buf[: self._frame_bytes]
            self.frames += 1
        return len(view)

    def tell(self) -> int:
        """Plaintext bytes written so far."""
        return self._pos

    def seekable(self) -> bool:
        """No: frames are sealed in order."""
        return False

    def close(self) -> None:
        """Closing is a no-op for pyarrow; :meth:`finish` seals the object."""
        # pyarrow closes its sink when the Parquet writer closes; the final frame must
        # still be written after that, so only mark the stream closed here.
        super().close()

    def finish(self, trailer: dict[str, Any]) -> None:
        """Seal the remaining bytes and the final frame (with the plaintext length)."""
        if self._buf:
            self._writer.write_chunk(bytes(self._buf))
            self._buf.clear()
            self.frames += 1
        self._writer.finish({**trailer, "plaintext_bytes": self._pos})
