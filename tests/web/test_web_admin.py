"""Administration pages: administrators only; every change the same audited service call
the CLI makes (people, roles, leavers, courses, training, the declaration, areas, datasets,
rule sets)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_world import WebWorld, csrf_of, web_world

from fivesafes.server.operations import run
from fivesafes.services.governance import datasets
from fivesafes.services.release import rule_sets

SECTIONS = ("people", "training", "areas", "rules")


@pytest.fixture
def ww(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as made:
        yield made


def _post(ww: WebWorld, login: str, action: str, data: dict[str, Any]) -> Any:
    browser = ww.signed_in(login)
    csrf = csrf_of(browser.get("/web/").text)
    return browser.post(f"/web/admin/{action}", data={"csrf": csrf, **data})


def test_the_pages_are_for_administrators_only_and_a_refusal_is_recorded(ww: WebWorld) -> None:
    root, olga = ww.signed_in("root"), ww.signed_in("olga")
    for section in SECTIONS:
        assert root.get(f"/web/admin/{section}").status_code == 200, section
        assert olga.get(f"/web/admin/{section}").status_code == 403, section
    refused = _post(
        ww, "olga", "people/add", {"login": "eve", "name": "Eve", "roles": "administrator"}
    )
    assert refused.status_code == 403
    assert "eve" not in {p["login"] for p in run(ww.app, "root", "people.list", {})}
    assert ww.events("web.page").count(("olga", "denied")) == len(SECTIONS) + 1
    assert root.get("/web/admin/nowhere").status_code == 404


def test_people_are_added_given_roles_and_recorded_as_leavers(ww: WebWorld) -> None:
    added = _post(
        ww,
        "root",
        "people/add",
        {"login": "dora", "name": "Dora <b>D</b>", "roles": ["output_checker"]},
    )
    assert added.status_code == 303, added.text
    changed = _post(
        ww, "root", "people/roles", {"login": "dora", "roles": ["auditor", "statistician"]}
    )
    assert changed.status_code == 303, changed.text
    dora = next(p for p in run(ww.app, "root", "people.list", {}) if p["login"] == "dora")
    assert sorted(dora["roles"]) == ["auditor", "statistician"]
    assert "Dora &lt;b&gt;D&lt;/b&gt;" in ww.signed_in("root").get("/web/admin/people").text
    left = _post(ww, "root", "people/leave", {"login": "dora", "reason": "moved on"})
    assert left.status_code == 303
    assert ww.events("person.leave") == [("root", "done")]
    assert [e for e in ww.events("person.roles")] == [("root", "done")]


def test_courses_training_and_a_declaration(ww: WebWorld) -> None:
    assert (
        _post(
            ww, "root", "training/course", {"name": "Web safety", "validity_months": "6"}
        ).status_code
        == 303
    )
    done = _post(
        ww,
        "root",
        "training/record",
        {"login": "bob", "course": "Web safety", "completed": "2026-12-01"},
    )
    assert done.status_code == 303, done.text
    bad = _post(
        ww,
        "root",
        "training/record",
        {"login": "bob", "course": "Web safety", "completed": "yesterday"},
    )
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text and "Traceback" not in bad.text
    assert (
        _post(ww, "root", "training/declaration", {"text": "I will be careful."}).status_code == 303
    )
    assert run(ww.app, "bob", "declaration.show", {})["version"] == 2
    assert ww.events("course.add")[-1] == ("root", "done")
    assert ww.events("training.complete")[-1] == ("root", "done")


def test_areas_datasets_and_rule_sets(ww: WebWorld) -> None:
    made = _post(
        ww,
        "root",
        "areas/create",
        {"name": "health", "owner": "iris", "courses": ["Earnings data"]},
    )
    assert made.status_code == 303, made.text
    assert (
        _post(ww, "root", "areas/policy", {"area": "health", "withhold": "yes"}).status_code == 303
    )
    area = next(a for a in run(ww.app, "root", "area.list", {}) if a["name"] == "health")
    assert area["withhold_thresholds"] is True and area["required_courses"] == ["Earnings data"]
    registered = _post(
        ww,
        "root",
        "areas/dataset",
        {
            "name": "gp",
            "area": "health",
            "source": "GP survey",
            "lawful_basis": "SRSA 2007",
            "identifiable": "yes",
            "harmful": "yes",
        },
    )
    assert registered.status_code == 303, registered.text
    gp = ww.world.reg.read(datasets.get_dataset, "gp")
    assert gp.identifiable and gp.harmful and not gp.not_public
    ruled = _post(
        ww,
        "root",
        "rules/set",
        {"name": "strict", "threshold": "10", "p_percent": "15", "dominance": "2,85"},
    )
    assert ruled.status_code == 303, ruled.text
    strict = ww.world.reg.read(rule_sets.rule_set_in_force, "strict")
    assert strict is not None and strict.parameters["threshold"] == 10
    assert ww.events("rules.define")[-1] == ("root", "done")
    # the service refuses what it refuses, as on the command line
    dup = _post(ww, "root", "areas/create", {"name": "health", "owner": "iris"})
    assert dup.status_code == 409 and "health" in dup.text
