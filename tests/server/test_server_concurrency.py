"""8 clients x 200 audited requests through the socket build one valid audit chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from click.testing import CliRunner
from server_helpers import RunningServer

from fivesafes.cli.main import cli

CLIENTS = 8
REQUESTS = 200


def _client_run(server: RunningServer, k: int) -> list[int]:
    statuses = []
    with server.client() as client:
        for i in range(REQUESTS):
            # every read of the log is an audited decision (audit.read), so each request appends
            answer = client.post("/api/v1/audit/log", json={"limit": 1, "subject": f"c{k}-{i}"})
            statuses.append(answer.status_code)
    return statuses


def test_concurrent_clients_build_one_valid_chain(server: RunningServer) -> None:
    before = server.call("audit.log", limit=1).json()["result"][-1]["seq"]
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda k: _client_run(server, k), range(CLIENTS)))
    assert all(status == 200 for statuses in results for status in statuses)
    events = server.call("audit.log", limit=CLIENTS * REQUESTS + 10, action="audit.read").json()[
        "result"
    ]
    subjects = {e["details"]["filters"].get("subject") for e in events if e["seq"] > before}
    assert {f"c{k}-{i}" for k in range(CLIENTS) for i in range(REQUESTS)} <= subjects
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # the whole chain verifies, read by the service account from the workspace itself
    verified = CliRunner().invoke(
        cli, ["audit", "verify"], env={"FIVESAFES_HOME": str(server.home)}
    )
    assert verified.exit_code == 0, verified.output
