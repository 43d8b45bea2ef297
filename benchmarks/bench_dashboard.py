"""Benchmark: the dashboard on a 100-component architecture — time to first paint and the cost
of one refresh, server and page, beside baselines measured in the same run.

Usage: ``python benchmarks/bench_dashboard.py [--components 100] [--refreshes 10]``

A hundred real processes do not fit this 2-core machine, so the services' ``/metrics`` are
served by one aiohttp app (``/svc/<id>/metrics``), with counters that grow at the model's own
operation rates (a 50 req/s front door) in the exposition format of the generated runtime:
the dashboard polls them over HTTP like a real stack. Measured:

* server: one refresh (poll every service over HTTP, measure, fit, predict, join, JSON), best
  and median over the run;
* page, in headless Chromium over the DevTools protocol: first contentful paint, time until the
  first frame is applied, and the JavaScript cost of applying one frame (``data-apply-ms``);
* baselines in the same run: the same for the seed (17 components), and the first paint of the
  plain ``archsim render --html`` page of the 100-component diagram.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from gen_architecture import generate

from archsim.dashboard.predict import Predictor
from archsim.dashboard.server import Dashboard, serve
from archsim.errors import ArchsimError
from archsim.model import Architecture, read_architecture
from archsim.render import render

ROOT = Path(__file__).resolve().parent.parent
FRONT_RPS = 50.0


def _exposition(
    arch: Architecture, comp: str, rates: dict[tuple[str, str], float], t: float
) -> str:
    """Counters of ``comp`` after ``t`` seconds at ``rates``, as the runtime exports them."""
    lines = []
    for (c, op), rate in rates.items():
        if c != comp:
            continue
        n = int(rate * t)
        lab = f'operation="{op}",service="{c}"'
        lines.append(f'archsim_requests_total{{{lab},status="200"}} {n}.0')
        for le in ("0.001", "0.005", "0.01", "0.05", "+Inf"):
            share = {"0.001": 0.1, "0.005": 0.6, "0.01": 0.9, "0.05": 0.99, "+Inf": 1.0}[le]
            lines.append(
                f'archsim_request_duration_seconds_bucket{{{lab},le="{le}"}} {int(n * share)}.0'
            )
        lines.append(f"archsim_request_duration_seconds_count{{{lab}}} {n}.0")
        lines.append(f"archsim_request_duration_seconds_sum{{{lab}}} {n * 0.004}")
    return "# TYPE archsim_requests counter\n" + "\n".join(lines) + "\n"


def _fake_stack(arch: Architecture, folder: Path, port: int) -> None:
    """A stack directory whose state file points every service at the synthetic metrics."""
    (folder / ".archsim").mkdir(parents=True, exist_ok=True)
    (folder / "stack.json").write_text(json.dumps({"architecture": arch.name}))
    instances = [{"component": c.id, "instance": f"{c.id}-1", "role": "service",
                  "url": f"http://127.0.0.1:{port}/svc/{c.id}", "pid": os.getpid(), "port": port}
                 for c in arch.components if arch.behaviour.operations_of(c.id)]  # fmt: skip
    state = {"instances": instances, "front_door": f"http://127.0.0.1:{port}"}
    (folder / ".archsim" / "state.json").write_text(json.dumps(state))


class _Server:
    """Metrics and dashboard on one event loop in a thread."""

    def __init__(self, arch: Architecture, folder: Path) -> None:
        self.arch, self.folder = arch, folder
        self.rates = {k: v * FRONT_RPS for k, v in Predictor(arch).unit_rates.items()}
        self.started = time.monotonic()
        self.url: str | None = None
        self.board: Dashboard | None = None
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(60)

    async def _start(self) -> None:
        from aiohttp import web

        async def metrics(request: web.Request) -> web.Response:
            t = time.monotonic() - self.started + 100.0
            text = _exposition(self.arch, request.match_info["comp"], self.rates, t)
            return web.Response(text=text)

        app = web.Application()
        app.add_routes([web.get("/svc/{comp}/metrics", metrics)])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        _fake_stack(self.arch, self.folder, runner.addresses[0][1])
        svg = render(self.arch, "svg").decode("utf-8")
        self.board = Dashboard(self.arch, self.folder)
        ready = asyncio.get_running_loop().create_future()
        self.task = asyncio.ensure_future(serve(self.board, svg, "127.0.0.1", 0, ready.set_result))
        self.url = await ready


@contextlib.asynccontextmanager
async def _devtools(chromium: str, timeout_s: float = 30.0) -> AsyncIterator[Any]:
    """A headless Chromium and a DevTools websocket to its page; the browser's whole process
    group is killed on exit. TimeoutError when it does not open its debugging port in time."""
    import aiohttp

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + timeout_s
            while not (port_file.is_file() and port_file.read_text().strip()):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{chromium} opened no debugging port in {timeout_s:g} s")
                await asyncio.sleep(0.1)
            port = port_file.read_text().split()[0]
            async with aiohttp.ClientSession() as s:
                async with s.get(f"http://127.0.0.1:{port}/json/list") as r:
                    page = next(p for p in await r.json() if p["type"] == "page")
                async with s.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    yield ws
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole group: its helpers too
            proc.wait()


async def _page(url: str, chromium: str, refreshes: int) -> dict[str, float]:
    async with _devtools(chromium) as ws:
        return await _measure_page(ws, url, refreshes)


async def _measure_page(ws: Any, url: str, refreshes: int) -> dict[str, float]:
    ids = itertools.count(1)

    async def call(method: str, **params: Any) -> dict[str, Any]:
        n = next(ids)
        await ws.send_json({"id": n, "method": method, "params": params})
        while True:
            msg = await ws.receive_json()
            if msg.get("id") == n:
                return msg.get("result", {})

    async def js(expr: str) -> Any:
        return (await call("Runtime.evaluate", expression=expr, returnByValue=True))["result"].get(
            "value"
        )

    await call("Page.enable")
    await call("Page.navigate", url=url)
    while not await js("document.body && document.body.dataset.sequence >= 1"):
        await asyncio.sleep(0.02)
    first_frame = await js("performance.now()")
    paint = None
    for _ in range(100):  # the paint entry may be recorded a moment after the frame
        paint = await js(
            "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null"
        )
        if paint:
            break
        await asyncio.sleep(0.05)
    costs = []
    seen = 0
    while len(costs) < refreshes:
        seq = int(await js("document.body.dataset.sequence"))
        if seq != seen:
            seen = seq
            costs.append(float(await js("document.body.dataset.applyMs")))
        await asyncio.sleep(0.2)
    return {"first_paint_ms": paint or float("nan"), "first_frame_ms": first_frame,
            "apply_ms_median": statistics.median(costs), "apply_ms_max": max(costs)}  # fmt: skip


async def _static_paint(html: Path, chromium: str) -> float:
    """First contentful paint (ms) of a static page opened from a file."""
    result = await _page_once(html.as_uri(), chromium)
    return result


async def _page_once(url: str, chromium: str) -> float:
    async with _devtools(chromium) as ws:
        n = 0
        for method, params in (("Page.enable", {}), ("Page.navigate", {"url": url})):
            n += 1
            await ws.send_json({"id": n, "method": method, "params": params})
        expr = (
            "(performance.getEntriesByName('first-contentful-paint')[0]||{}).startTime"
        )
        while True:
            n += 1
            await ws.send_json(
                {
                    "id": n,
                    "method": "Runtime.evaluate",
                    "params": {"expression": expr, "returnByValue": True},
                }
            )
            while True:
                msg = await ws.receive_json()
                if msg.get("id") == n:
                    break
            value = msg.get("result", {}).get("result", {}).get("value")
            if value:
                return float(value)
            await asyncio.sleep(0.05)


def _run(arch: Architecture, refreshes: int, chromium: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        server = _Server(arch, Path(tmp))
        assert server.board is not None and server.url is not None
        board = server.board
        while board.sequence < refreshes + 2:
            time.sleep(0.2)
        page = asyncio.run(_page(server.url, chromium, refreshes)) if chromium else {}
        ticks = list(board.tick_ms)[1:]  # the first refresh has no window yet
        frame = board.frame
        server.loop.call_soon_threadsafe(server.task.cancel)
        return {
            "components": len(arch.components),
            "links": len(arch.links),
            "refresh_best_ms": min(ticks),
            "refresh_median_ms": statistics.median(ticks),
            "predict_ms": frame.predict_ms,
            "method": frame.method,
            "json_kb": len(json.dumps(frame.to_dict())) / 1024,
            **page,
        }


def _valid(n: int) -> Architecture:
    """The first generated architecture of ``n`` components (seed 0, 1, …) that loads cleanly
    (some draws contain an event loop, which validate refuses)."""
    for seed in range(200):
        try:
            return read_architecture(generate(n, n * 2, seed=seed), f"g{seed}.dot").architecture
        except ArchsimError:
            continue
    raise SystemExit("no valid generated architecture in 200 seeds")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--refreshes", type=int, default=10)
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium: page figures skipped (apt-get install chromium)", file=sys.stderr)
    big = _valid(args.components)
    seed = read_architecture((ROOT / "topology.dot").read_text(), "topology.dot").architecture
    rows = {"seed (baseline)": _run(seed, args.refreshes, chromium),
            f"{args.components} components": _run(big, args.refreshes, chromium)}  # fmt: skip
    if chromium:
        with tempfile.TemporaryDirectory() as tmp:
            html = Path(tmp) / "big.html"
            html.write_bytes(render(big, "html"))
            rows[f"{args.components} components"]["static_render_paint_ms"] = asyncio.run(
                _static_paint(html, chromium))  # fmt: skip
    keys = sorted({k for r in rows.values() for k in r if k != "method"}, key=str)
    print(f"{'':28}" + "".join(f"{name:>22}" for name in rows))
    for k in keys:
        cells = []
        for r in rows.values():
            v = r.get(k)
            cells.append(f"{v:>22.1f}" if isinstance(v, float) else f"{v!s:>22}")
        print(f"{k:28}" + "".join(cells))
    for name, r in rows.items():
        print(f"{name}: prediction by {r['method']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
