"""Open an encrypted object and decrypt any subset of its frames into a memfd.

:class:`SealedObject` reads the header and the frame lengths, authenticates the final
frame (frame count and plaintext length, so truncation is refused before any work) and
then decrypts only the frames it is asked for, each authenticated with its index, into
an anonymous in-memory file at their plaintext offsets. Frames never asked for stay a
hole in the memfd (zero pages, no memory) and are never authenticated: they are never
used. :func:`decrypt_to_fd` decrypts every frame (the whole Parquet file).
"""

from __future__ import annotations

import bisect
import mmap
import os
import struct
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fivesafes.vault.format import (
    MAX_FRAME,
    NONCE_BYTES,
    TAG_BYTES,
    check_header,
    frame_aad,
    open_frame_final,
    read_header,
    tampered,
)

_U32 = struct.Struct(">I")
# Ciphertext bytes one worker reads, decrypts and writes at a time: large enough that
# syscalls per frame vanish, small enough that two workers share a run evenly.
UNIT_BYTES = 2 << 20


def _frame_spans(f: Any, path: Path) -> list[tuple[int, int]]:
    """(start, end) file offsets of each frame body (nonce + ciphertext), lengths checked."""
    size = os.fstat(f.fileno()).st_size
    pos = f.tell()
    if pos >= size:
        raise tampered(path, "no frames (truncated file)")
    spans: list[tuple[int, int]] = []
    with mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ) as m:
        while pos < size:
            if pos + 4 > size:
                raise tampered(path, "frame length cut short")
            (n,) = _U32.unpack_from(m, pos)
            if n < NONCE_BYTES + TAG_BYTES or n > MAX_FRAME:
                raise tampered(path, "impossible frame length")
            if pos + 4 + n > size:
                raise tampered(path, "frame cut short (truncated file)")
            # Writers seal equal frames: where the next lengths sit at the same stride,
            # numpy reads them all at once (thousands of frames in well under 1 ms).
            same = _same_stride(m, pos, n, size)
            starts = pos + 4 + (4 + n) * np.arange(same, dtype=np.int64)
            spans.extend(zip(starts.tolist(), (starts + n).tolist(), strict=True))
            pos += (4 + n) * same
    return spans


def _same_stride(m: mmap.mmap, pos: int, n: int, size: int) -> int:
    """How many frames from ``pos`` on (at least 1) have length ``n`` back to back."""
    stride = 4 + n
    count = (size - pos) // stride
    if count <= 1:
        return 1
    lengths = np.ndarray((count,), dtype=">u4", buffer=m, offset=pos, strides=(stride,))
    differ = np.flatnonzero(lengths != n)
    return int(differ[0]) if differ.size else count


