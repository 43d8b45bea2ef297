"""Benchmark: the cost of tracing at 100% sampling — a product read through the generated seed
stack with tracing off and on, same run.

Two copies of the generated seed run side by side, one started with ``ARCHSIM_TRACE=1`` (every
request makes 8 spans: load balancer server + client, gateway server + token-check client +
forward client, auth server, product server + cache get; all exported as OTLP-JSON files).
They are driven in turn with ``GET /api/products/{id}`` at the front door (wrk when installed,
else the aiohttp load process of ``bench_stack``), alternating rounds and keeping each one's best,
so a neighbour's burst skews neither side. Reports both rates, the cost ``1 - on/off`` and the
spans written per request.

Usage: ``python benchmarks/bench_tracing.py [--seconds 6] [--connections 32] [--rounds 2]``
Exits 1 when the cost passes the target (30%) or a request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_stack import _drive  # noqa: E402

from archsim.codegen import apply_writes, plan_writes, render  # noqa: E402
from archsim.model import load  # noqa: E402
from archsim.runtime import launcher  # noqa: E402

__all__ = ["main"]

_TARGET_COST = 0.30


def _prepare(front: str) -> tuple[str, str]:
    """A user, a token and a cached product: the read's URL and its Authorization header."""
    http = httpx.Client(base_url=front, timeout=10)
    http.post("/users", json={"name": "b", "email": "b@example.com", "password": "benchmark!"})
    token = http.post(
        "/users/login", json={"email": "b@example.com", "password": "benchmark!"}
    ).json()["access_token"]
    auth = {"authorization": f"Bearer {token}"}
    pid = http.post("/api/products", json={"name": "bench"}, headers=auth).json()["id"]
    for _ in range(3):
        assert http.get(f"/api/products/{pid}", headers=auth).status_code == 200
    return f"{front}/api/products/{pid}", f"Authorization: Bearer {token}"


def _spans(traces: Path) -> int:
    count = 0
    for path in traces.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            for rs in json.loads(line)["resourceSpans"]:
                count += sum(len(ss["spans"]) for ss in rs["scopeSpans"])
    return count


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="duration of each load run")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (best kept)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="archsim-bench-trace-"))
    files = render(load(ROOT / "topology.dot").architecture)
    dirs = {"off": work / "off", "on": work / "on"}
    for directory in dirs.values():
        apply_writes(plan_writes(directory, files))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    targets: dict[str, tuple[str, str]] = {}
    best = {"off": 0.0, "on": 0.0}
    failures = {"off": 0, "on": 0}
    served = {"off": 0.0, "on": 0.0}
    try:
        for name, directory in dirs.items():
            run_env = {**env, "ARCHSIM_TRACE": "1" if name == "on" else "0",
                       "ARCHSIM_TRACE_SAMPLE": "1"}  # fmt: skip
            state = launcher.up(directory, env=run_env, timeout_s=120)
            targets[name] = _prepare(state["front_door"])
        for url, header in targets.values():  # warm-up
            _drive(url, 1, args.connections, header)
        for _ in range(args.rounds):
            for name, (url, header) in targets.items():
                rate, bad = _drive(url, args.seconds, args.connections, header)
                best[name] = max(best[name], rate)
                failures[name] += bad
                served[name] += rate * args.seconds
    finally:
        for directory in dirs.values():
            launcher.down(directory)
    spans = _spans(dirs["on"] / ".archsim" / "traces")
    shutil.rmtree(work, ignore_errors=True)
    cost = 1 - best["on"] / best["off"] if best["off"] else 1.0
    report: dict[str, Any] = {
        "loader": "wrk" if shutil.which("wrk") else "aiohttp load process",
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "tracing_off_rps": round(best["off"], 1),
        "tracing_on_rps": round(best["on"], 1),
        "cost": round(cost, 3),
        "target_cost": _TARGET_COST,
        "spans_written": spans,
        "spans_per_request": round(spans / served["on"], 2) if served["on"] else None,
        "failures": failures,
    }
    print(json.dumps(report, indent=2))
    ok = cost <= _TARGET_COST and not any(failures.values())
    print(
        f"{'PASS' if ok else 'FAIL'}: traced read {best['on']:,.0f} req/s vs "
        f"{best['off']:,.0f} untraced = {cost:.0%} cost at 100% sampling "
        f"(target <= {_TARGET_COST:.0%})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
