"""Table specs: a bad spec is a clear SpecError, never a traceback or a stray write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fivesafes.errors import SpecError
from fivesafes.sdc.spec import load_spec, parse_spec


def raw(name: str) -> dict[str, Any]:
    return {"table": {"name": name, "response": "x"}, "dimension": [{"name": "r"}]}


@pytest.mark.parametrize(
    "name", ["../../escape", "a/b", "a\\b", "..", ".", ".hidden", "c:x", "tab\there"]
)
def test_a_table_name_that_is_not_a_plain_folder_name_is_refused(name: str) -> None:
    # regression: OUT/<name>/ with name "../../x" wrote cells.csv outside OUT
    with pytest.raises(SpecError, match="folder name") as caught:
        parse_spec(raw(name))
    assert caught.value.hint


@pytest.mark.parametrize("name", ["turnover_by_region", "t.2026", "Turnover by region", "a-b"])
def test_plain_table_names_are_accepted(name: str) -> None:
    assert parse_spec(raw(name)).name == name


def test_a_spec_that_is_not_utf8_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_bytes(b'[table]\nname = "\xe9"\n')
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(path)


def with_rules(**rules: Any) -> dict[str, Any]:
    spec = raw("t")
    spec["rules"] = rules
    return spec


@pytest.mark.parametrize(
    "rules",
    [
        {"dominance": 5},  # regression: TypeError ('int' object is not iterable)
        {"dominance": [1, 50]},
        {"dominance": [[True, 50]]},
        {"threshold": True},
        {"frequency_threshold": True},
        {"p_percent": True},
        {"pq": [True, 50]},
    ],
)
def test_malformed_rules_are_spec_errors(rules: dict[str, Any]) -> None:
    with pytest.raises(SpecError, match=r"\[rules\]"):
        parse_spec(with_rules(**rules))


def test_well_formed_rules_are_kept() -> None:
    spec = parse_spec(with_rules(threshold=4, dominance=[[1, 50], [2, 85.5]], p_percent=10))
    assert spec.rules.threshold == 4
    assert spec.rules.dominance == ((1, 50.0), (2, 85.5))
    assert spec.rules.p_percent == 10.0


@pytest.mark.parametrize(
    ("section", "entries"),
    [
        ("rules", {"threshold": 0}),
        ("rules", {"threshold": "3"}),
        ("rules", {"p_percent": 0}),
        ("rules", {"dominance": [[1, 150]]}),
        ("rules", {"zeros": "maybe"}),
        ("suppression", {"time_limit": -1}),
        ("suppression", {"singleton": "no"}),
        ("suppression", {"a_priori_percent": 0}),
        ("suppression", {"method": "optimall"}),
    ],
)
def test_every_spec_error_says_what_to_do(section: str, entries: dict[str, Any]) -> None:
    # a new statistician got "error [spec]: [rules] threshold must be ..., got 0" and no
    # "what to do" line
    spec = {**raw("t"), section: entries}
    with pytest.raises(SpecError) as err:
        parse_spec(spec)
    assert err.value.hint, err.value.message
    if section == "rules" and "must be" in err.value.message:
        assert "docs/tables.md, [rules]" in err.value.hint


def test_a_number_in_quotes_is_told_to_lose_them() -> None:
    with pytest.raises(SpecError) as err:
        parse_spec({**raw("t"), "rules": {"threshold": "3"}})
    assert "without quotes (3, not '3')" in (err.value.hint or "")


def test_the_rule_fields_are_the_rule_sets_fields() -> None:
    # a rule added to RuleSet but not here would be refused in a spec and left out of a
    # release's regime (release/regimes.py), which must compare every rule
    import dataclasses

    from fivesafes.sdc import RULE_FIELDS, RuleSet

    assert {f.name for f in dataclasses.fields(RuleSet)} == set(RULE_FIELDS)
