"""Benchmark of the output checker's pages at size (issue 16's speed bars).

1. The review page of a 5,000-cell table (GET /web/checking/ID: session, the audited
   inspection that unseals the version and its audit intervals, both views, the HTML of
   both tables with the required and achieved intervals), goal < 300 ms.
   Baseline in the same run: the same facts as JSON, in process (the audited inspection,
   the checker's view, ``json.dumps(view.as_dict())``), what ``table show --json`` gives.
2. The queue with 1,000 requests awaiting review (GET /web/checking), goal < 200 ms.
   Baseline: the release service's list of awaiting requests (``awaiting_review``, the
   page's own query) as JSON, in process.

Pages are timed through the in-process ASGI client (server time plus a little client
overhead); the world is the web tests' (tests/web/web_world.py).

    .venv/bin/python bench/bench_web_pages.py            # 1,000 requests, 15 timings each
    .venv/bin/python bench/bench_web_pages.py --quick    # 200 requests, 5 timings
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in ("tests/web", "tests/services", "tests/services/governance"):
    sys.path.insert(0, str(ROOT / folder))

import release_world  # noqa: E402
from release_world import first_release, table  # noqa: E402
from web_world import web_world  # noqa: E402

from fivesafes.sdc import build_view  # noqa: E402
from fivesafes.sdc.hierarchy import Hierarchy  # noqa: E402
from fivesafes.server.acting import acting_as  # noqa: E402
from fivesafes.services.release import inspect as inspect_svc  # noqa: E402
from fivesafes.services.release import views as views_svc  # noqa: E402

PAGE_GOAL, QUEUE_GOAL = 0.300, 0.200


def big_table(cells: int = 5000) -> object:
    """A one-dimensional table of exactly ``cells`` cells: a total, 49 regions and their
    areas; a primary cell and its complement in every fifth region."""
    regions = 49
    leaves = cells - 1 - regions
    pairs: list[tuple[str, str | None]] = [("Total", None)]
    for r in range(regions):
        pairs.append((f"r{r:02d}", "Total"))
        for a in range(leaves // regions + (1 if r < leaves % regions else 0)):
            code = f"r{r:02d}a{a:03d}"
            pairs.append((code, f"r{r:02d}"))
            release_world.VALUES[code] = 10.0 + a
    h = Hierarchy.from_pairs("area", pairs)
    assert len(h.order) == cells, len(h.order)
    hidden = {}
    for r in range(0, regions, 5):
        hidden[f"r{r:02d}a001"], hidden[f"r{r:02d}a002"] = "primary", "secondary"
    return table("pay by small area", h, hidden)


CPU: dict[str, list[float]] = {}


def _timed(n: int, call: Callable[[], object], name: str) -> list[float]:
    """Wall-clock times of ``n`` calls; their CPU times (every thread of this process, so
    the ASGI client's share too) kept in CPU[name]: on a shared, loaded machine the wall
    time includes waiting for a core, the CPU time does not."""
    call()  # warm
    out, cpu = [], []
    for _ in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        out.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU[name] = cpu
    return out


def _line(name: str, times: list[float], cpu: list[float]) -> str:
    p95 = max(times) if len(times) < 20 else statistics.quantiles(times, n=20)[18]
    return (
        f"{name:<44} p50 {statistics.median(times) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"
        f"  (CPU p50 {statistics.median(cpu) * 1000:6.1f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    requests, n = (200, 5) if quick else (1000, 15)
    with tempfile.TemporaryDirectory() as tmp, web_world(Path(tmp)) as ww:
        start = time.perf_counter()
        big = ww.world.submit(big_table())  # type: ignore[arg-type]
        for i in range(requests - 2):  # with the world's own request: `requests` in all
            ww.world.submit(first_release(), title=f"pay by area {i}")
        print(f"set-up: {requests} requests submitted in {time.perf_counter() - start:.0f} s")
        olga = ww.signed_in("olga")
        provider = ww.app.vault().provider

        def page() -> None:
            answer = olga.get(f"/web/checking/{big}")
            assert answer.status_code == 200 and "[c]" in answer.text
            # with the audit's intervals unsealed and shown (migration 0014)
            assert "Achieved interval (audit)" in answer.text

        def page_json() -> None:
            with acting_as(ww.app, "olga") as a:
                _v, content = inspect_svc.inspect_request(a.session, a.actor, provider, big)
            view = build_view(content.name, content.cells, content.hierarchies, checker=True)  # type: ignore[union-attr]
            json.dumps(view.as_dict())

        def queue() -> None:
            answer = olga.get("/web/checking")
            assert (
                answer.status_code == 200
                and answer.text.count('href="/web/checking/') >= 2 * requests
            )

        def queue_json() -> None:
            with acting_as(ww.app, "olga") as a:
                rows = views_svc.awaiting_review(a.session)
            json.dumps([{"id": r.id, "title": r.title, "state": r.state.value} for r in rows])

        results = {
            "page": _timed(n, page, "page"),
            "page_json": _timed(n, page_json, "page_json"),
            "queue": _timed(n, queue, "queue"),
            "queue_json": _timed(n, queue_json, "queue_json"),
        }
    load = os.getloadavg()[0]
    names = {
        "page": "review page, 5,000 cells (GET /web/checking/ID)",
        "page_json": "  baseline: inspection + view as JSON",
        "queue": f"queue, {requests} requests (GET /web/checking)",
        "queue_json": "  baseline: awaiting requests as JSON",
    }
    for key, label in names.items():
        print(_line(label, results[key], CPU[key]))
    for name, goal in (("page", PAGE_GOAL), ("queue", QUEUE_GOAL)):
        p50 = statistics.median(results[name])
        ratio = p50 / statistics.median(results[f"{name}_json"])
        verdict = "MET" if p50 < goal else "MISSED"
        cpu = "MET" if statistics.median(CPU[name]) < goal else "MISSED"
        print(
            f"{name}: ratio to baseline (p50) {ratio:.2f}; goal < {goal * 1000:.0f} ms: "
            f"wall {verdict}, CPU {cpu}"
        )
    print(f"load average (1 min) at the end: {load:.2f}; {n} timings each")


if __name__ == "__main__":
    main()
