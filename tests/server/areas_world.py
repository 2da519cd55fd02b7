"""A workspace for the server's sealing tests: ada (administrator), iris (the asset
owner), areas 'earnings' and 'requests' (the requests area of the default settings)."""

from __future__ import annotations

from pathlib import Path

from fivesafes.app import App
from fivesafes.governance.roles import Role
from fivesafes.services.governance import areas, people
from fivesafes.services.setup import init_workspace


def open_areas_app(home: Path, *others: tuple[str, str, Role]) -> App:
    """The workspace at ``home``, with ``others`` (login, name, role) registered too."""
    init_workspace(home, "ada", "Ada Lovelace")[0].close()
    opened = App.open(home)
    with opened.acting_as("ada") as a:
        people.register_person(
            a.session, a.actor, "iris", "Iris Owner", [Role.INFORMATION_ASSET_OWNER]
        )
        for login, name, role in others:
            people.register_person(a.session, a.actor, login, name, [role])
    with opened.acting_as("ada") as a:
        for area in ("earnings", "requests"):
            areas.create_area(a.session, a.actor, area, "iris")
    return opened
