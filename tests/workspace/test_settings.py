"""Settings declared once: parsed, validated, and each documented in docs/workspace.md."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from fivesafes.errors import WorkspaceError
from fivesafes.workspace.home import render_config
from fivesafes.workspace.settings import (
    SETTINGS,
    Setting,
    get_setting,
    resolve,
    validate_config,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "workspace.md"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting: Setting) -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert f"`{setting.name}`" in text, f"docs/workspace.md does not document {setting.name}"
    if setting.env:
        assert setting.env in text


def test_environment_beats_config_beats_default() -> None:
    assert resolve("database_url", {}, environ={}) is None
    assert resolve("database_url", {"database_url": "sqlite:///a"}, environ={}) == "sqlite:///a"
    env = {"FIVESAFES_DATABASE_URL": "sqlite:///b"}
    assert resolve("database_url", {"database_url": "sqlite:///a"}, environ=env) == "sqlite:///b"


def test_policy_settings_do_not_come_from_the_environment() -> None:
    # A user must not loosen governance limits for one command with a variable.
    for setting in SETTINGS:
        if setting.name not in ("home", "database_url"):
            assert setting.env is None, setting.name
    assert resolve("demo_identity", {}, environ={"FIVESAFES_DEMO_IDENTITY": "1"}) is False


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("checkpoint_every", "50", 50),
        ("demo_identity", "yes", True),
        ("demo_identity", False, False),
    ],
)
def test_values_are_parsed(name: str, raw: object, expected: object) -> None:
    assert get_setting(name).parse(raw, source="test") == expected


@pytest.mark.parametrize(
    ("name", "raw"),
    [("checkpoint_every", "many"), ("checkpoint_every", -3), ("demo_identity", "perhaps")],
)
def test_bad_values_are_refused_with_a_hint(name: str, raw: object) -> None:
    with pytest.raises(WorkspaceError) as info:
        get_setting(name).parse(raw, source="config.toml")
    assert info.value.hint


def test_unknown_setting() -> None:
    with pytest.raises(WorkspaceError, match="unknown setting"):
        get_setting("colour")


def test_a_sectioned_setting_lives_in_its_table_of_config_toml() -> None:
    config = {"engine": {"name": "spark", "master": "spark://head:7077"}}
    assert resolve("engine_name", config, environ={}) == "spark"
    assert resolve("engine_master", config, environ={}) == "spark://head:7077"
    assert resolve("engine_name", {}, environ={}) == "duckdb"
    assert resolve("engine_master", {}, environ={}) == "local[*]"
    assert get_setting("engine_name").where == "[engine] name"


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"engine": {"name": "flink"}}, "must be one of duckdb, spark"),
        ({"engine": {"colour": "red"}}, "unknown setting 'colour' in \\[engine\\]"),
        ({"engine_name": "spark"}, "at the top level"),
        ({"engine": "spark"}, "must be a table"),
    ],
)
def test_a_bad_engine_section_is_refused(config: dict[str, object], match: str) -> None:
    with pytest.raises(WorkspaceError, match=match):
        validate_config(config)


def test_the_generated_config_round_trips_with_its_sections() -> None:
    config = {"format": 1, "workspace_id": "x", "engine": {"name": "spark"}}
    text = render_config(config)
    parsed = tomllib.loads(text)
    validate_config(parsed)
    assert parsed["engine"] == {"name": "spark"}
    assert text.index("[engine]") > text.index("review_due_days")  # top-level keys first


def test_an_unused_section_stays_commented_so_appended_settings_stay_top_level() -> None:
    text = render_config({"format": 1, "workspace_id": "x"})
    assert "\n# [engine]\n" in text and "\n[engine]" not in text
    parsed = tomllib.loads(text + "grant_max_months = 6\n")
    validate_config(parsed)
    assert resolve("grant_max_months", parsed, environ={}) == 6


def test_a_top_level_setting_inside_a_section_says_where_it_belongs() -> None:
    with pytest.raises(WorkspaceError, match="unknown setting") as info:
        validate_config({"engine": {"grant_max_months": 6}})
    assert "move it above the [engine] line" in (info.value.hint or "")
