"""The regime check reads how record keys were drawn from words: keys drawn differently
must never read the same, and keys drawn the same way must (vault/key_schemes.py)."""

from __future__ import annotations

from fivesafes.release.regimes import Regime, regime_of_report, regime_of_spec, stored_keys
from fivesafes.sdc import PerturbationSpec, parse_spec
from fivesafes.vault.key_schemes import keys_drawn
from fivesafes.vault.record_keys import SCHEME as ROW
from fivesafes.vault.unit_keys import UNIT_SCHEME, UNIT_SCHEME_V1

SHA = "ab" * 32


def _regime(drawn: str) -> Regime:
    spec = parse_spec(
        {
            "table": {"name": "t", "protection": "cellkey"},
            "dimension": [{"name": "region"}],
        }
    )
    return regime_of_spec(spec, stored_keys(drawn))


def test_v2_keys_of_one_unit_column_match_across_datasets_and_families() -> None:
    a = keys_drawn({"scheme": UNIT_SCHEME, "unit": "person", "family": "jobs"}, "jobs", SHA)
    b = keys_drawn({"scheme": UNIT_SCHEME, "unit": "person", "family": "pay"}, "pay", "cd" * 32)
    assert a == b and _regime(a).matches(_regime(b))


def test_keys_drawn_differently_never_match() -> None:
    v2 = keys_drawn({"scheme": UNIT_SCHEME, "unit": "person", "family": "jobs"}, "jobs", SHA)
    others = [
        keys_drawn({"scheme": UNIT_SCHEME, "unit": "firm", "family": "jobs"}, "jobs", SHA),
        keys_drawn({"scheme": UNIT_SCHEME_V1, "unit": "person", "family": "jobs"}, "jobs", SHA),
        keys_drawn({"scheme": ROW}, "jobs", SHA),
    ]
    for other in others:
        assert other != v2 and not _regime(v2).matches(_regime(other))


def test_v1_keys_keep_the_words_their_sealed_reports_use() -> None:
    # reports sealed before v2 name their keys so; a new table of such a dataset matches
    v1 = keys_drawn({"scheme": UNIT_SCHEME_V1, "unit": "person", "family": "firms"}, "x", SHA)
    assert v1 == "by unit 'person' in family 'firms'"
    assert keys_drawn({"scheme": "unknown/v9"}, "x", SHA) == ""


def test_magnitude_step_is_part_of_the_regime_and_was_1_before_it_was_recorded() -> None:
    def report(parameters: dict) -> dict:
        return {
            "protection": {
                "method": "cellkey",
                "parameters": parameters,
                "ptable": {"identity": "generated"},
                "keys": {"origin": "stored column k", "drawn": "by row of 'x'"},
            }
        }

    now = PerturbationSpec().as_dict()
    before = {k: v for k, v in now.items() if k != "magnitude_step"}
    old = regime_of_report(report(before), frequency=False)
    assert old.consistent
    assert old.matches(regime_of_report(report({**now, "magnitude_step": 1}), frequency=False))
    assert not old.matches(regime_of_report(report(now), frequency=False))
