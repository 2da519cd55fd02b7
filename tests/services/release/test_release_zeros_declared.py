"""The data's zeros at `release submit` cover the releases of a declared source too.

A release whose source was only declared may be any source's data, so the check of a
proven table compares with it (release/differencing_scope.py). Here it is pay by
country, declared as `other:pay`; regions a1 and a2 lie in X, a3 and a4 in Y. A table of
`staff` by region, protected alone, hides a3 (three people) with a1 as its complement:
country Y minus the published a4 gives a3 exactly. The zeros must be asked for the
pairs of that release's columns too, or the check sees (a3, X) free and passes.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from governance_register import TODAY
from release_world import AREA
from scipy.optimize import linprog
from sqlalchemy import Engine
from stored_world import Stored, build_stored

from fivesafes.errors import UnsafeTableError
from fivesafes.governance.areas import Dataset
from fivesafes.release.submission import TableSubmission
from fivesafes.release.votes import Vote
from fivesafes.sdc import OutputsContradictData
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.services.governance import datasets
from fivesafes.services.vault.lifecycle import ingest_dataset

COUNTRY = {"a1": "X", "a2": "X", "a3": "Y", "a4": "Y"}
PEOPLE = {"a1": 10, "a2": 10, "a3": 3, "a4": 10}


def _pay(region: str, k: int) -> float:
    return (500.0 if region == "a4" else 20.0) + 3 * k


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    s = build_stored(engine, tmp_path)
    for name in ("staff", "other"):
        entry = Dataset(name, AREA, True, True, True, "survey", "SRSA 2007")
        s.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    src = tmp_path / "incoming" / "staff.csv"
    src.parent.mkdir(parents=True, exist_ok=True)
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["region", "country", "person", "pay"])
        for region, n in PEOPLE.items():
            for k in range(n):
                w.writerow([region, COUNTRY[region], f"{region}-{k}", _pay(region, k)])
    ingest_dataset(s.tx, s.vault, "iris", AREA, src, name="staff")
    src.unlink()
    return s


def _by_country(moved: float = 0.0) -> TableSubmission:
    """Pay by country, every cell published (each has ten people or more); ``moved``: that
    much pay of X counted in Y instead (a table of other data)."""
    h = Hierarchy.flat("country", ["X", "Y"], total="T")
    total = {c: 0.0 for c in ("X", "Y")}
    for region, n in PEOPLE.items():
        total[COUNTRY[region]] += sum(_pay(region, k) for k in range(n))
    total["X"] -= moved
    total["Y"] += moved
    values = {"T": total["X"] + total["Y"], **total}
    rows = [
        {"country": c, "records": 13, "value": v, "status": "safe", "rule": ""}
        for c, v in values.items()
    ]
    text = pd.DataFrame(rows).to_csv(index=False)
    spec = "name = 'pay by country'\nresponse = 'pay'\n"
    report = {
        "table": "pay by country",
        "spec": {"sha256": hashlib.sha256(spec.encode()).hexdigest(), "parsed": {}},
        "source": {"path": "/data/other.parquet", "kind": "parquet"},
        "rules": {"threshold": 7, "threshold_protection_percent": 10.0, "dominance": []},
        "suppression": {"method": "optimal"},
    }
    return TableSubmission(
        name="pay by country",
        cells_csv=text,
        report=report,
        spec_text=spec,
        spec_hash=report["spec"]["sha256"],
        frequency=False,
        a_priori_percent=None,
        hierarchies=(h,),
        files={"cells.csv": hashlib.sha256(text.encode()).hexdigest()},
    )


def test_a_declared_release_by_country_is_held_to_the_datas_zeros(stored: Stored) -> None:
    stored.world.release_as(_by_country(), "other:pay")
    text = (
        '[table]\nname = "regions"\nresponse = "pay"\ncontributor = "person"\n\n'
        '[[dimension]]\nname = "region"\n\n[rules]\nthreshold = 7\n'
        '\n[suppression]\nmethod = "optimal"\nsingleton = false\n'
    )
    spec = stored.spec("regions", text)
    (alone,) = stored.protect(spec, dataset="staff", name="alone", with_releases=False)
    assert alone.by_status["primary"] == 1  # a3
    # independently: scipy over region x country, the pairs the data leave empty at zero
    leaves = list(itertools.product(PEOPLE, ("X", "Y")))
    pay = {r: sum(_pay(r, k) for k in range(n)) for r, n in PEOPLE.items()}
    a_eq = [[1.0] * len(leaves)]
    b_eq = [sum(pay.values())]
    for country in ("X", "Y"):  # the declared release
        a_eq.append([float(c == country) for _, c in leaves])
        b_eq.append(sum(v for r, v in pay.items() if COUNTRY[r] == country))
    for region in ("a2", "a4"):  # published by the region table (a1 or a2 its complement)
        a_eq.append([float(r == region) for r, _ in leaves])
        b_eq.append(pay[region])
    bounds = [(0, None) if COUNTRY[r] == c else (0, 0) for r, c in leaves]
    a3 = np.array([float(r == "a3") for r, _ in leaves])
    low = linprog(a3, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds)
    high = linprog(-a3, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds)
    assert round(low.fun, 6) == round(-high.fun, 6) == pay["a3"]

    view = stored.submit(f"{AREA}/alone")
    check = next(c for c in view.versions[-1].checks if c.name == "differencing")
    assert check.verdict == "fail", check
    assert "region=a3" in check.summary
    with pytest.raises(UnsafeTableError, match="region=a3"):
        stored.world.vote("olga", view.id, Vote.APPROVE)


def test_a_declared_release_of_other_data_is_named_not_taken_for_a_disclosure(
    stored: Stored,
) -> None:
    # the release by country came from other data: 30 of X's pay counted in Y. With the
    # zeros (a1, a2 in X; a3, a4 in Y) it "pins" a3 at 30 more than its pay: no cell of
    # the region table is determined, but the release cannot be of staff's data, and the
    # check must say so (and still block), not report a3 disclosed
    released = stored.world.release_as(_by_country(moved=30.0), "other:pay")
    text = (
        '[table]\nname = "regions"\nresponse = "pay"\ncontributor = "person"\n\n'
        '[[dimension]]\nname = "region"\n\n[rules]\nthreshold = 7\n'
        '\n[suppression]\nmethod = "optimal"\nsingleton = false\n'
    )
    spec = stored.spec("regions", text)
    stored.protect(spec, dataset="staff", name="alone", with_releases=False)
    view = stored.submit(f"{AREA}/alone")
    check = next(c for c in view.versions[-1].checks if c.name == "differencing")
    assert check.verdict == "fail", check
    assert released.release_id in check.summary and "region=a3" not in check.summary
    assert "cannot hold together with the data of staff:pay" in check.summary
    assert check.details["contradicted_by"] == [released.release_id]
    with pytest.raises(UnsafeTableError, match=released.release_id) as refused:
        stored.world.vote("olga", view.id, Vote.APPROVE)
    assert "an administrator establishes where" in str(refused.value)
    assert "the author changes the output" not in str(refused.value)
    # protecting it with the releases cannot help: it says the same
    with pytest.raises(OutputsContradictData, match=released.release_id):
        stored.protect(spec, dataset="staff", name="with")
