"""The dashboard in a real browser: the seed stack (generated, started), the dashboard (the CLI,
its own process), a 20-user Locust load, and headless Chromium driven over the DevTools
protocol (a websocket from aiohttp: no browser-driver dependency). Checks that the page's
figures match the services' /metrics, change over time, and that killing a service turns its
node and its callers' links to error within two refreshes. Writes a screenshot to
test-artifacts/dashboard.png (or $ARCHSIM_ARTIFACTS).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from archsim.codegen import apply_writes, plan_writes, render
from archsim.model import load
from archsim.runtime import launcher

# a load test: password hashing lowered (as archsim loadtest --up does, with its warning)
LOAD_TEST_ENV = {**os.environ, "ARCHSIM_PBKDF2_ROUNDS": "1000"}

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("ARCHSIM_ARTIFACTS", ROOT / "test-artifacts"))
CLI = [sys.executable, "-c", "from archsim.cli import main; main()"]

pytestmark = [
    # in CI a missing browser is a failure (.ci/run installs it), elsewhere a skip
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"),
        reason="needs Debian's chromium (apt-get install chromium)",
    ),
    pytest.mark.timeout(240),
]


def _wait(predicate: Any, timeout: float, what: str, step: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("dash") / "shop"
    seed = ROOT / "topology.dot"
    apply_writes(plan_writes(directory, render(load(seed).architecture, source=seed.name)))
    launcher.up(directory, timeout_s=120, env=LOAD_TEST_ENV)
    try:
        yield directory
    finally:
        launcher.down(directory)


@pytest.fixture(scope="module")
def dashboard(stack: Path) -> Iterator[str]:
    log = stack / "dashboard.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [*CLI, "dashboard", str(stack), "--model", str(ROOT / "topology.dot"), "--port", "0"],
            stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
    try:
        url = _wait(lambda: re.search(r"http://127\.0\.0\.1:\d+/", log.read_text()), 60,
                    "the dashboard's URL").group(0)  # fmt: skip
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def loaded(stack: Path, dashboard: str) -> Iterator[str]:
    out = stack.parent / "load"
    proc = subprocess.Popen(
        [*CLI, "loadtest", str(stack), "--users", "20", "--duration", "60s", "--warmup", "1s",
         "-o", str(out), "--json", "--allow-failures"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        yield dashboard
    finally:
        _stop(proc)


class Browser:
    """Headless Chromium over the DevTools protocol (one page)."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.ids = ws, itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        n = next(self.ids)
        await self.ws.send_json({"id": n, "method": method, "params": params})
        while True:
            msg = await asyncio.wait_for(self.ws.receive_json(), 30)
            if msg.get("id") == n:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    async def js(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def until(self, expression: str, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.25)
        raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def _chromium(profile: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [CHROMIUM or "chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
         "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1600,1200",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


ROWS = """JSON.stringify(Array.from(document.querySelectorAll('#components tr[id], #links tr[id]'))
  .map(tr => [tr.id.slice(4), tr.dataset.state,
    tr.querySelector('td[data-f="m_tput"]').dataset.value,
    tr.querySelector('td[data-f="p_tput"]').dataset.value]))"""


def _rows(text: str) -> dict[str, tuple[str, float | None, float | None]]:
    return {i: (s, None if m is None else float(m), None if p is None else float(p))
            for i, s, m, p in json.loads(text)}  # fmt: skip


def _served(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return sum(float(v) for v in re.findall(r"^archsim_requests_total\{[^}]*\} (\S+)$", text, re.M))


async def _drive(url: str, stack: Path) -> None:
    state = launcher.read_state(stack) or {}
    insts = {i["component"]: i for i in state["instances"]}
    gateway = insts["api_gateway"]["url"]
    with tempfile.TemporaryDirectory() as profile:
        chrome = _chromium(Path(profile))
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            port = int(_wait(lambda: port_file.is_file() and port_file.read_text().split()[0],
                             30, "Chromium's DevTools port"))  # fmt: skip
            import aiohttp

            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/json/list") as reply:
                    pages = [p for p in await reply.json() if p.get("type") == "page"]
                async with session.ws_connect(pages[0]["webSocketDebuggerUrl"],
                                              max_msg_size=0) as ws:  # fmt: skip
                    await _check(Browser(ws), url, gateway, insts)
        finally:
            _stop(chrome)


async def _check(b: Browser, url: str, gateway: str, insts: dict[str, Any]) -> None:
    await b.call("Page.enable")
    await b.call("Runtime.enable")
    await b.call("Page.navigate", url=url)
    await b.until("document.getElementById('node-api_gateway') !== null", 30, "the diagram")
    # steady load: the arrival rate is shown, the 10 s window is full
    t0, served0 = time.time(), _served(gateway)
    await b.until("parseFloat(document.getElementById('rate').textContent) > 1", 60, "traffic")
    seq = int(await b.js("document.body.dataset.sequence"))
    await b.until(f"document.body.dataset.sequence >= {seq + 5}", 30, "five refreshes")
    first = _rows(await b.js(ROWS))
    served1, t1 = _served(gateway), time.time()
    direct = (served1 - served0) / (t1 - t0)
    shown = first["api_gateway"][1]
    assert shown is not None and direct > 0
    assert 0.5 * direct <= shown <= 2.0 * direct, (shown, direct)  # the page speaks /metrics
    frame = httpx.get(f"{url}api/frame", timeout=5).json()
    carrying = [r["id"] for r in frame["links"]
                if (r["predicted"] or {}).get("throughput", 0) > 0.5]  # fmt: skip
    assert len(carrying) >= 10
    for link in carrying:  # every link carrying traffic: measured non-zero, prediction beside it
        _state, measured, predicted = first[link]
        assert measured and measured > 0 and predicted and predicted > 0, (link, first[link])
    seq = int(await b.js("document.body.dataset.sequence"))
    await b.until(f"document.body.dataset.sequence >= {seq + 3}", 30, "three more refreshes")
    second = _rows(await b.js(ROWS))
    changed = [k for k in first if first[k][1] != second[k][1]]
    assert len(changed) >= 5  # the figures move with the load
    assert await b.js("document.querySelectorAll('#diagram text.fig').length") >= 10
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = await b.call("Page.captureScreenshot", format="png")
    (ARTIFACTS / "dashboard.png").write_bytes(base64.b64decode(shot["data"]))
    # kill a service: its node and its callers' links turn error within two refreshes
    os.killpg(int(insts["product_service"]["pid"]), signal.SIGKILL)
    killed_at = int(await b.js("document.body.dataset.sequence"))
    await b.until(f"document.body.dataset.sequence >= {killed_at + 2}", 30, "two refreshes")
    after = _rows(await b.js(ROWS))
    assert after["product_service"][0] == "error"
    for link in ("api_gateway->product_service:routes_to", "order_service->product_service:calls",
                 "load_balancer->product_service:distributes_to"):  # fmt: skip
        assert after[link][0] == "error", (link, after[link])
    node = "document.getElementById('node-product_service').getAttribute('class')"
    assert "st-error" in await b.js(node)
    shot = await b.call("Page.captureScreenshot", format="png")
    (ARTIFACTS / "dashboard-killed.png").write_bytes(base64.b64decode(shot["data"]))


def test_dashboard_in_chromium(stack: Path, loaded: str) -> None:
    asyncio.run(_drive(loaded, stack))
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
