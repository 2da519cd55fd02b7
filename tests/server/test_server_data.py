"""Datasets, ingest and query through a real server socket: same output as in process,
the file streamed and not left behind, and rows kept in the area."""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from server_helpers import ADMIN, RunningServer

from fivesafes.app import App
from fivesafes.cli.main import cli
from fivesafes.server import operations
from fivesafes.server.upload import UPLOADS_DIR

MANDATORY = "Responsible for information"


def _ok(server: RunningServer, op: str, /, **body: object) -> object:
    answer = server.call(op, **body)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def _remote(server: RunningServer, *args: str) -> object:
    return CliRunner().invoke(cli, ["--server", server.address, *args])


@pytest.fixture(scope="module")
def area(server: RunningServer) -> str:
    """Area earnings owned by iris (acting in process: she has no OS account), a dataset
    registered, and the tests' account (the administrator) granted as an analyst."""
    today = datetime.now(UTC).date().isoformat()
    _ok(server, "people.add", login="iris", name="Iris", roles=["iao"])
    _ok(server, "people.roles", login=ADMIN, add=["analyst"])
    _ok(server, "area.create", name="earnings", owner="iris")
    _ok(server, "declaration.publish", text="I will keep confidential data confidential.")
    for login in (ADMIN, "iris"):
        _ok(server, "training.record", login=login, course=MANDATORY, completed=today)
    _ok(server, "declaration.sign", version=1)
    with App.open(server.home) as app:
        operations.run(app, "iris", "declaration.sign", {"version": 1})
    made = _ok(server, "grant.request", login=ADMIN, area="earnings", justification="t")
    assert isinstance(made, dict)
    with App.open(server.home) as app:
        operations.run(app, "iris", "grant.approve", {"grant_id": made["id"]})
    return "earnings"


