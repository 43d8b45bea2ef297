"""Benchmark: a product read through the generated seed stack vs a bare FastAPI hello-world.

The read is ``GET /api/products/1`` at the front door: load balancer → gateway (token checked
by a call to auth_service on every request, as the model says; ``--token-cache-s 60`` lets the
gateway trust a validated token for 60 s instead) → product_service (Redis cache hit). The
baseline is a FastAPI hello-world served with the very same server settings
(``archsim_runtime.serve``: uvicorn, one worker, uvloop + httptools, and ``OneWriteProtocol``,
uvicorn's httptools protocol writing each response in one piece, as every generated service is
served): the target is judged against it. The same hello-world on uvicorn's stock protocol,
as a user serves FastAPI, is measured beside it (``ratio_to_stock_uvicorn``). All three are
driven in turn from a separate load process in the same run: wrk when installed (``apt-get
install wrk``), else a small aiohttp load process. Also reports how long ``archsim generate``
takes on the seed.

Usage: ``python benchmarks/bench_stack.py [--seconds 8] [--connections 32] [--rounds 2]
[--token-cache-s 0]``
Exits 1 when a target is missed: stack/hello-world >= 0.4, generate on the seed < 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archsim.codegen import apply_writes, plan_writes, render  # noqa: E402
from archsim.model import load  # noqa: E402
from archsim.runtime import launcher  # noqa: E402
from archsim.runtime.ports import free_port  # noqa: E402

__all__ = ["main"]

_TARGET_RATIO = 0.4  # issue 17's target
_TARGET_GENERATE_S = 2.0

_HELLO = """from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
"""

_LOADER = r"""
import asyncio, sys, time, aiohttp
url, seconds, conns, header = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
headers = dict([header.split(": ", 1)]) if header else {}
async def worker(session, stop, counts):
    while time.perf_counter() < stop:
        async with session.get(url, headers=headers) as resp:
            await resp.read()
            counts[resp.status == 200] += 1
async def main():
    counts = {True: 0, False: 0}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conns)) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session, start + seconds, counts) for _ in range(conns)))
        elapsed = time.perf_counter() - start
    print(counts[True] / elapsed, counts[False])
try:
    import uvloop; uvloop.install()
except ImportError:
    pass
