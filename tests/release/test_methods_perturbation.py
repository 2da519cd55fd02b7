"""The methods note of a table protected by changing values: what was done, or withheld."""

from __future__ import annotations

from fivesafes.release.methods import choices, perturbation_text

CELLKEY = {"method": "cellkey", "parameters": {"D": 3, "V": 2.5, "js": 4, "magnitude_percent": 10}}


def test_cellkey_states_d_v_and_js_unless_withheld() -> None:
    shown = " ".join(perturbation_text(CELLKEY, counts=True, withhold=False))
    assert "at most 3, with variance 2.5" in shown and "between 1 and 3" in shown
    assert "may differ from the sum of its parts" in shown
    hidden = " ".join(
        perturbation_text(CELLKEY, counts=True, withhold=True, withheld_by="area policy")
    )
    assert "withheld" in hidden and "cell key" in hidden
    for secret in ("3", "2.5"):
        assert secret not in hidden
    values = " ".join(perturbation_text(CELLKEY, counts=False, withhold=False))
    assert "10% of them" in values


def test_rounding_states_its_base_and_whether_totals_add_up() -> None:
    exact = {
        "method": "controlled-rounding",
        "parameters": {"base": 5},
        "rounding": {"controlled": {"exact": True}},
    }
    assert "Totals equal the sum of their parts." in perturbation_text(
        exact, counts=True, withhold=True
    )
    broken = {**exact, "rounding": {"controlled": {"exact": False, "tolerance": 10}}}
    assert "by up to 10" in " ".join(perturbation_text(broken, counts=True, withhold=False))
    rr = " ".join(
        perturbation_text(
            {"method": "random-rounding", "parameters": {"base": 5}}, counts=True, withhold=True
        )
    )
    assert "multiple of 5" in rr  # a base is never withheld: every value shows it
    assert perturbation_text({"method": "suppression"}, counts=True, withhold=False) == []


def test_a_perturbed_table_never_claims_true_totals_or_hidden_cells_it_has_not() -> None:
    said = choices({}, {}, "cellkey", withhold=False, hidden=False)
    assert not any("true totals" in c or "hidden" in c for c in said)
    assert any("true totals" in c for c in choices({}, {}, "optimal", withhold=False))
