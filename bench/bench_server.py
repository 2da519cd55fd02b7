"""Benchmark of the server (issue 13): what going through the Unix socket costs.

Three figures, each against its in-process baseline measured in the same run:

1. one operation's latency: ``operations.run`` in this process (the workspace opened
   once) vs the same operation over the socket (one HTTP request, peer credentials read,
   a persistent client), p50 and p95;
2. audited requests per second from 8 clients over the socket (each request is a read
   of the audit log, itself an audited decision) vs the same 8 threads in process;
3. a whole CLI command (``fivesafes people list``): a new process through the server
   (``--server unix:...``) vs one that opens the workspace itself (as today).

    .venv/bin/python bench/bench_server.py            # 300 requests per latency figure
    .venv/bin/python bench/bench_server.py --quick    # 50, a smoke run
    .venv/bin/python bench/bench_server.py --rates-only   # figure 2 only, SQLite and PostgreSQL

Figure 2 is run on SQLite and again on PostgreSQL (FIVESAFES_BENCH_PG_URL, default
127.0.0.1:5432/test, a schema of its own dropped afterwards; skipped when none answers).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from fivesafes.app import App
from fivesafes.server import operations
from fivesafes.services.setup import init_workspace
from fivesafes.workspace.identity import os_login

FIVESAFES = str(Path(sys.executable).with_name("fivesafes"))
CLIENTS = 8
GOAL_PER_S = 300  # issue 13: audited requests per second over the socket, SQLite


def _timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def _start(home: Path, sock: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [FIVESAFES, "server", "start", "--home", str(home), "--socket", str(sock)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with _client(sock) as client:
                if client.get("/api/v1/health").status_code == 200:
                    return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def _client(sock: Path) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), base_url="http://x")


def _rates(app: App, sock: Path, login: str, per_client: int) -> dict[str, float]:
    """Audited requests per second from CLIENTS threads: in process, then over the socket."""

    def over_socket(_k: int) -> None:
        with _client(sock) as client:  # one keep-alive connection per client
            for _ in range(per_client):
                client.post("/api/v1/audit/log", json={"limit": 1}).raise_for_status()

    def in_process(_k: int) -> None:
        for _ in range(per_client):
            operations.run(app, login, "audit.log", {"limit": 1})

    rates = {}
    for label, fn in (("in process", in_process), ("socket", over_socket)):
        start = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(fn, range(CLIENTS)))
        rates[label] = CLIENTS * per_client / (time.perf_counter() - start)
    return rates


def _print_rates(database: str, rates: dict[str, float], per_client: int) -> None:
    print(f"\n| {database}: {CLIENTS} clients x {per_client} audited requests | requests/s |")
    print("|---|---:|")
    for label, rate in rates.items():
        print(f"| {label} | {rate:.0f} |")
    print(f"| socket / in process | {rates['socket'] / rates['in process']:.2f}x |")
    print(f"| socket / goal of {GOAL_PER_S}/s | {rates['socket'] / GOAL_PER_S:.2f}x |")


def _postgres_rates(login: str, tmp: Path, per_client: int) -> None:
    """The same rates with the workspace's database on PostgreSQL (skipped when none answers)."""
    from bench_audit_log import pg_url

    with pg_url() as url:
        if url is None:
            return
        home, sock = tmp / "ws-pg", tmp / "api-pg.sock"
        init_workspace(home, login, "Bench Admin", database_url=url)
        process = _start(home, sock)
        app = App.open(home)
        try:
            _print_rates("PostgreSQL", _rates(app, sock, login, per_client), per_client)
        finally:
            app.close()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--rates-only", action="store_true", help="only the requests/s figures (both databases)"
    )
    args = parser.parse_args()
    n = 50 if args.quick else 300
    per_client = max(n // 2, 25)
    login = os_login()
    with tempfile.TemporaryDirectory() as tmp:
        os.umask(0o077)
        home = Path(tmp) / "ws"
        sock = Path(tmp) / "api.sock"
        init_workspace(home, login, "Bench Admin")
        process = _start(home, sock)
        app = App.open(home)
        try:
            print(f"load average before: {os.getloadavg()[0]:.1f}; {n} requests per figure")
            if not args.rates_only:
                _latencies(app, sock, login, n)
            # 2. audited requests per second, 8 clients
            _print_rates("SQLite", _rates(app, sock, login, per_client), per_client)
            if not args.rates_only:
                _cli_commands(home, sock, 3 if args.quick else 7)
        finally:
            app.close()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        _postgres_rates(login, Path(tmp), per_client)
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")


def _latencies(app: App, sock: Path, login: str, n: int) -> None:
    """1. one operation's latency, in process and over the socket."""
    print("\n| operation | in process p50 / p95 ms | socket p50 / p95 ms | added p50 ms |")
    print("|---|---:|---:|---:|")
    with _client(sock) as client:
        for name, body in (("people.list", {}), ("audit.log", {"limit": 1})):
            local = _timed(lambda name=name, body=body: operations.run(app, login, name, body), n)
            path = "/api/v1/" + name.replace(".", "/")
            remote = _timed(
                lambda path=path, body=body: client.post(path, json=body).raise_for_status(), n
            )
            lo, re_ = _p(local, 50), _p(remote, 50)
            print(
                f"| {name} | {lo:.2f} / {_p(local, 95):.2f} | "
                f"{re_:.2f} / {_p(remote, 95):.2f} | {re_ - lo:.2f} ({re_ / lo:.2f}x) |"
            )


def _cli_commands(home: Path, sock: Path, runs: int) -> None:
    """3. a whole CLI command, a new process each time, through the server and not."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVESAFES_")}
    via_server = _timed(
        lambda: subprocess.run(
            [FIVESAFES, "--server", f"unix:{sock}", "people", "list"],
            env=env,
            check=True,
            capture_output=True,
        ),
        runs,
    )
    local_env = {**env, "FIVESAFES_HOME": str(home)}
    in_proc = _timed(
        lambda: subprocess.run(
            [FIVESAFES, "people", "list"], env=local_env, check=True, capture_output=True
        ),
        runs,
    )
    med_s, med_l = statistics.median(via_server), statistics.median(in_proc)
    print(f"\n| `fivesafes people list`, {runs} runs | median ms |")
    print("|---|---:|")
    print(f"| in process (opens the workspace) | {med_l:.0f} |")
    print(f"| through the server | {med_s:.0f} |")
    print(f"| added by the server | {med_s - med_l:+.0f} ({med_s / med_l:.2f}x) |")


if __name__ == "__main__":
    main()
