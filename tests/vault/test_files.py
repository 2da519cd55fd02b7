"""Named files kept as one encrypted output: round trip, digest, nothing in plain text."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.errors import IntegrityError
from fivesafes.vault import AreaStore, FileKeyProvider, Provenance, write_object
from fivesafes.vault.files import files_digest, read_files, write_files

names = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=12)


def test_files_round_trip_and_only_ciphertext_reaches_the_disk(
    store: AreaStore, provider: FileKeyProvider, home: Path, marker: str
) -> None:
    files = {"cells.csv": f"area,value\n{marker},1.5\n".encode(), "spec.toml": b"", "x": b"\0\1"}
    m = write_files(
        store, provider, files, name="t-1", source="ashe:pay", made_by="ada", source_format="table"
    )
    assert m.kind == "outputs" and m.rows == 3 and m.provenance.source == "ashe:pay"
    assert m.provenance.sha256 == files_digest(files) and m.provenance.ingested_by == "ada"
    assert read_files(store, provider, "t-1") == files
    for folder, _dirs, found in os.walk(home):
        for f in found:
            assert marker.encode() not in (Path(folder) / f).read_bytes(), f


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(names, st.binary(max_size=20), min_size=1, max_size=5), st.randoms())
def test_the_digest_ignores_order_and_sees_every_byte(files: dict[str, bytes], rnd: Any) -> None:
    shuffled = list(files.items())
    rnd.shuffle(shuffled)
    assert files_digest(dict(shuffled)) == files_digest(files)
    name = sorted(files)[0]
    changed = {**files, name: files[name] + b"!"}
    assert files_digest(changed) != files_digest(files)
    renamed = {(k + "_" if k == name else k): v for k, v in files.items()}
    assert files_digest(renamed) != files_digest(files)


def test_an_output_that_is_not_files_is_refused(
    store: AreaStore, provider: FileKeyProvider
) -> None:
    table = pa.table({"region": ["N", "S"], "n": [3, 4]})
    provenance = Provenance("SELECT 1", "0" * 64, 0, "ada", "2026-01-01T00:00:00+00:00", "query")
    write_object(
        store,
        provider,
        name="q-1",
        kind="outputs",
        schema=table.schema,
        batches=table.to_batches(),
        provenance=provenance,
    )
    with pytest.raises(IntegrityError, match="does not hold files"):
        read_files(store, provider, "q-1")
