"""People, training, declarations, areas and datasets through the services, on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from governance_register import EXTRA_COURSE, MANDATORY, TODAY, Register

from fivesafes.errors import AccessDenied, ConflictError, NotFoundError, ValidationError
from fivesafes.governance.areas import Dataset
from fivesafes.governance.declarations import text_hash
from fivesafes.governance.people import PersonStatus
from fivesafes.governance.roles import Role
from fivesafes.services.governance import areas, datasets, declarations, people, training


def test_the_migration_seeds_the_mandatory_course(reg: Register) -> None:
    courses = {c.name: c for c in reg.read(training.list_courses)}
    assert courses[MANDATORY].mandatory and courses[MANDATORY].validity_months == 12
    assert not courses[EXTRA_COURSE].mandatory


def test_register_person_is_audited(reg: Register) -> None:
    before = reg.audit_count()
    person = reg.act("root", people.register_person, "cy", "Cy", [Role.OUTPUT_CHECKER])
    assert person.roles == {Role.OUTPUT_CHECKER} and person.status is PersonStatus.ACTIVE
    assert reg.audit_count() == before + 1
    event = reg.last_event()
    assert (event.action, event.actor, event.subject) == ("person.register", "root", "cy")


BAD_INPUT = [
    ("ada", lambda: (people.register_person, "cy", "Cy", []), AccessDenied),
    ("root", lambda: (people.register_person, "ada", "Again", []), ConflictError),
    ("root", lambda: (people.register_person, "bad login", "X", []), ValidationError),
    ("root", lambda: (people.change_roles, "nobody", [Role.FOI_OFFICER]), NotFoundError),
    ("root", lambda: (people.change_roles, "root", [], [Role.ADMINISTRATOR]), ValidationError),
    ("root", lambda: (people.mark_leaver, "root"), ValidationError),
    ("root", lambda: (people.mark_leaver, "nobody"), NotFoundError),
    ("ada", lambda: (training.add_course, "X"), AccessDenied),
    ("root", lambda: (training.add_course, EXTRA_COURSE), ConflictError),
    ("root", lambda: (training.add_course, "Long", 999), ValidationError),
    ("root", lambda: (training.record_completion, "ada", "No course", TODAY), NotFoundError),
    ("root", lambda: (training.record_completion, "nobody", MANDATORY, TODAY), NotFoundError),
    ("ada", lambda: (training.record_completion, "bob", MANDATORY, TODAY), AccessDenied),
    (
        "root",
        lambda: (training.record_completion, "ada", MANDATORY, date(2026, 7, 1), None, TODAY),
        ValidationError,
    ),
    ("ada", lambda: (declarations.publish_declaration, "mine"), AccessDenied),
    ("root", lambda: (declarations.publish_declaration, "  "), ValidationError),
    ("ada", lambda: (declarations.sign_declaration, 7), ConflictError),
    ("root", lambda: (areas.create_area, "pay", "ada"), AccessDenied),  # not an IAO
    ("root", lambda: (areas.create_area, "pay", "nobody"), NotFoundError),
    ("root", lambda: (areas.create_area, "earnings", "iris"), ConflictError),
    ("root", lambda: (areas.create_area, "pay", "iris", ["No course"]), NotFoundError),
    ("root", lambda: (areas.create_area, "Bad Name", "iris"), ValidationError),
    ("root", lambda: (areas.require_course, "nowhere", MANDATORY), NotFoundError),
    ("ada", lambda: (areas.require_course, "earnings", MANDATORY), AccessDenied),
    (
        "ada",
        lambda: (datasets.register_dataset, Dataset("x", "earnings", 1, 1, 1, "s", "b")),
        AccessDenied,
    ),
    (
        "iris",
        lambda: (datasets.register_dataset, Dataset("x", "nowhere", 1, 1, 1, "s", "b")),
        NotFoundError,
    ),
    (
        "iris",
        lambda: (datasets.register_dataset, Dataset("ashe", "earnings", 1, 1, 1, "s", "b")),
        ConflictError,
    ),
    (
        "iris",
        lambda: (datasets.register_dataset, Dataset("x", "earnings", 1, 1, 1, "s", "")),
        ValidationError,
    ),
]


def test_bad_input_is_a_clear_error_and_writes_nothing(reg: Register) -> None:
    # One register for every case: a migration per case would make the suite slow.
    before = reg.snapshot()
    for login, call, error in BAD_INPUT:
        fn, *args = call()  # type: ignore[operator]
        with pytest.raises(error) as raised:  # type: ignore[call-overload]
            reg.act(login, fn, *args)
        assert raised.value.hint, (fn.__name__, args)
        assert reg.snapshot() == before, (fn.__name__, args)


def test_roles_change_and_leaver(reg: Register) -> None:
    ada = reg.act("root", people.change_roles, "ada", [Role.OUTPUT_CHECKER], [])
    assert ada.roles == {Role.STATISTICIAN, Role.OUTPUT_CHECKER}
    with pytest.raises(ConflictError):
        reg.act("root", people.change_roles, "ada", [Role.OUTPUT_CHECKER], [])
    gone = reg.act("root", people.mark_leaver, "ada", "moved")
    assert gone.status is PersonStatus.LEAVER
    with pytest.raises(ConflictError):
        reg.act("root", people.mark_leaver, "ada")
    from fivesafes.errors import IdentityError

    with pytest.raises(IdentityError, match="leaver"):
        reg.act("ada", people.list_people)


def test_training_status_uses_the_latest_completion(reg: Register) -> None:
    reg.act("root", training.record_completion, "ada", EXTRA_COURSE, date(2023, 1, 1), None, TODAY)
    status = {s.course: s for s in reg.read(training.training_of, "ada", TODAY)}
    assert not status[EXTRA_COURSE].valid and status[EXTRA_COURSE].expires_on == date(2025, 1, 1)
    assert status[MANDATORY].completed_on is None
    reg.act("root", training.record_completion, "ada", EXTRA_COURSE, TODAY, "LMS-1", TODAY)
    status = {s.course: s for s in reg.read(training.training_of, "ada", TODAY)}
    assert status[EXTRA_COURSE].valid and status[EXTRA_COURSE].expires_on == date(2028, 6, 1)


def test_declaration_versions_signing_and_hash(reg: Register) -> None:
    sig = reg.act("ada", declarations.sign_declaration, 1)
    assert sig.text_hash == text_hash("I will protect confidential data.")
    with pytest.raises(ConflictError, match="already signed"):
        reg.act("ada", declarations.sign_declaration, 1)
    v2 = reg.act("root", declarations.publish_declaration, "New text.")
    assert v2.version == 2
    before = reg.snapshot()
    with pytest.raises(ConflictError, match="not the current"):
        reg.act("bob", declarations.sign_declaration, 1)
    assert reg.snapshot() == before
    assert reg.act("bob", declarations.sign_declaration, 2).text_hash == text_hash("New text.")


def test_areas_and_datasets_are_listed(reg: Register) -> None:
    area = reg.act("root", areas.require_course, "earnings", MANDATORY)
    assert area.required_courses == {MANDATORY, EXTRA_COURSE} and area.owner == "iris"
    assert [a.name for a in reg.read(areas.list_areas)] == ["earnings"]
    ashe = reg.read(datasets.get_dataset, "ashe")
    assert ashe.confidential and ashe.area == "earnings"
    assert [d.name for d in reg.read(datasets.list_datasets, "earnings")] == ["ashe"]
    with pytest.raises(NotFoundError):
        reg.read(datasets.list_datasets, "nowhere")
