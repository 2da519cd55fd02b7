"""Crypto-shredding and retention: key and ciphertext gone, facts kept."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import KeyProviderError, NotFoundError
from fivesafes.vault import (
    AreaStore,
    FileKeyProvider,
    ingest_file,
    open_table,
    rotate_area_key,
    shred,
)
from fivesafes.vault.envelope import open_data_key
from fivesafes.vault.retention import due_for_destruction, run_retention


def test_shred_destroys_key_and_ciphertext(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path
) -> None:
    m = ingest_file(store, provider, survey_csv, name="lfs", ingested_by="a")
    ingest_file(store, provider, survey_csv, name="keep", ingested_by="a")
    backup = m.wrapped_key  # a copy of the wrapped key that survived somewhere (backup)
    s = shred(store, "lfs")
    assert s.facts["rows"] == 500 and s.facts["provenance"]["sha256"] == m.provenance.sha256
    assert "wrapped_key" not in s.facts and s.facts["object_id"] == m.object_id
    assert store.names() == ["keep"] and not store.object_dir("lfs").exists()
    assert not any((store.dir / ".staging").iterdir())
    with pytest.raises(NotFoundError):
        open_table(store, provider, "lfs")
    with pytest.raises(NotFoundError):
        shred(store, "lfs")
    # After the area key is rotated, even a backed-up wrapped key opens nothing.
    rotate_area_key(store, provider)
    with pytest.raises(KeyProviderError):
        open_data_key(provider, "survey", m.object_id, backup)
    assert open_table(store, provider, "keep").num_rows == 500


def test_name_is_free_again_after_shred(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path
) -> None:
    ingest_file(store, provider, survey_csv, name="lfs", ingested_by="a")
    shred(store, "lfs")
    ingest_file(store, provider, survey_csv, name="lfs", ingested_by="a")
    assert open_table(store, provider, "lfs").num_rows == 500


@given(
    dates=st.dictionaries(st.sampled_from("abcdef"), st.one_of(st.none(), st.dates())),
    today=st.dates(),
)
def test_due_for_destruction(dates: dict[str, date | None], today: date) -> None:
    due = due_for_destruction(dates, today)
    for name, until in dates.items():
        assert (name in due) == (until is not None and until < today)


def test_run_retention(store: AreaStore, provider: FileKeyProvider, survey_csv: Path) -> None:
    for n in ("old", "today", "new", "forever"):
        ingest_file(store, provider, survey_csv, name=n, ingested_by="a")
    today = date(2026, 11, 26)
    done = run_retention(
        store,
        {
            "old": date(2026, 11, 25),
            "today": today,
            "new": date(2027, 1, 1),
            "forever": None,
            "gone": date(2000, 1, 1),
        },
        today,
    )
    assert [s.name for s in done] == ["old"]
    assert store.names() == ["forever", "new", "today"]
