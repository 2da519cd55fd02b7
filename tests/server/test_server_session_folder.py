"""`release submit FOLDER` of an outputs session's folder through a real server: sent
whole as a tar (source.json too), the table computed again from the dataset by the same
service as in process; a changed folder refused alike, naming the caller's folder."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from server_helpers import RunningServer

from fivesafes.app import App
from fivesafes.governance.training import MANDATORY_COURSE
from fivesafes.outputs import OutputRules, Session
from fivesafes.server import operations

ROWS = [("N", f"p{i}", 100 + i) for i in range(6)] + [("S", "p9", 999)]


def _remote(server: RunningServer, *args: str) -> Result:
    from fivesafes.cli.main import cli

    return CliRunner().invoke(cli, ["--server", server.address, *args])


def _local(server: RunningServer, *args: str) -> Result:
    from fivesafes.cli.main import cli

    return CliRunner().invoke(cli, list(args), env={"FIVESAFES_HOME": str(server.home)})


@pytest.fixture(scope="module")
def folder(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session's table folder on earnings/pay, which the administrator may read."""
    tmp = tmp_path_factory.mktemp("session")
    admin = str(server.call("whoami").json()["result"]["login"])
    today = datetime.now(UTC).date()
    data = tmp / "pay.csv"
    with data.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["region", "person", "pay"])
        writer.writerows(ROWS)
    with App.open(server.home) as app:

        def run(who: str, name: str, /, **params: object) -> object:
            return operations.run(app, who, name, params)

        run(admin, "people.add", login="iris", name="Iris", roles=["iao"])
        run(admin, "people.roles", login=admin, add=["analyst"])
        run(admin, "area.create", name="earnings", owner="iris")
        run("iris", "dataset.add", name="pay", area="earnings", source="survey",
            lawful_basis="SRSA 2007")  # fmt: skip
        run(admin, "declaration.publish", text="I will keep confidential data confidential.\n")
        for login in (admin, "iris"):
            run(admin, "training.record", login=login, course=MANDATORY_COURSE, completed=today)
            run(login, "declaration.sign", version=1)
        made = run(admin, "grant.request", login=admin, area="earnings", justification="t")
        run("iris", "grant.approve", grant_id=made["id"])  # type: ignore[index]
        operations.run_upload(
            app, "iris", "dataset.ingest", {"area": "earnings", "name": "pay"}, data
        )
    df = pd.DataFrame(ROWS, columns=["region", "person", "pay"])
    s = Session(suppress=True, rules=OutputRules(safe_threshold=3), area="earnings", dataset="pay")
    s.pivot_table(df, values="pay", index="region", aggfunc="count")
    return s.finalise(str(tmp / "session")) / "tables" / "output_0"


def test_a_sessions_folder_is_submitted_verified_through_the_server(
    server: RunningServer, folder: Path
) -> None:
    sent = _remote(server, "release", "submit", str(folder), "--purpose", "bulletin", "--json")
    assert sent.exit_code == 0, sent.output
    view = json.loads(sent.stdout)
    assert view["source"] == "pay:count" and view["source_verified"] is True
    checks = {c["name"]: c for c in view["versions"][0]["checks"]}
    assert "computed again from dataset earnings/pay" in checks["source"]["summary"]
    here = _local(server, "release", "submit", str(folder), "--purpose", "bulletin", "--json")
    assert here.exit_code == 0, here.output
    mine = json.loads(here.stdout)
    assert mine["id"] == view["id"] + 1

    def same(v: dict[str, object]) -> dict[str, object]:
        return {k: v[k] for k in ("source", "source_verified", "area", "title", "state")}

    assert same(mine) == same(view)
    text = _remote(server, "release", "submit", str(folder), "--purpose", "bulletin")
    assert text.exit_code == 0 and text.stdout.startswith("submitted ")
    local_text = _local(server, "release", "submit", str(folder), "--purpose", "bulletin")
    assert local_text.exit_code == 0, local_text.output  # in process, as text, too

    def shown(out: str) -> list[str]:
        # the regime check lists the earlier requests of the source: one more each time
        return [line for line in out.splitlines()[1:] if "check regime" not in line]

    assert "check regime: PASS" in text.stdout and "check regime: PASS" in local_text.stdout
    assert shown(local_text.stdout) == shown(text.stdout)
    assert not list((server.home / "uploads").iterdir()), "the scratch folder outlived the call"


def test_a_changed_folder_is_refused_alike(
    server: RunningServer, folder: Path, tmp_path: Path
) -> None:
    changed = tmp_path / "changed"
    shutil.copytree(folder, changed)
    (changed / "table.csv").write_text("region,pay\nN,7\n")
    args = ("release", "submit", str(changed), "--purpose", "bulletin")
    remote, local = _remote(server, *args), _local(server, *args)
    assert remote.exit_code == 7 and "changed since the session finalised it" in remote.stderr
    assert (remote.exit_code, remote.stdout, remote.stderr) == (
        local.exit_code,
        local.stdout,
        local.stderr,
    )
    assert str(server.home) not in remote.stderr
