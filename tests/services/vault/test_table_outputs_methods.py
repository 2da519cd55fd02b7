"""A stored dataset is never perturbed with key material from outside its area (yet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fivesafes.errors import SpecError
from fivesafes.sdc.spec import load_spec
from fivesafes.services.vault.tables import protect_dataset_for


def test_a_perturbing_spec_is_refused_before_any_data_is_opened(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[table]\nname = "t"\nprotection = "cellkey"\n[[dimension]]\nname = "r"\n')
    spec = load_spec(path)
    with pytest.raises(SpecError, match="not available for stored datasets"):
        # no transaction, no vault: the refusal comes before either is used
        protect_dataset_for(None, None, "ada", "area", "ds", [spec])  # type: ignore[arg-type]
