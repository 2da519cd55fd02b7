"""Walk every public function of the vault services: none may write without auditing.

The vault's services open their own transactions (``tx``), so each runs with a ``tx``
whose every session is spied on: a writer must write register rows and append audit
events; an audited read (the access decision) appends events and writes no register
row; a reader or a part writes nothing and appends nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from audit_walk import qualified, spied_transactions
from governance_register import TODAY, Register
from sqlalchemy import select

from fivesafes.governance.areas import Dataset
from fivesafes.sdc import load_spec
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance import datasets, grants
from fivesafes.services.governance.lookup import area_row, dataset_row
from fivesafes.services.vault import (
    families,
    ingest,
    key_sweep,
    lifecycle,
    read,
    register,
    rotation,
    sealed,
    sealing,
    tables,
)
from fivesafes.store.db import transaction
from fivesafes.store.models.vault import VaultObjectRow
from fivesafes.vault import FileKeyProvider

MODULES: tuple[ModuleType, ...] = (
    families,
    ingest,
    key_sweep,
    lifecycle,
    read,
    register,
    rotation,
    sealed,
    sealing,
    tables,
)
SPEC = """\
[table]
name = "pay"
response = "pay"

[[dimension]]
name = "region"

[rules]
threshold = 3

[suppression]
method = "none"
"""


@dataclass
class World:
    """The register with 'ashe' ingested into 'earnings' and ada granted access to it."""

    reg: Register
    vault: lifecycle.Vault
    tmp: Path

    def tx(self) -> Any:
        return transaction(self.reg.engine)

    def csv(self, name: str) -> Path:
        path = self.tmp / "src" / f"{name}.csv"
        path.parent.mkdir(exist_ok=True)
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["person_id", "region", "pay"])
            w.writerows([f"ID{i:05d}", "NS"[i % 2], 100 + i] for i in range(60))
        return path

    def register_dataset(self, name: str, retention: date | None = None) -> None:
        entry = Dataset(name, "earnings", True, True, True, "survey", "SRSA 2007", retention)
        self.reg.act("iris", datasets.register_dataset, entry, TODAY)

    def protect(self) -> str:
        spec_path = self.tmp / "pay.toml"
        spec_path.write_text(SPEC)
        (made,) = tables.protect_dataset_for(
            self.tx, self.vault, "ada", "earnings", "ashe", [load_spec(spec_path)], today=TODAY
        )
        return made.output.name


def _world(reg: Register, tmp_path: Path) -> World:
    world = World(
        reg, lifecycle.Vault(tmp_path / "areas", FileKeyProvider(tmp_path / "k")), tmp_path
    )
    lifecycle.ingest_dataset(
        world.tx, world.vault, "iris", "earnings", world.csv("ashe"), name="ashe"
    )
    reg.make_ready("ada")
    gid = reg.act("ada", grants.request_grant, "ada", "earnings", "tables", today=TODAY).id
    reg.act("iris", grants.approve_grant, gid, None, TODAY)
    return world


Tx = Callable[[], Any]
# name -> (prepare the world unobserved, then: the observed call given the spied tx)
Call = Callable[[World], Callable[[Tx], Any]]


def _in_session(fn: Callable[..., Any], *args: Any, login: str | None = None) -> Call:
    def prepare(w: World) -> Callable[[Tx], Any]:
        def call(tx: Tx) -> Any:
            with tx() as s:
                extra = (resolve_actor(s, login),) if login else ()
                return fn(s, *extra, *args)

        return call

    return prepare


def _ingest(w: World) -> Callable[[Tx], Any]:
    w.register_dataset("lfs")
    path = w.csv("lfs")
    return lambda tx: ingest.ingest_dataset(tx, w.vault, "iris", "earnings", path, name="lfs")


def _retention(w: World) -> Callable[[Tx], Any]:
    w.register_dataset("old", date(2026, 7, 1))
    lifecycle.ingest_dataset(w.tx, w.vault, "iris", "earnings", w.csv("old"), name="old")
    return lambda tx: lifecycle.run_retention(tx, w.vault, "root", date(2026, 7, 2))


def _protect(w: World) -> Callable[[Tx], Any]:
    (w.tmp / "pay.toml").write_text(SPEC)
    spec = load_spec(w.tmp / "pay.toml")
    return lambda tx: tables.protect_dataset_for(
        tx, w.vault, "ada", "earnings", "ashe", [spec], today=TODAY
    )


def _stored_table(w: World) -> Callable[[Tx], Any]:
    name = w.protect()
    return _in_session(tables.stored_table, w.vault, "earnings", name)(w)


def _new_area_key(w: World) -> Callable[[Tx], Any]:
    # another vault (its own stores and keys): the area has no key there yet
    fresh = lifecycle.Vault(w.tmp / "areas2", FileKeyProvider(w.tmp / "k2"))
    return _in_session(register.ensure_area_key, fresh, "earnings", login="iris")(w)


def _key_sweep(w: World) -> Callable[[Tx], Any]:
    # a rotation committed, its old key not destroyed yet: what a kill just after leaves
    with w.tx() as s:
        rotation.rotate_keys(s, w.vault, "root", "earnings", area_row(s, "earnings").id)
    return _in_session(
        lambda s: key_sweep.sweep_retired_keys(
            s, "root", w.vault.provider, w.vault.store("earnings"), area_row(s, "earnings").id
        )
    )(w)


def _key_kept(w: World) -> Callable[[Tx], Any]:
    # a rotation committed, but the register still names its old key (as if a data key
    # had not been re-wrapped): that key is kept, and the keeping audited
    with w.tx() as s:
        area_id = area_row(s, "earnings").id
        rotated = rotation.rotate_keys(s, w.vault, "root", "earnings", area_id)
    with w.tx() as s:
        for row in s.scalars(select(VaultObjectRow)):
            row.key_id = rotated.destroyed_key_ids[0]
    return _in_session(
        lambda s: key_sweep.retire_rotated_keys(
            s, "root", w.vault.provider, w.vault.store("earnings"), area_id,
            rotated.destroyed_key_ids,
        )
    )(w)  # fmt: skip


def _held_for_sealing(w: World) -> Callable[[Tx], Any]:
    def call(tx: Tx) -> None:
        with sealing.key_held_for_sealing(tx, w.vault, "earnings"):
            pass

    return call


# Change something and audit it.
WRITERS: dict[str, Call] = {
    "ingest.ingest_dataset": _ingest,
    "rotation.rotate_keys": lambda w: _in_session(
        lambda s: rotation.rotate_keys(s, w.vault, "root", "earnings", area_row(s, "earnings").id)
    )(w),
    "lifecycle.destroy_dataset": lambda w: (
        lambda tx: lifecycle.destroy_dataset(tx, w.vault, "iris", "earnings", "ashe", "withdrawn")
    ),
    "lifecycle.run_retention": _retention,
    "read.query_area_for": lambda w: (
        lambda tx: read.query_area_for(
            tx,
            w.vault,
            "ada",
            "earnings",
            "SELECT region, count(*) AS n FROM ashe GROUP BY 1",
            today=TODAY,
        )
    ),
    "tables.protect_dataset_for": _protect,
}
# Audited without a register row of their own: access decisions, key events.
AUDITED: dict[str, Call] = {
    "rotation.rotate_area_key_for": lambda w: (
        lambda tx: rotation.rotate_area_key_for(tx, w.vault, "root", "earnings")
    ),
    "read.open_dataset_for": lambda w: (
        lambda tx: read.open_dataset_for(tx, w.vault, "ada", "earnings", "ashe", today=TODAY)
    ),
    "register.ensure_area_key": _new_area_key,
    "key_sweep.sweep_retired_keys": _key_sweep,
    "key_sweep.retire_rotated_keys": _key_kept,
}
# Read only: nothing written, nothing audited (their callers audit what they do with it).
READERS: dict[str, Call] = {
    "lifecycle.list_stored": lambda w: lambda tx: lifecycle.list_stored(tx, "earnings"),
    "register.check_manage": _in_session(register.check_manage, "earnings", login="iris"),
    "register.stored_row": _in_session(
        lambda s: register.stored_row(s, area_row(s, "earnings").id, register.DATASET, "ashe")
    ),
    "tables.stored_table": _stored_table,
    "families.plan_for": _in_session(lambda s: families.plan_for(s, dataset_row(s, "ashe"))),
    # reads whether the area is registered, then holds its lock around the caller's work
    "sealing.key_held_for_sealing": _held_for_sealing,
    "key_sweep.keys_in_use": lambda w: _in_session(
        lambda s: key_sweep.keys_in_use(s, w.vault.store("earnings"), area_row(s, "earnings").id)
    )(w),
}
# Pure: no session, no transaction.
PURE = {
    "families.compute_patterns",  # decrypts in memory: no session
    "tables.area_error",  # the error as an area caller sees it: no session
    "read.referenced_datasets",
    "read.split_dataset_ref",
    "register.object_of",
    "register.provenance_details",
    "register.row_from_manifest",
    "sealing.check_key_held",
    "sealing.sealing_checked",  # sets a context variable: no session
    "tables.measure_of",
    "tables.output_names",
}
# Exercised with their audit events elsewhere: open_dataset_ref needs a whole workspace
# (test_vault.py::test_open_dataset_ref_in_a_workspace); reconcile shreds only orphans
# (test_vault.py::test_orphan_of_a_killed_ingest_is_shredded_on_the_next).
# store_patterns is part of ingest_dataset's audited write, with its own event
# (tests/services/release/test_release_derived.py ingests a family).
# rewrap_sealed is part of a rotation's audited write (area.rotate_key, with the count of
# what it re-wrapped): tests/services/requests/test_requests_subject.py rotates with each.
# retire_keys finishes a committed rotation, whose event lists the keys it destroys; a
# key it must keep is audited by key_sweep.retire_rotated_keys (walked above), and
# sweep_area is register.reconcile in a transaction of its own.
ELSEWHERE = {
    "read.open_dataset_ref",
    "register.reconcile",
    "rotation.sweep_area",
    "rotation.retire_keys",
    "families.store_patterns",
    "sealed.rewrap_sealed",
}

# What this walk covers; tests/services/test_audit_walk.py checks that every public
# function of every services module is covered by one wing's walk.
WALKED = qualified(MODULES, {*WRITERS, *AUDITED, *READERS, *PURE, *ELSEWHERE})


def test_the_vault_walk_lists_each_function_once() -> None:
    listed = [*WRITERS, *AUDITED, *READERS, *PURE, *ELSEWHERE]
    assert len(listed) == len(set(listed)) == len(WALKED)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the backend does not matter
@pytest.mark.parametrize(
    ("name", "kind"),
    [(n, "writer") for n in WRITERS]
    + [(n, "audited") for n in AUDITED]
    + [(n, "reader") for n in READERS],
)
def test_vault_writers_write_and_audit_readers_do_not(
    reg: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, kind: str
) -> None:
    world = _world(reg, tmp_path)
    call = {**WRITERS, **AUDITED, **READERS}[name](world)
    with spied_transactions(reg.engine, monkeypatch) as (tx, spy):
        call(tx)
    if kind == "writer":
        assert spy.written, f"{name} is listed as a writer but wrote nothing"
        assert spy.appends, f"{name} wrote {spy.written} without an audit event"
    elif kind == "audited":
        assert spy.appends, f"{name} did not audit"
    else:
        assert not spy.written and not spy.appends, f"{name} wrote {spy.written}"