asyncio.run(main())
"""


def _drive(url: str, seconds: float, connections: int, header: str = "") -> tuple[float, int]:
    """Requests/s of successful replies and the count of failures, from another process."""
    if shutil.which("wrk"):
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", url]
        if header:
            cmd[1:1] = ["-H", header]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors = re.search(r"Socket errors: .*?timeout (\d+)", out)
        return rate, int(bad.group(1)) if bad else 0 + (int(errors.group(1)) if errors else 0)
    cmd = [sys.executable, "-c", _LOADER, url, str(seconds), str(connections), header]
    rate, failures = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
    return float(rate), int(failures)


def _serve_hello(
    hello_dir: Path, stack_dir: Path, env: dict[str, str], *, one_write: bool
) -> tuple[subprocess.Popen, str]:
    """The hello-world served by ``archsim_runtime.serve`` (stock uvicorn, or the one-write
    protocol the generated services use), and its URL."""
    port = free_port()
    command = [sys.executable, "-m", "archsim_runtime.serve", "hello:app", "--port", str(port)]
    process = subprocess.Popen(
        command + (["--one-write"] if one_write else []),
        cwd=hello_dir,
        env={**env, "PYTHONPATH": f"{hello_dir}{os.pathsep}{stack_dir}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return process, f"http://127.0.0.1:{port}/"


def _wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="duration of each load run")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (best kept)")
    ap.add_argument(
        "--token-cache-s",
        type=float,
        default=0.0,
        help="the gateway's validated-token cache in s (0: ask auth_service on every request)",
    )
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="archsim-bench-"))
    stack_dir, hello_dir = work / "shop", work / "hello"
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from archsim.cli import main; main()",
            "generate",
            str(ROOT / "topology.dot"),
            "-o",
            str(stack_dir),
        ],
        check=True,
        capture_output=True,
    )
    generate_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    apply_writes(plan_writes(work / "again", render(load(ROOT / "topology.dot").architecture)))
    render_s = time.perf_counter() - t1
    hello_dir.mkdir()
    (hello_dir / "hello.py").write_text(_HELLO)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.setdefault("ARCHSIM_PBKDF2_ROUNDS", "1000")  # a load test: hashing lowered (warned)
    env["ARCHSIM_TOKEN_CACHE_S"] = str(args.token_cache_s)
    hello = same = None
    try:
        state = launcher.up(stack_dir, env=env, timeout_s=120)
        front = state["front_door"]
        http = httpx.Client(base_url=front, timeout=10)
        http.post("/users", json={"name": "b", "email": "b@example.com", "password": "benchmark!"})
        token = http.post(
            "/users/login", json={"email": "b@example.com", "password": "benchmark!"}
        ).json()["access_token"]
        header = f"Authorization: Bearer {token}"
        auth = {"authorization": f"Bearer {token}"}
        pid = http.post("/api/products", json={"name": "bench"}, headers=auth).json()["id"]
        for _ in range(3):  # fill the cache (and the gateway's token cache, if on)
            assert http.get(f"/api/products/{pid}", headers=auth).status_code == 200
        hello, hello_url = _serve_hello(hello_dir, stack_dir, env, one_write=False)
        same, same_url = _serve_hello(hello_dir, stack_dir, env, one_write=True)
        stack_url = f"{front}/api/products/{pid}"
        for url in (hello_url, same_url):
            _wait_http(url)
            _drive(url, 1, args.connections)  # warm-up
        _drive(stack_url, 1, args.connections, header)
        # Rotate the three and keep each one's best round: a neighbour's burst of CPU on a
        # shared 2-core machine then skews none of them.
        base_rate = same_rate = rate = 0.0
        base_bad = bad = 0
        for _ in range(args.rounds):
            r, b = _drive(hello_url, args.seconds, args.connections)
            base_rate, base_bad = max(base_rate, r), base_bad + b
            r, b = _drive(same_url, args.seconds, args.connections)
            same_rate, base_bad = max(same_rate, r), base_bad + b
            r, b = _drive(stack_url, args.seconds, args.connections, header)
            rate, bad = max(rate, r), bad + b
    finally:
        for process in (hello, same):
            if process is not None:
                process.kill()
        launcher.down(stack_dir)
        shutil.rmtree(work, ignore_errors=True)
    stock = rate / base_rate if base_rate else 0.0
    ratio = rate / same_rate if same_rate else 0.0  # judged: the same server for both
    loader = "wrk" if shutil.which("wrk") else "aiohttp load process"
    report = {
        "loader": loader,
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "gateway_token_cache_s": args.token_cache_s,
        "hello_world_rps": round(base_rate, 1),
        "hello_world_one_write_rps": round(same_rate, 1),
        "hello_world_failures": base_bad,
        "stack_read_rps": round(rate, 1),
        "stack_read_failures": bad,
        "ratio": round(ratio, 3),
        "ratio_to_stock_uvicorn": round(stock, 3),
        "target_ratio": _TARGET_RATIO,
        "generate_cli_s": round(generate_s, 3),
        "render_and_write_s": round(render_s, 3),
        "target_generate_s": _TARGET_GENERATE_S,
    }
    print(json.dumps(report, indent=2))
    ok = ratio >= _TARGET_RATIO and generate_s < _TARGET_GENERATE_S and bad == 0
    print(
        f"{'PASS' if ok else 'FAIL'}: stack read {rate:,.0f} req/s = {ratio:.2f}x hello-world "
        f"{same_rate:,.0f} req/s served the same way (target >= {_TARGET_RATIO}x; "
        f"{stock:.2f}x the hello-world on stock uvicorn, {base_rate:,.0f} req/s); "
        f"generate {generate_s:.2f}s (target < {_TARGET_GENERATE_S}s)"
    )
    if loader != "wrk":
        # measured on this 2-core machine: 0.20-0.21x with the Python loader, 0.28-0.29x with
        # wrk in the same hour; the loader takes a core the stack's four processes need
        print(
            "note: wrk is not installed; the Python load process competes with the stack for "
            "the cores and lowers the ratio (apt-get install wrk)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