class SealedObject:
    """An encrypted object opened for reading: header, frames and trailer checked."""

    def __init__(self, path: Path, key: bytes, expected_id: str) -> None:
        self.path = path
        self._aead = AESGCM(key)
        self._f = open(path, "rb")  # noqa: SIM115 - held open: later frames come from this inode
        try:
            header, self._digest = read_header(self._f, path)
            check_header(header, expected_id, path)
            spans = _frame_spans(self._f, path)
            last = len(spans) - 1
            a, b = spans[last]
            body = os.pread(self._f.fileno(), b - a, a)
            self.trailer = open_frame_final(
                self._aead, self._digest, last, (body[:NONCE_BYTES], body[NONCE_BYTES:]), path
            )
            self._spans = spans[:-1]
            if self.trailer.get("frames") != len(self._spans):
                raise tampered(path, "frame count does not match the trailer")
            offsets = [0]
            for a, b in self._spans:
                offsets.append(offsets[-1] + (b - a) - NONCE_BYTES - TAG_BYTES)
            if self.trailer.get("plaintext_bytes", offsets[-1]) != offsets[-1]:
                raise tampered(path, "plaintext length does not match the trailer")
        except BaseException:
            self._f.close()
            raise
        self._offsets = offsets
        self._done = bytearray(len(self._spans))  # 1: decrypted into the memfd already
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """Bytes of plaintext (the Parquet file's length)."""
        return self._offsets[-1]

    @property
    def frame_count(self) -> int:
        """Number of data frames."""
        return len(self._spans)

    @property
    def decrypted_frames(self) -> int:
        """Frames decrypted so far (for tests and benchmarks)."""
        return sum(self._done)

    def ciphertext_span(self, index: int) -> tuple[int, int]:
        """File offsets ``(start, end)`` of data frame ``index`` (nonce and ciphertext)."""
        return self._spans[index]

    def frames_for(self, ranges: Iterable[tuple[int, int]]) -> list[int]:
        """Indexes of the frames holding any byte of the plaintext ``[start, end)`` ranges."""
        out: set[int] = set()
        for start, end in ranges:
            start, end = max(0, start), min(end, self.size)
            if start >= end:
                continue
            first = bisect.bisect_right(self._offsets, start) - 1
            last = bisect.bisect_left(self._offsets, end) - 1
            out.update(range(first, last + 1))
        return sorted(out)

    def allocate(self, fd: int) -> None:
        """Size ``fd`` to the plaintext; undecrypted frames stay holes (no memory)."""
        os.ftruncate(fd, self.size)

    def decrypt_into(self, fd: int, frames: Sequence[int], *, threads: int | None = None) -> None:
        """Authenticate and decrypt ``frames`` (not done yet) into ``fd`` at their offsets."""
        with self._lock:
            todo = sorted({i for i in frames if not self._done[i]})
            if not todo:
                return
            for first, last in _runs(todo):
                # Allocating a run's pages in one call is several times faster than
                # taking a page fault per 4 KiB when the frames are written.
                start, end = self._offsets[first], self._offsets[last + 1]
                if end > start:
                    os.posix_fallocate(fd, start, end - start)
            self._decrypt(fd, todo, threads)
            for i in todo:
                self._done[i] = 1

    def _decrypt(self, fd: int, todo: list[int], threads: int | None) -> None:
        src, path, digest, aead = self._f.fileno(), self.path, self._digest, self._aead
        spans, offsets = self._spans, self._offsets
        local = threading.local()

        def unit(run: tuple[int, int]) -> None:
            # Consecutive frames are read with one pread and written with one pwrite:
            # small frames then cost one AES call each, not three syscalls.
            first, last = run
            base, n = spans[first][0], spans[last][1] - spans[first][0]
            # Each worker reuses one ciphertext and one plaintext buffer: fresh buffers
            # per frame cost page faults.
            if getattr(local, "size", 0) < n:
                local.ct = bytearray(n)
                local.pt = bytearray(n)
                local.size = n
            ct, pt = memoryview(local.ct), memoryview(local.pt)
            if os.preadv(src, [ct[:n]], base) != n:
                raise tampered(path, "frame cut short (file changed while reading)")
            for i in range(first, last + 1):
                a, b = spans[i][0] - base, spans[i][1] - base
                out = pt[offsets[i] - offsets[first] : offsets[i + 1] - offsets[first]]
                try:
                    aead.decrypt_into(
                        bytes(ct[a : a + NONCE_BYTES]),
                        ct[a + NONCE_BYTES : b],
                        frame_aad(digest, i, False),
                        out,
                    )
                except InvalidTag:
                    raise tampered(path, f"frame {i} does not authenticate") from None
            os.pwrite(fd, pt[: offsets[last + 1] - offsets[first]], offsets[first])

        units = [u for run in _runs(todo) for u in self._split(run)]
        workers = threads or min(8, os.cpu_count() or 1)
        if workers <= 1 or len(units) <= 1:
            for u in units:
                unit(u)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(unit, units))

    def _split(self, run: tuple[int, int]) -> list[tuple[int, int]]:
        """A run of frames cut into pieces of about UNIT_BYTES of ciphertext each."""
        out = []
        first = run[0]
        for i in range(run[0], run[1] + 1):
            if self._spans[i][1] - self._spans[first][0] > UNIT_BYTES and i > first:
                out.append((first, i - 1))
                first = i
        out.append((first, run[1]))
        return out

    def close(self) -> None:
        """Close the ciphertext file."""
        self._f.close()

    def __enter__(self) -> SealedObject:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _runs(sorted_frames: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs ``(first, last)`` of a sorted list of frame indexes."""
    runs: list[tuple[int, int]] = []
    for i in sorted_frames:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def decrypt_to_fd(
    path: Path, key: bytes, expected_id: str, fd: int, *, threads: int | None = None
) -> dict[str, Any]:
    """Decrypt every frame of an object into ``fd`` (a memfd); return the trailer.

    The final frame is checked first, so a truncated file is refused before any work;
    frames are decrypted in parallel (AES-GCM releases the GIL).
    """
    with SealedObject(path, key, expected_id) as sealed:
        sealed.allocate(fd)
        sealed.decrypt_into(fd, range(sealed.frame_count), threads=threads)
        return sealed.trailer