@pytest.fixture(scope="module")
def marker(server: RunningServer, area: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Dataset ashe registered and stored through the server: 50 rows, each nino marked."""
    mark = f"MARKER{secrets.token_hex(6)}"
    src = tmp_path_factory.mktemp("ashe") / "ashe.csv"
    src.write_text(
        "nino,region,pay\n" + "".join(f"{mark}{i},{'NS'[i % 2]},{100 + i}\n" for i in range(50))
    )
    added = _remote(server, "dataset", "add", "ashe", "--area", area, "--source", "ASHE",
                    "--lawful-basis", "SRSA 2007")  # fmt: skip
    assert added.exit_code == 0, added.output
    stored = _remote(server, "dataset", "ingest", area, str(src), "--name", "ashe")
    assert stored.exit_code == 0, stored.output
    return mark


def test_dataset_register_commands_print_what_they_print_in_process(
    server: RunningServer, area: str
) -> None:
    added = _remote(
        server, "dataset", "add", "lfs", "--area", area, "--source", "LFS",
        "--lawful-basis", "SRSA 2007", "--retention", "2099-12-31",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("registered lfs")
    for args in (
        ["dataset", "list"],
        ["dataset", "list", "--json"],
        ["dataset", "show", "lfs", "--json"],
        ["dataset", "show", "nope"],
    ):
        remote = _remote(server, *args)
        local = CliRunner().invoke(cli, args, env={"FIVESAFES_HOME": str(server.home)})
        assert (remote.exit_code, remote.stdout, remote.stderr) == (
            local.exit_code,
            local.stdout,
            local.stderr,
        ), args


def test_ingest_streams_the_file_and_query_keeps_rows_in_the_area(
    server: RunningServer, area: str, marker: str, tmp_path: Path
) -> None:
    src = tmp_path / "ashe-2026.csv"
    src.write_text("nino,region,pay\n" + "".join(f"X{i},N,{i}\n" for i in range(50)))
    _remote(server, "dataset", "add", "ashe2", "--area", area, "--source", "ASHE",
            "--lawful-basis", "SRSA 2007")  # fmt: skip
    stored = _remote(server, "dataset", "ingest", area, str(src), "--name", "ashe2", "--json")
    assert stored.exit_code == 0, stored.output
    facts = json.loads(stored.stdout)
    assert facts["rows"] == 50 and facts["source"] == "ashe-2026.csv"
    assert facts["ingested_by"] == ADMIN
    # nothing of the file stays behind in the server's upload folder
    uploads = server.home / UPLOADS_DIR
    assert uploads.is_dir() and os.listdir(uploads) == []
    assert (uploads.stat().st_mode & 0o777) == 0o700

    again = _remote(server, "dataset", "ingest", area, str(src), "--name", "ashe2")
    assert again.exit_code == 5 and "already stores" in again.stderr

    summary = _remote(server, "query", area, "SELECT region, count(*) AS n FROM ashe GROUP BY 1")
    assert summary.exit_code == 0, summary.output
    assert ["N", "25"] in [line.split() for line in summary.stdout.splitlines()]

    for sql in ("SELECT * FROM ashe", "SELECT list(nino) FROM ashe"):
        attempt = _remote(server, "query", area, sql, "--show", "1000", "--json")
        assert attempt.exit_code == 0, attempt.output
        assert marker not in attempt.output
        assert json.loads(attempt.stdout)["shown"]["rows"] == []
        assert "not shown" in attempt.stderr
    events = _ok(server, "audit.log", action="area.query", limit=10)
    assert isinstance(events, list)
    last = events[-1]["details"]
    assert last["shown_rows"] == 0 and last["withheld"] and len(last["shown_sha256"]) == 64


def test_an_upload_with_a_bad_name_or_parameters_is_a_json_error(
    server: RunningServer, area: str
) -> None:
    with server.client() as client:
        bad_name = client.post(
            "/api/v1/dataset/ingest",
            params={"filename": "..", "params": "{}"},
            content=b"a,b\n1,2\n",
        )
        bad_params = client.post(
            "/api/v1/dataset/ingest",
            params={"filename": "x.csv", "params": "[1]"},
            content=b"a,b\n1,2\n",
        )
        unknown_field = client.post(
            "/api/v1/dataset/ingest",
            params={"filename": "x.csv", "params": json.dumps({"area": area, "name": "x",
                                                                "path": "/etc/passwd"})},
            content=b"a,b\n1,2\n",
        )  # fmt: skip
    for answer in (bad_name, bad_params, unknown_field):
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "invalid" and error["hint"]
    assert os.listdir(server.home / UPLOADS_DIR) == []


SPEC = """\
[table]
name = "pay_by_region"
response = "pay"
contributor = "nino"

[[dimension]]
name = "region"
hierarchy = "hier/region.csv"

[rules]
threshold = 3
"""


def test_table_protect_sends_the_spec_and_its_hierarchy_and_keeps_the_table(
    server: RunningServer, area: str, marker: str, tmp_path: Path
) -> None:
    (tmp_path / "hier").mkdir()
    (tmp_path / "hier" / "region.csv").write_text("code,parent\nUK,\nN,UK\nS,UK\n")
    spec = tmp_path / "pay.toml"
    spec.write_text(SPEC, encoding="utf-8")
    made = _remote(
        server, "table", "protect", str(spec), "--dataset", f"{area}/ashe", "--name", "pay-t",
        "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    (summary,) = json.loads(made.stdout)["tables"]
    assert summary["output"] == f"{area}/pay-t" and summary["cells"] == 3
    assert os.listdir(server.home / UPLOADS_DIR) == []
    text = _remote(server, "table", "protect", str(spec), "--dataset", f"{area}/ashe")
    assert text.exit_code == 0 and "stored encrypted as output earnings/" in text.stdout
    # the server's engine is its own: a caller cannot point it elsewhere
    master = _remote(
        server, "table", "protect", str(spec), "--dataset", f"{area}/ashe", "--engine", "spark",
        "--engine-master", "spark://elsewhere:7077",
    )  # fmt: skip
    assert master.exit_code != 0 and "server's setting" in master.stderr


def test_table_protect_of_a_derived_dataset_sees_its_family_through_the_server(
    server: RunningServer, area: str, marker: str, tmp_path: Path
) -> None:
    """The server looks up the dataset's family itself: the client sends only its name."""
    added = _remote(server, "dataset", "add", "ashe-north", "--area", area, "--source", "ASHE",
                    "--lawful-basis", "SRSA 2007", "--derived-from", "ashe",
                    "--unit", "nino")  # fmt: skip
    assert added.exit_code == 0, added.output
    src = tmp_path / "ashe-north.csv"
    src.write_text(
        "nino,region,pay\n" + "".join(f"{marker}{i},N,{100 + i}\n" for i in range(0, 50, 2))
    )
    stored = _remote(server, "dataset", "ingest", area, str(src), "--name", "ashe-north")
    assert stored.exit_code == 0, stored.output
    (tmp_path / "hier").mkdir()
    (tmp_path / "hier" / "region.csv").write_text("code,parent\nUK,\nN,UK\nS,UK\n")
    spec = tmp_path / "pay.toml"
    spec.write_text(SPEC, encoding="utf-8")
    for dataset, kept in (("ashe-north", ["ashe-north"]), ("ashe", ["(none)", "ashe-north"])):
        made = _remote(server, "table", "protect", str(spec), "--dataset", f"{area}/{dataset}",
                       "--json")  # fmt: skip
        assert made.exit_code == 0, made.output
        (summary,) = json.loads(made.stdout)["tables"]
        assert summary["membership"] == {"membership of ashe": kept}, dataset
    text = _remote(server, "table", "protect", str(spec), "--dataset", f"{area}/ashe-north")
    assert "published releases: none of this source or its family yet" in text.stdout


LEAKY = {
    # a text column as the response: the library names its values ("not a number ...")
    "response": '[table]\nname = "t"\nresponse = "nino"\n\n[[dimension]]\nname = "region"\n',
    # a [table] where value the column does not take: the library lists every value it takes
    "where": '[table]\nname = "t"\nresponse = "pay"\nwhere = { nino = ["nobody"] }\n\n'
    '[[dimension]]\nname = "region"\n',
    # codes not in the hierarchy: the library names them and their rows
    "codes": '[table]\nname = "t"\nresponse = "pay"\n\n[[dimension]]\nname = "nino"\n'
    'hierarchy = "region.csv"\n',
}


@pytest.mark.parametrize("case", sorted(LEAKY))
def test_a_data_error_of_table_protect_quotes_no_row_through_the_server(
    server: RunningServer, area: str, marker: str, tmp_path: Path, case: str
) -> None:
    """The error of a spec that does not fit the stored rows names the problem and the
    columns, never a value or a row number: in the answer, the CLI's text and the audit."""
    before = _ok(server, "audit.log", limit=100_000)
    assert isinstance(before, list)
    seen = max(e["seq"] for e in before)
    hierarchy = "code,parent\nUK,\nN,UK\nS,UK\n"
    sent = {"text": LEAKY[case], "hierarchies": [hierarchy if case == "codes" else None]}
    answer = server.call("table.protect", dataset=f"{area}/ashe", specs=[sent])
    assert answer.status_code != 200 and marker not in answer.text, answer.text
    error = answer.json()["error"]
    assert error["code"] in ("data", "spec") and error["exit_status"] == 2
    assert "rows 1" not in error["message"] and "at row" not in error["message"]
    assert f"fivesafes query {area}" in error["hint"]
    (tmp_path / "region.csv").write_text(hierarchy)
    spec = tmp_path / "leaky.toml"
    spec.write_text(LEAKY[case], encoding="utf-8")
    told = _remote(server, "table", "protect", str(spec), "--dataset", f"{area}/ashe")
    assert told.exit_code == 2 and marker not in told.output and error["message"] in told.stderr
    after = _ok(server, "audit.log", limit=100_000)
    assert isinstance(after, list)
    new = [e for e in after if e["seq"] > seen]
    tabulated = [e["action"] for e in new if e["action"] != "audit.read"]
    assert tabulated == ["access.decide"] * 2  # the two reads of the rows, and no table
    assert marker not in json.dumps(new)


def test_stored_rotate_destroy_and_retention_through_the_server(
    server: RunningServer, area: str, marker: str
) -> None:
    for args in (["dataset", "stored"], ["dataset", "stored", area, "--all", "--json"]):
        remote = _remote(server, *args)
        local = CliRunner().invoke(cli, args, env={"FIVESAFES_HOME": str(server.home)})
        assert (remote.exit_code, remote.stdout) == (local.exit_code, local.stdout), args
    rotated = _remote(server, "area", "rotate-key", area, "--json")
    assert rotated.exit_code == 0, rotated.output
    assert json.loads(rotated.stdout)["rewrapped"] >= 1
    # the data still open under the new key
    after = _remote(server, "query", area, "SELECT count(*) AS n FROM ashe")
    assert after.exit_code == 0 and ["50"] in [line.split() for line in after.stdout.splitlines()]
    outputs = [
        o for o in json.loads(_remote(server, "dataset", "stored", area, "--json").stdout)
        if o["kind"] == "output"
    ]  # fmt: skip
    gone = _remote(server, "dataset", "destroy", area, outputs[0]["name"], "--output",
                   "--reason", "scratch", "--yes")  # fmt: skip
    assert (
        gone.exit_code == 0 and gone.stdout.startswith("destroyed") and "DESTROYED" in gone.stdout
    )
    due = _remote(server, "retention", "run")
    assert due.exit_code == 0 and due.stdout.strip() == "nothing due"
