"""The chunked AES-GCM format: round trip, and every tampering detected."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.errors import IntegrityError
from fivesafes.vault.format import ChunkWriter, Header, iter_chunks, read_all_chunks

KEY = bytes(range(32))
OID = "obj1"

chunk_lists = st.lists(st.binary(min_size=0, max_size=200), min_size=0, max_size=6)


def _encode(chunks: list[bytes], key: bytes = KEY, oid: str = OID) -> bytes:
    buf = io.BytesIO()
    w = ChunkWriter(buf, key, Header(object_id=oid))
    for c in chunks:
        w.write_chunk(c)
    w.finish({"rows": len(chunks)})
    return buf.getvalue()


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


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=chunk_lists)
def test_round_trip(tmp_path: Path, chunks: list[bytes]) -> None:
    path = _write(tmp_path, _encode(chunks))
    got, trailer = read_all_chunks(path, KEY, OID, threads=2)
    assert got == chunks and trailer["rows"] == len(chunks)
    assert list(iter_chunks(path, KEY, OID)) == chunks


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=chunk_lists, data=st.data())
def test_any_flipped_byte_is_detected(
    tmp_path: Path, chunks: list[bytes], data: st.DataObject
) -> None:
    blob = bytearray(_encode(chunks))
    pos = data.draw(st.integers(0, len(blob) - 1))
    blob[pos] ^= data.draw(st.integers(1, 255))
    path = _write(tmp_path, bytes(blob))
    with pytest.raises(IntegrityError):
        read_all_chunks(path, KEY, OID)
    with pytest.raises(IntegrityError):
        list(iter_chunks(path, KEY, OID))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=chunk_lists, data=st.data())
def test_any_truncation_is_detected(
    tmp_path: Path, chunks: list[bytes], data: st.DataObject
) -> None:
    blob = _encode(chunks)
    cut = data.draw(st.integers(0, len(blob) - 1))
    path = _write(tmp_path, blob[:cut])
    with pytest.raises(IntegrityError):
        read_all_chunks(path, KEY, OID)
    with pytest.raises(IntegrityError):
        list(iter_chunks(path, KEY, OID))


def test_reordered_dropped_and_appended_frames_are_detected(tmp_path: Path) -> None:
    chunks = [b"alpha", b"beta", b"gamma"]
    prefix, frames = _frames(_encode(chunks))
    variants = {
        "swap": [frames[1], frames[0], *frames[2:]],
        "drop middle": [frames[0], *frames[2:]],
        "drop final": frames[:-1],
        "duplicate": [frames[0], *frames],
        "append": [*frames, frames[0]],
    }
    for label, fs in variants.items():
        path = _write(tmp_path, prefix + b"".join(fs))
        with pytest.raises(IntegrityError):
            read_all_chunks(path, KEY, OID)
        with pytest.raises(IntegrityError):
            list(iter_chunks(path, KEY, OID))
        assert label


def test_frames_of_another_file_do_not_fit(tmp_path: Path) -> None:
    prefix_a, frames_a = _frames(_encode([b"one"], oid="A"))
    _, frames_b = _frames(_encode([b"two"], oid="B"))
    path = _write(tmp_path, prefix_a + frames_b[0] + frames_a[1])
    with pytest.raises(IntegrityError):
        read_all_chunks(path, KEY, "A")
    # The whole file of object B presented as object A is refused by its header.
    path = _write(tmp_path, _encode([b"two"], oid="B"))
    with pytest.raises(IntegrityError, match="expected 'A'"):
        read_all_chunks(path, KEY, "A")


def test_wrong_data_key_is_detected(tmp_path: Path) -> None:
    path = _write(tmp_path, _encode([b"x"]))
    with pytest.raises(IntegrityError):
        read_all_chunks(path, bytes(32), OID)


def test_plaintext_is_not_in_the_file() -> None:
    blob = _encode([b"SECRET-PAYLOAD" * 10])
    assert b"SECRET-PAYLOAD" not in blob
