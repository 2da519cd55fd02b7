"""Release service helpers: the governance register plus output checkers, a rule set, tables."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from governance_register import Register, build_register
from sqlalchemy import Engine

from fivesafes.governance.roles import Role
from fivesafes.release.submission import TableSubmission
from fivesafes.release.votes import Vote
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.services.governance import grants, people
from fivesafes.services.release import publish as release_publish
from fivesafes.services.release import requests as release_requests
from fivesafes.services.release import reviews as release_reviews
from fivesafes.services.release import rule_sets
from fivesafes.services.release import sources as release_sources
from fivesafes.services.release.requests import SubmissionContext
from fivesafes.vault.keys import FileKeyProvider

AREA = "earnings"
SOURCE = "ashe:pay"
CONTEXT = SubmissionContext("annual bulletin", ("ashe",), "threshold rule", "bulletin 2026")

# Regions: N = a1+a2+a3, S = a4+a5.  a3 is small (primary), the rest are not.
VALUES = {"a1": 20.0, "a2": 15.0, "a3": 2.0, "a4": 30.0, "a5": 25.0}
BY_REGION = Hierarchy.from_pairs(
    "area",
    [
        *[("Total", None), ("N", "Total"), ("S", "Total")],
        *[("a1", "N"), ("a2", "N"), ("a3", "N"), ("a4", "S"), ("a5", "S")],
    ],
)
# The same areas grouped differently: N2 differs from N by one area (a3).
SHIFTED = Hierarchy.from_pairs(
    "area",
    [
        *[("Total", None), ("N2", "Total"), ("R", "Total")],
        *[("a1", "N2"), ("a2", "N2"), ("a3", "R"), ("a4", "R"), ("a5", "R")],
    ],
)


def table(
    name: str,
    h: Hierarchy,
    hidden: Mapping[str, str],
    *,
    only: tuple[str, ...] | None = None,
    threshold: int = 7,
) -> TableSubmission:
    """A protected one-dimensional table over ``h`` with the VALUES; ``hidden`` code -> status."""
    rows = []
    for code in h.order:
        if only is not None and code not in only:
            continue
        value = sum(VALUES[leaf] for leaf in h.leaves_under(code))
        status = hidden.get(code, "safe")
        need = 1.0 if status == "primary" else 0.0
        rows.append(
            {
                "area": code,
                "records": 3,
                "value": value,
                "status": status,
                "rule": "threshold" if status == "primary" else "",
                "lower_protection": need,
                "upper_protection": need,
            }
        )
    text = pd.DataFrame(rows).to_csv(index=False)
    spec = f"name = '{name}'\nresponse = 'pay'\n"
    report: dict[str, Any] = {
        "table": name,
        "spec": {
            "sha256": hashlib.sha256(spec.encode()).hexdigest(),
            "parsed": {"response": "pay"},
        },
        "source": {"path": "/data/ashe.parquet", "kind": "parquet"},
        "rules": {"threshold": threshold, "threshold_protection_percent": 10.0, "dominance": []},
        "suppression": {"method": "optimal"},
    }
    return TableSubmission(
        name=name,
        cells_csv=text,
        report=report,
        spec_text=spec,
        spec_hash=report["spec"]["sha256"],
        frequency=False,
        a_priori_percent=None,
        hierarchies=(h,),
        files={"cells.csv": hashlib.sha256(text.encode()).hexdigest()},
    )


def first_release() -> TableSubmission:
    """By region: a3 primary, a2 its complement; safe on its own."""
    return table("pay by area", BY_REGION, {"a3": "primary", "a2": "secondary"})


@dataclass
class World:
    """The governance register plus: olga and oscar (output checkers, trained and signed),
    rule set 'standard' (threshold 7), a key provider in tmp_path and a releases folder."""

    reg: Register
    provider: FileKeyProvider
    releases: Path

    @property
    def engine(self) -> Engine:
        return self.reg.engine

    def submit(
        self, t: TableSubmission, login: str = "ada", *, confirm: bool = True, **kw: Any
    ) -> int:
        """Submit ``t`` from a folder (its source declared); unless ``confirm`` is False, the
        area's asset owner then confirms the source, as approval needs."""
        kw.setdefault("source", SOURCE)
        view = self.reg.act(
            login, release_requests.submit_output, self.provider, AREA, t, CONTEXT, **kw
        )
        if confirm:
            self.confirm(view.id)
        return view.id

    def vote(self, login: str, rid: int, vote: Vote, comment: str = "") -> Any:
        return self.reg.act(
            login, release_reviews.review_request, self.provider, rid, vote, comment
        )

    def confirm(self, rid: int, login: str = "iris", note: str = "from the survey") -> Any:
        """The area's asset owner confirms a declared source."""
        return self.reg.act(login, release_sources.confirm_source, rid, note)

    def publish(self, rid: int, login: str = "ada") -> Any:
        return self.reg.act(
            login, release_publish.publish_request, self.provider, self.releases, rid
        )

    def show(self, rid: int, viewer: str = "root") -> release_requests.RequestView:
        return self.reg.read(release_requests.get_request, rid, viewer)

    def release(self, t: TableSubmission) -> Any:
        """Submit, approve twice and publish ``t``; returns the published release."""
        return self.release_as(t, SOURCE)

    def release_as(self, t: TableSubmission, source: str) -> Any:
        """Submit ``t`` declared as ``source`` (confirmed), approve twice and publish it."""
        rid = self.submit(t, source=source)
        self.vote("olga", rid, Vote.APPROVE)
        self.vote("oscar", rid, Vote.APPROVE)
        return self.publish(rid)


def assert_only_the_refusal_kept(world: World, before: dict[str, int], checks: int) -> None:
    """A refused approval or publication changed nothing but its record: the check run that
    refused it (``checks`` results) and one audit event saying so."""
    assert world.reg.changes(before) == {"release_checks": checks, "audit_log": 1}
    assert world.reg.last_event().action == "release.blocked"


def build_world(engine: Engine, tmp_path: Path) -> World:
    """A register ready for output checking."""
    reg = build_register(engine)
    reg.act("root", people.register_person, "olga", "Olga Checker", [Role.OUTPUT_CHECKER])
    reg.act("root", people.register_person, "oscar", "Oscar Checker", [Role.OUTPUT_CHECKER])
    reg.make_ready("olga")  # reviewers see hidden values: the analyst's people checks
    reg.make_ready("oscar")
    # Submitting takes an output out of the area: the submitter passes the same checks.
    reg.make_ready("ada")
    reg.act("root", rule_sets.define_rule_set, "standard", {"threshold": 7})
    asked = reg.act("ada", grants.request_grant, "ada", AREA, "bulletin tables")
    reg.act("iris", grants.approve_grant, asked.id, "ok")
    return World(reg, FileKeyProvider(tmp_path / "keys"), tmp_path / "releases")


def cells_frame(csv_text: str) -> pd.DataFrame:
    """Read cells back (for assertions)."""
    return pd.read_csv(io.StringIO(csv_text), dtype={"area": str})
