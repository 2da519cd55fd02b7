"""Faults: an ingest killed half-way, and a scan of the disk for plaintext afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from fivesafes.vault import AreaStore, FileKeyProvider, ingest_file, open_table
from fivesafes.vault.query import query_area
from fivesafes.vault.shred import shred
from fivesafes.vault.store import STAGING

KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pyarrow as pa
    from fivesafes.vault import AreaStore, FileKeyProvider
    from fivesafes.vault.manifest import Provenance
    from fivesafes.vault.writer import write_object

    ws, marker, signal_file = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    store = AreaStore(ws / "areas", "survey")
    provider = FileKeyProvider(ws / "keys")
    schema = pa.schema([("note", pa.string())])

    def batches():
        for i in range(1000):
            notes = pa.array([f"{marker}-{i}-{j}" for j in range(200)])
            yield pa.record_batch([notes], schema=schema)
            if i == 20:
                signal_file.write_text("frames on disk")
                time.sleep(120)  # killed here, half-way

    write_object(store, provider, name="big", schema=schema, batches=batches(),
                 provenance=Provenance("x", "0", 0, "t", "2026", "csv"),
                 frame_bytes=4096, row_group_rows=1000)
    """
)


def _files_containing(roots: list[Path], needle: bytes, since: float, skip: Path) -> list[Path]:
    found = []
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            if Path(dirpath).is_relative_to(skip):
                continue
            for f in files:
                p = Path(dirpath) / f
                try:
                    st = p.stat()
                    if st.st_mtime < since or st.st_size > 512 << 20 or not p.is_file():
                        continue
                    if needle in p.read_bytes():
                        found.append(p)
                except OSError:
                    continue
    return found


def test_killed_ingest_leaves_nothing_registered_and_loses_nothing(
    store: AreaStore,
    provider: FileKeyProvider,
    survey_csv: Path,
    home: Path,
    marker: str,
    tmp_path: Path,
) -> None:
    ingest_file(store, provider, survey_csv, name="existing", ingested_by="a")
    before = open_table(store, provider, "existing")
    signal_file = tmp_path / "signal"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(home), marker, str(signal_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not signal_file.exists():
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline, "the ingest never started writing"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
    # Half-written ciphertext sits in staging; nothing is registered; nothing is plaintext.
    partial = list((store.dir / STAGING).iterdir())
    assert len(partial) == 1 and (partial[0] / "data.fsv").stat().st_size > 4096
    assert store.names() == ["existing"]
    assert _files_containing([home], marker.encode(), 0, skip=tmp_path / "source") == []
    # What was stored before is intact; the partial is swept on the next open.
    assert open_table(store, provider, "existing").equals(before)
    assert store.sweep_staging() == [partial[0].name]
    assert list((store.dir / STAGING).iterdir()) == []


def test_no_plaintext_on_disk_after_ingest_and_query(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path, home: Path, marker: str
) -> None:
    since = time.time() - 1
    ingest_file(
        store, provider, survey_csv, name="lfs", ingested_by="a", pseudonymise=["person_id"]
    )
    ingest_file(store, provider, survey_csv, name="lfs_z", ingested_by="a", compression="zstd")
    r = query_area(
        store, provider, "SELECT note, region FROM lfs WHERE age > 30 ORDER BY note", run_by="b"
    )
    assert any(
        marker in v for v in r.table.column("note").to_pylist()
    )  # the marker is in the result
    q2 = query_area(store, provider, "SELECT * FROM lfs_z", run_by="b")
    assert q2.table.num_rows == 500
    shred(store, "lfs_z")
    roots = [home, Path(tempfile.gettempdir()), Path.cwd()]
    leaks = _files_containing(roots, marker.encode(), since, skip=survey_csv.parent)
    assert leaks == []
    # The identifiers were pseudonymised before encryption, too.
    assert "P0000001" not in open_table(store, provider, "lfs").column("person_id").to_pylist()
