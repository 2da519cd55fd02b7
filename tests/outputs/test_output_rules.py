"""Output rules: ACRO's names and defaults as one frozen value, replaced by an organisation's."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from fivesafes.errors import SpecError
from fivesafes.outputs import ACRO_RULES, OutputRules, Session, from_acro_config, from_ruleset
from fivesafes.outputs.rules import resolve_rules
from fivesafes.release.rulesets import RuleSetting
from fivesafes.sdc.spec import RuleSet


def test_acro_defaults() -> None:
    r = ACRO_RULES
    assert (r.safe_threshold, r.safe_dof_threshold, r.safe_nk_n, r.safe_nk_k) == (10, 10, 2, 0.9)
    assert (r.safe_pratio_p, r.survival_safe_threshold, r.zeros_are_disclosive) == (0.1, 10, True)
    assert r.check_missing_values is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.safe_threshold = 3  # type: ignore[misc]


def test_organisation_rule_set_replaces_them() -> None:
    org = RuleSet(threshold=7, dominance=((1, 50.0), (3, 75.0)), p_percent=15.0, zeros="safe")
    r = from_ruleset(org, name="standard v3")
    assert r.safe_threshold == 7 and r.survival_safe_threshold == 7
    assert (r.safe_nk_n, r.safe_nk_k) == (1, 0.5)
    assert r.more_dominance == ((3, 0.75),)
    assert r.safe_pratio_p == pytest.approx(0.15)
    assert r.zeros_are_disclosive is False
    back = r.to_ruleset(frequency=False)
    assert back.threshold == 7 and back.dominance == ((1, 50.0), (3, 75.0))


def test_pq_and_frequency_threshold_are_never_weakened() -> None:
    org = RuleSet(threshold=3, frequency_threshold=5, p_percent=10.0, pq=(10.0, 50.0))
    r = from_ruleset(org)
    assert r.safe_threshold == 5
    assert r.safe_pratio_p == pytest.approx(0.2)  # p/q = 0.2 is stricter than 10%


def test_stored_rule_set_version_is_accepted() -> None:
    stored = RuleSetting("standard", 2, {"threshold": 4, "dominance": [[2, 85]], "p_percent": None})
    r = resolve_rules(stored)
    assert r.name == "standard v2" and r.safe_threshold == 4 and r.safe_nk_k == pytest.approx(0.85)


def test_acro_config_mapping() -> None:
    r = from_acro_config(
        {"safe_threshold": 5, "safe_nk_k": 0.8, "federated": False, "suppress": True}
    )
    assert r.safe_threshold == 5 and r.safe_nk_k == 0.8 and r.safe_dof_threshold == 10


@pytest.mark.parametrize(
    "bad",
    [
        {"safe_threshold": 0},
        {"safe_threshold": True},
        {"safe_nk_k": 1.5},
        {"safe_nk_n": 0},
        {"safe_pratio_p": -0.1},
        {"threshold_protection_percent": -1},
    ],
)
def test_bad_rules_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(SpecError):
        OutputRules(**bad)  # type: ignore[arg-type]


def test_rules_change_the_verdicts() -> None:
    df = pd.DataFrame({"a": ["x"] * 6 + ["y"] * 30, "b": ["p", "q"] * 18})
    strict = Session()
    strict.crosstab(df.a, df.b)
    lenient = Session(rules=RuleSet(threshold=3, zeros="safe"))
    lenient.crosstab(df.a, df.b)
    assert strict.outputs["output_0"].status.text == "fail"
    assert lenient.outputs["output_0"].status.text == "pass"
