"""The register of published cells: what register_release records, earlier_outputs gives back.

earlier_outputs reads every public cell of a source in one query (driver tuples, codes
parsed by Arrow) and unseals the hidden ones; these tests pin that it returns each
release's cells exactly, whatever the releases' dimensions, the codes' characters, or
how the releases of several sources interleave.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from governance_register import Register
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.release.submission import FileSubmission, TableSubmission
from fivesafes.release.workflow import RequestState
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.services.context import now, resolve_actor
from fivesafes.services.governance.lookup import area_row
from fivesafes.services.release import register as published_register
from fivesafes.store.db import transaction
from fivesafes.store.models.release import ReleaseRequestRow
from fivesafes.vault.keys import FileKeyProvider

AREA = "earnings"


@pytest.fixture
def provider(tmp_path: Path) -> FileKeyProvider:
    keys = FileKeyProvider(tmp_path / "keys")
    keys.create_key(AREA)
    return keys


def _flat(name: str, codes: list[str]) -> Hierarchy:
    return Hierarchy.flat(name, codes, total="T")


def _table(label: str, hs: tuple[Hierarchy, ...], hide: int = 1) -> TableSubmission:
    """Every cell of ``hs`` with distinct values; the first ``hide`` leaf cells hidden."""
    grid = pd.MultiIndex.from_product([h.order for h in hs], names=[h.name for h in hs])
    cells = grid.to_frame(index=False)
    cells["value"] = [1000.0 + 7.25 * i for i in range(len(cells))]
    cells["status"] = "safe"
    leaf_rows = [i for i, r in cells.iterrows() if all(r[h.name] != "T" for h in hs)]
    cells.loc[leaf_rows[:hide], "status"] = "primary"
    cells["lower_protection"] = (cells["status"] == "primary") * 1.5
    cells["upper_protection"] = (cells["status"] == "primary") * 2.5
    text = cells.to_csv(index=False)
    return TableSubmission(
        name=label,
        cells_csv=text,
        report={"rules": {"threshold": 7}},
        spec_text=f"name = '{label}'\n",
        spec_hash=hashlib.sha256(label.encode()).hexdigest(),
        frequency=False,
        a_priori_percent=None,
        hierarchies=hs,
        files={"cells.csv": hashlib.sha256(text.encode()).hexdigest()},
    )


def _publish(
    reg: Register,
    provider: FileKeyProvider,
    source: str,
    label: str,
    output: TableSubmission | FileSubmission,
) -> int:
    """Record ``output`` as published (the publication service's own register write)."""
    with transaction(reg.engine) as s:
        request = ReleaseRequestRow(
            title=label,
            kind="table" if isinstance(output, TableSubmission) else "file",
            area=area_row(s, AREA),
            author_id=resolve_actor(s, "ada").id,
            source=source,
            state=RequestState.RELEASED.value,
            current_version=1,
            created_at=now(),
            updated_at=now(),
        )
        s.add(request)
        s.flush()
        _, cells = published_register.register_release(
            s,
            provider,
            request,
            output,
            release_id=label,
            bundle_path=Path("releases") / label,
            manifest={},
            published_on=date(2026, 1, 1),
            published_by="ada",
        )
    return cells


def _sorted(cells: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    cols = [*dims, "value", "status", "lower_protection", "upper_protection"]
    out = cells[cols].copy()
    for d in dims:
        out[d] = out[d].astype(str)
    out["status"] = out["status"].astype(str)
    return out.sort_values(dims).reset_index(drop=True)


def _assert_loaded(loaded: list, published: list[TableSubmission]) -> None:
    assert [o.label for o in loaded] == [t.name for t in published]
    for out, sub in zip(loaded, published, strict=True):
        dims = list(sub.dimensions)
        assert out.dimensions == sub.dimensions
        pd.testing.assert_frame_equal(
            _sorted(out.cells, dims), _sorted(sub.cells, dims), check_dtype=False
        )


def test_releases_of_different_dimensions_and_interleaved_sources_load_exactly(
    reg: Register, provider: FileKeyProvider
) -> None:
    region = _flat("region", ["n", "s", "w"])
    industry = _flat("industry", ["01", "02"])
    size = _flat("size", ["small", "large"])
    mine = [
        _table("R1", (region, industry), hide=2),
        _table("R2", (region,)),
        _table("R3", (industry, size, region), hide=3),
    ]
    other = _table("X1", (region, industry))
    _publish(reg, provider, "survey:pay", "R1", mine[0])
    _publish(reg, provider, "census:count", "X1", other)
    _publish(reg, provider, "survey:pay", "F1", FileSubmission("note.md", b"# a note\n"))
    _publish(reg, provider, "survey:pay", "R2", mine[1])
    _publish(reg, provider, "survey:pay", "R3", mine[2])
    loaded = reg.read(published_register.earlier_outputs, provider, "survey:pay")
    _assert_loaded(loaded, mine)  # the file has no cells; the other source stays out
    _assert_loaded(reg.read(published_register.earlier_outputs, provider, "census:count"), [other])
    assert reg.read(published_register.earlier_outputs, provider, "nothing:here") == []


def test_a_release_with_every_cell_hidden_or_none_hidden_loads(
    reg: Register, provider: FileKeyProvider
) -> None:
    region = _flat("region", ["n", "s"])
    none_hidden = _table("R1", (region,), hide=0)
    _publish(reg, provider, "survey:pay", "R1", none_hidden)
    _assert_loaded(
        reg.read(published_register.earlier_outputs, provider, "survey:pay"), [none_hidden]
    )


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_leaves_the_garbage_collector_as_it_found_it(
    reg: Register, provider: FileKeyProvider, enabled: bool
) -> None:
    _publish(reg, provider, "survey:pay", "R1", _table("R1", (_flat("region", ["n", "s"]),)))
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        reg.read(published_register.earlier_outputs, provider, "survey:pay")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


_SOURCES = itertools.count()
_CODE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=6,
).filter(lambda c: c == c.strip() and c != "T")  # hierarchies strip codes; T is the total


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(codes=st.lists(_CODE, min_size=1, max_size=4, unique=True), n=st.integers(0, 10**6))
def test_codes_with_any_characters_come_back_unchanged(
    reg: Register, provider: FileKeyProvider, codes: list[str], n: int
) -> None:
    # Quotes, backslashes, newlines, non-ASCII: the JSON-lines parse must not split or mangle.
    source = f"s{next(_SOURCES)}:{n}"  # a new source each example (hypothesis repeats some)
    sub = _table(source, (_flat("area", codes),))
    _publish(reg, provider, source, source, sub)
    _assert_loaded(reg.read(published_register.earlier_outputs, provider, source), [sub])
