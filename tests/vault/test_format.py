"""The chunked AES-GCM format: round trip, and every tampering detected."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.errors import IntegrityError
from fivesafes.vault.format import ChunkWriter, EncryptingSink, Header
from fivesafes.vault.frames import decrypt_to_fd

KEY = bytes(range(32))
OID = "obj1"
FIXTURE_OK = [HealthCheck.function_scoped_fixture]

writes = st.lists(st.binary(min_size=0, max_size=300), min_size=0, max_size=8)


def _encode(parts: list[bytes], key: bytes = KEY, oid: str = OID, frame: int = 64) -> bytes:
    buf = io.BytesIO()
    sink = EncryptingSink(ChunkWriter(buf, key, Header(object_id=oid)), frame)
    for p in parts:
        sink.write(p)
    sink.close()
    sink.finish({"rows": len(parts)})
    return buf.getvalue()


def _decrypt(path: Path, key: bytes = KEY, oid: str = OID, threads: int = 2) -> tuple[bytes, dict]:
    fd = os.memfd_create("t", os.MFD_CLOEXEC)
    try:
        trailer = decrypt_to_fd(path, key, oid, fd, threads=threads)
        size = os.fstat(fd).st_size
        return os.pread(fd, size, 0), trailer
    finally:
        os.close(fd)


def _frames(blob: bytes) -> tuple[bytes, list[bytes]]:
    """Split a file into its prefix and raw frames (length prefix included)."""
    (hlen,) = struct.unpack(">I", blob[8:12])
    pos = 12 + hlen
    prefix, frames = blob[:pos], []
    while pos < len(blob):
        (n,) = struct.unpack(">I", blob[pos : pos + 4])
        frames.append(blob[pos : pos + 4 + n])
        pos += 4 + n
    return prefix, frames


def _write(tmp_path: Path, blob: bytes) -> Path:
    path = tmp_path / "x.fsv"
    path.write_bytes(blob)
    return path


@settings(max_examples=40, suppress_health_check=FIXTURE_OK)
@given(parts=writes, threads=st.sampled_from([1, 2]))
def test_round_trip(tmp_path: Path, parts: list[bytes], threads: int) -> None:
    path = _write(tmp_path, _encode(parts))
    plain, trailer = _decrypt(path, threads=threads)
    assert plain == b"".join(parts)
    assert trailer["rows"] == len(parts) and trailer["plaintext_bytes"] == len(plain)


@settings(max_examples=60, suppress_health_check=FIXTURE_OK)
@given(parts=writes, data=st.data())
def test_any_flipped_byte_is_detected(
    tmp_path: Path, parts: list[bytes], data: st.DataObject
) -> None:
    blob = bytearray(_encode(parts))
    pos = data.draw(st.integers(0, len(blob) - 1))
    blob[pos] ^= data.draw(st.integers(1, 255))
    with pytest.raises(IntegrityError):
        _decrypt(_write(tmp_path, bytes(blob)))


@settings(max_examples=60, suppress_health_check=FIXTURE_OK)
@given(parts=writes, data=st.data())
def test_any_truncation_is_detected(
    tmp_path: Path, parts: list[bytes], data: st.DataObject
) -> None:
    blob = _encode(parts)
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(IntegrityError):
        _decrypt(_write(tmp_path, blob[:cut]))


def test_reordered_dropped_and_appended_frames_are_detected(tmp_path: Path) -> None:
    prefix, frames = _frames(_encode([b"a" * 64, b"b" * 64, b"c" * 64]))
    assert len(frames) == 4  # three data frames and the final one
    variants = [
        [frames[1], frames[0], *frames[2:]],  # swapped
        [frames[0], *frames[2:]],  # middle dropped
        frames[:-1],  # final dropped: truncation at a frame boundary
        [frames[0], *frames],  # duplicated
        [*frames, frames[0]],  # appended after the final frame
    ]
    for fs in variants:
        with pytest.raises(IntegrityError):
            _decrypt(_write(tmp_path, prefix + b"".join(fs)))


def test_frames_of_another_file_do_not_fit(tmp_path: Path) -> None:
    prefix_a, frames_a = _frames(_encode([b"one"], oid="A"))
    _, frames_b = _frames(_encode([b"two"], oid="B"))
    with pytest.raises(IntegrityError):
        _decrypt(_write(tmp_path, prefix_a + frames_b[0] + frames_a[1]), oid="A")
    # The whole file of object B presented as object A is refused by its header.
    with pytest.raises(IntegrityError, match="expected 'A'"):
        _decrypt(_write(tmp_path, _encode([b"two"], oid="B")), oid="A")


def test_wrong_data_key_is_detected(tmp_path: Path) -> None:
    with pytest.raises(IntegrityError):
        _decrypt(_write(tmp_path, _encode([b"x"])), key=bytes(32))


def test_plaintext_is_not_in_the_file() -> None:
    blob = _encode([b"SECRET-PAYLOAD" * 10])
    assert b"SECRET-PAYLOAD" not in blob


def test_sink_seals_full_frames_as_it_goes() -> None:
    buf = io.BytesIO()
    sink = EncryptingSink(ChunkWriter(buf, KEY, Header(object_id=OID)), 100)
    sink.write(b"x" * 250)
    assert sink.frames == 2 and sink.tell() == 250
    sink.finish({})
    assert sink.frames == 3
