"""Every protection run ends with the independent audit; an unsafe pattern is never returned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_tables import write_case

import fivesafes.sdc.pipeline as protect_module
from fivesafes.errors import UnsafeTableError
from fivesafes.sdc import tables


def test_primary_only_is_reported_as_not_safe_to_release(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path, method="none")
    result = tables(spec, data)
    audit = result.report["audit"]
    assert audit["safe_to_release"] is False and audit["run"] is False
    assert "secondary" in audit["reason"]


def test_a_secondary_method_that_leaves_a_cell_exposed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, data = write_case(tmp_path, method="fast")

    def lazy_secondary(cells, hierarchies, suppression, **kwargs):  # type: ignore[no-untyped-def]
        # hides nothing more than the primaries, and offers forged proofs for them
        primary = np.flatnonzero((cells["status"] == "primary").to_numpy())
        forged = {
            (int(p), d): (np.array([p]), np.array([d * 1e6])) for p in primary for d in (1, -1)
        }
        return cells, {"method": "lazy"}, forged

    monkeypatch.setattr(protect_module, "protect_secondary", lazy_secondary)
    with pytest.raises(UnsafeTableError, match="under-protected"):
        tables(spec, data)
    assert not (tmp_path / "out").exists()


def test_a_real_method_passes_its_audit_and_says_so(tmp_path: Path) -> None:
    spec, data = write_case(tmp_path, method="optimal")
    spec.write_text(spec.read_text() + "singleton = false\n")
    result = tables(spec, data)
    assert result.report["audit"]["safe"] is True
    assert result.report["audit"]["safe_to_release"] is True
    assert "audit" in result.report["timings"]


def test_the_fast_methods_proofs_reach_the_audit_and_are_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fivesafes.sdc.secondary import fast

    monkeypatch.setattr(fast, "HYPERCUBE_MIN_CELLS", 0)  # the move search on a small table
    spec, data = write_case(tmp_path, method="fast")
    spec.write_text(spec.read_text() + "singleton = false\n")
    audit = tables(spec, data).report["audit"]
    assert audit["safe_to_release"] is True
    assert audit["witnesses_verified"] > 0
    assert audit["witnesses_rejected"] == 0
