"""Release commands through a real server socket: a stored table, a folder and a file
submitted, reviewed (by people acting in process: they have no OS account here),
published, listed; output the same as in process."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from server_helpers import ADMIN, RunningServer

from fivesafes.app import App
from fivesafes.cli.main import cli
from fivesafes.server import operations
from fivesafes.server.upload import UPLOADS_DIR

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MANDATORY = "Responsible for information"


def _ok(server: RunningServer, op: str, /, **body: object) -> Any:
    answer = server.call(op, **body)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def _as(server: RunningServer, login: str, op: str, /, **params: object) -> Any:
    with App.open(server.home) as app:
        return operations.run(app, login, op, params)


def _remote(server: RunningServer, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--server", server.address, *args])


@pytest.fixture(scope="module")
def world(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Area earnings (owner iris), dataset survey stored, the administrator a granted
    analyst, two output checkers; returns a folder written by `table protect --out`."""
    today = datetime.now(UTC).date().isoformat()
    _ok(server, "people.add", login="iris", name="Iris", roles=["iao"])
    for login in ("olga", "oscar"):
        _ok(server, "people.add", login=login, name=login, roles=["output_checker"])
    _ok(server, "people.roles", login=ADMIN, add=["analyst"])
    _ok(server, "area.create", name="earnings", owner="iris")
    _ok(server, "declaration.publish", text="I will protect confidential data.")
    for login in (ADMIN, "iris", "olga", "oscar"):
        _ok(server, "training.record", login=login, course=MANDATORY, completed=today)
    _ok(server, "declaration.sign", version=1)
    for login in ("iris", "olga", "oscar"):
        _as(server, login, "declaration.sign", version=1)
    _ok(server, "dataset.add", name="survey", area="earnings", source="s", lawful_basis="b")
    grant = _ok(server, "grant.request", login=ADMIN, area="earnings", justification="t")
    _as(server, "iris", "grant.approve", grant_id=grant["id"])
    stored = _remote(server, "dataset", "ingest", "earnings", str(EXAMPLES / "survey.csv"),
                     "--name", "survey")  # fmt: skip
    assert stored.exit_code == 0, stored.output
    rules = _remote(server, "rules", "set", "standard", "--threshold", "3", "--note", "policy")
    assert rules.exit_code == 0 and rules.stdout.startswith("in force: standard v1"), rules.output
    out = tmp_path_factory.mktemp("protected") / "out"
    made = CliRunner().invoke(
        cli,
        ["table", "protect", str(EXAMPLES / "turnover.toml"), "--data",
         str(EXAMPLES / "survey.csv"), "--out", str(out)],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return out


def _same_in_process(server: RunningServer, *args: str) -> None:
    remote = _remote(server, *args)
    local = CliRunner().invoke(cli, list(args), env={"FIVESAFES_HOME": str(server.home)})
    assert (remote.exit_code, remote.stdout, remote.stderr) == (
        local.exit_code,
        local.stdout,
        local.stderr,
    ), args


def test_a_folder_is_sent_reviewed_and_published(server: RunningServer, world: Path) -> None:
    sub = _remote(server, "release", "submit", str(world), "--area", "earnings", "--purpose",
                  "Bulletin", "--source", "survey:turnover", "--json")  # fmt: skip
    assert sub.exit_code == 0, sub.output
    view = json.loads(sub.stdout)
    rid = view["id"]
    checks = {c["name"]: c["verdict"] for c in view["versions"][0]["checks"]}
    assert checks == {
        "source": "review",
        "rules": "pass",
        "audit": "pass",
        "differencing": "pass",
        "regime": "pass",
    }
    # the files reviewers see are the folder's own names, whatever the server called them
    assert set(view["versions"][0]["files"]) == {
        "cells.csv", "report.json", "turnover.toml", "region.csv", "industry.csv",
    }  # fmt: skip
    assert os.listdir(server.home / UPLOADS_DIR) == []
    own = _remote(server, "release", "approve", str(rid))
    assert own.exit_code != 0 and "own request" in own.output
    _as(server, "olga", "release.review", request_id=rid, vote="approve", comment="ok")
    _as(server, "iris", "release.confirm_source", request_id=rid, note="from the survey")
    _as(server, "oscar", "release.review", request_id=rid, vote="approve")
    for args in (
        ["release", "show", str(rid)],
        ["release", "show", str(rid), "--json"],
        ["release", "list"],
        ["release", "list", "--state", "approved", "--json"],
        ["release", "show", "999"],
        ["rules", "list"],
        ["rules", "list", "--json"],
    ):
        _same_in_process(server, *args)
    done = _remote(server, "release", "publish", str(rid), "--json")
    assert done.exit_code == 0, done.output
    bundle = Path(json.loads(done.stdout)["bundle_path"])
    assert bundle.parent == server.home / "releases"
    _same_in_process(server, "release", "published")
    _same_in_process(server, "release", "published", "--json")


def test_a_stored_table_and_a_file_are_submitted_and_withdrawn(
    server: RunningServer, world: Path, tmp_path: Path
) -> None:
    made = _remote(server, "table", "protect", str(EXAMPLES / "turnover.toml"), "--dataset",
                   "earnings/survey", "--name", "turnover-t", "--ignore-published")  # fmt: skip
    assert made.exit_code == 0, made.output
    sub = _remote(server, "release", "submit", "--output", "earnings/turnover-t", "--purpose",
                  "Bulletin", "--json")  # fmt: skip
    assert sub.exit_code == 0, sub.output
    assert json.loads(sub.stdout)["source_verified"] is True
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    filed = _remote(server, "release", "submit", str(chart), "--area", "earnings", "--purpose",
                    "Blog", "--source", "survey:turnover", "--json")  # fmt: skip
    assert filed.exit_code == 0, filed.output
    view = json.loads(filed.stdout)
    assert view["kind"] == "file" and "chart.png" in view["versions"][0]["files"]
    gone = _remote(server, "release", "withdraw", str(view["id"]), "--reason", "draft")
    assert gone.exit_code == 0 and gone.stdout.startswith("withdrawn")
    assert os.listdir(server.home / UPLOADS_DIR) == []


def test_a_folder_tar_with_anything_else_is_refused(server: RunningServer, world: Path) -> None:
    import io
    import tarfile

    body = io.BytesIO()
    with tarfile.open(fileobj=body, mode="w:") as tar:
        data = b"x"
        info = tarfile.TarInfo("../escape.csv")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    params = {"area": "earnings", "purpose": "p", "spec": {"text": "x"}, "spec_name": "s.toml"}
    with server.client() as client:
        answer = client.post(
            "/api/v1/release/submit_file",
            params={"filename": "out.fivesafes-folder.tar", "params": json.dumps(params)},
            content=body.getvalue(),
        )
    assert answer.status_code == 422, answer.text
    assert "only cells.csv and report.json" in answer.json()["error"]["message"]
    assert os.listdir(server.home / UPLOADS_DIR) == []


def test_a_submission_carries_the_researchers_project_to_the_service() -> None:
    # `release submit --project REF` reaches submit_*'s context, which the researcher's
    # access decision at submission reads (test_release_submit_as_researcher.py)
    from fivesafes.server.operations_release import SubmitStored
    from fivesafes.server.operations_session_folder import SubmitSession

    stored = SubmitStored(output="earnings/t-1", purpose="paper", project="PRJ-1")
    sent = SubmitSession(purpose="paper", folder="out", project="PRJ-1")
    assert stored.context().project == sent.context().project == "PRJ-1"
    assert SubmitStored(output="earnings/t-1", purpose="paper").context().project == ""


def test_a_dataset_name_longer_than_any_dataset_is_refused_at_the_boundary() -> None:
    # a registered dataset's name has at most 64 characters; a longer one would only be
    # copied into the audit log and the refusal, so the request is refused as it arrives
    from pydantic import ValidationError

    from fivesafes.server.operations_release import SubmitStored

    with pytest.raises(ValidationError):
        SubmitStored(output="earnings/t-1", purpose="paper", datasets=["x" * 65])
    ok = SubmitStored(output="earnings/t-1", purpose="paper", datasets=["x" * 64])
    assert ok.context().datasets == ("x" * 64,)
