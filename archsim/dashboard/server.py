"""The dashboard's web server (aiohttp): the page, the diagram, and a JSON frame per refresh.

Every ``refresh_s`` a background task polls the stack (``measure.poll``), measures over the last
``window_s`` seconds, fits the arrival rate, predicts (in a worker thread, so a slow simulation
never stalls the page: until it answers the previous prediction stays) and joins the two into
the frame ``GET /api/frame`` returns. Routes: ``/`` (the page: diagram inline, CSS and JS
inline, nothing fetched from elsewhere), ``/diagram.svg``, ``/api/frame``, ``/report/NAME``
(the files of the last load test), ``/health``. Bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from archsim.dashboard.join import join
from archsim.dashboard.measure import Poll, measure, poll
from archsim.dashboard.predict import Prediction, Predictor
from archsim.dashboard.readings import Frame
from archsim.loadtest.progress import read_progress
from archsim.model import Architecture

__all__ = ["Dashboard", "page", "serve"]

_PROLOG_END = "<svg"


@cache
def _asset(name: str) -> str:
    return resources.files("archsim.dashboard").joinpath(name).read_text("utf-8")


def page(title: str, svg: str, refresh_s: float) -> str:
    """The whole page as one HTML document (diagram, CSS and JS inline)."""
    body = svg[svg.find(_PROLOG_END) :] if _PROLOG_END in svg else svg
    config = json.dumps({"refresh_s": refresh_s}).replace("</", "<\\/")
    return (
        _asset("page.html")
        .replace("__TITLE__", escape(title))
        .replace("__CSS__", _asset("dashboard.css"))
        .replace("__CONFIG__", config)
        .replace("__JS__", _asset("dashboard.js"))
        .replace("__SVG__", body)
    )


class Dashboard:
    """The live state of one stack's dashboard (no HTTP here: ``serve`` adds that)."""

    def __init__(self, arch: Architecture, stack_dir: Path, *, refresh_s: float = 2.0,
                 window_s: float = 10.0) -> None:  # fmt: skip
        self.arch, self.stack_dir = arch, stack_dir
        self.refresh_s, self.window_s = refresh_s, max(window_s, refresh_s)
        self.predictor = Predictor(arch)
        self.polls: deque[Poll] = deque()
        self.prediction: Prediction | None = None
        self._predicting: asyncio.Future[Prediction] | None = None
        self.sequence = 0
        self.frame = Frame(arch.name, time.time(), None, None, "waiting for the first poll", None)
        self.tick_ms: deque[float] = deque(maxlen=50)  # cost of each refresh (benchmarks)

    def instances(self) -> list[dict[str, Any]]:
        """The stack's processes from its state file (re-read: restarts change ports)."""
        from archsim.runtime import launcher

        with contextlib.suppress(OSError, ValueError):
            state = launcher.read_state(self.stack_dir)
            if state:
                return list(state.get("instances") or [])
        return []

    async def tick(self, session: Any) -> Frame:
        """One refresh: poll, measure, predict, join."""
        started = time.perf_counter()
        instances = self.instances()
        latest = await poll(instances, session, timeout_s=min(1.5, self.refresh_s * 0.75))
        self.polls.append(latest)
        while len(self.polls) > 2 and latest.taken_at - self.polls[1].taken_at >= self.window_s:
            self.polls.popleft()
        before = self.polls[0] if len(self.polls) > 1 else None
        measurement = measure(self.arch, before, latest)
        note = None if instances else "the stack is not running"
        rate = self.predictor.fit_rate(measurement.operations)
        if rate is not None:
            await self._predict(rate)
        elif before is not None:
            note = note or "no traffic measured yet"
        self.sequence += 1
        self.frame = join(self.arch, measurement, self.prediction if rate is not None else None,
                          taken_at=latest.taken_at, sequence=self.sequence,
                          refresh_s=self.refresh_s, loadtest=self.loadtest(),
                          method_note=note or "waiting for a second poll")  # fmt: skip
        self.tick_ms.append((time.perf_counter() - started) * 1000)
        return self.frame

    async def _predict(self, rate: float) -> None:
        """Start a prediction at ``rate`` unless one is still running; wait for it up to
        half a refresh (a slower one lands at a later refresh)."""
        loop = asyncio.get_running_loop()
        if self._predicting is None or self._predicting.done():
            budget = self.refresh_s * 0.75
            self._predicting = loop.run_in_executor(None, self.predictor.predict, rate, budget)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._predicting), self.refresh_s * 0.5)
        if self._predicting.done():
            exc = self._predicting.exception()
            if exc is None:
                self.prediction = self._predicting.result()

    def loadtest(self) -> dict[str, Any] | None:
        """The progress of the last load test on this stack, with its reports that exist."""
        progress = read_progress(self.stack_dir)
        if progress is not None:
            out = Path(progress.get("out") or ".")
            names = (progress.get("reports") or {}).values()
            progress["available"] = [n for n in names if (out / n).is_file()]
        return progress

    def report(self, name: str) -> Path | None:
        """A file of the last load test by its name in the progress file (nothing else)."""
        progress = read_progress(self.stack_dir) or {}
        if name not in (progress.get("reports") or {}).values():
            return None
        path = Path(progress.get("out") or ".") / name
        return path if path.is_file() else None

    async def run(self, session: Any) -> None:
        """Refresh forever, every ``refresh_s`` seconds."""
        while True:
            started = time.monotonic()
            await self.tick(session)
            await asyncio.sleep(max(0.05, self.refresh_s - (time.monotonic() - started)))


def build_app(dashboard: Dashboard, svg: str) -> Any:
    """The aiohttp application serving ``dashboard`` (its refresh loop runs with the app)."""
    import aiohttp
    from aiohttp import web

    html = page(dashboard.arch.name, svg, dashboard.refresh_s)

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    async def diagram(_: web.Request) -> web.Response:
        return web.Response(text=svg, content_type="image/svg+xml")

    async def frame(_: web.Request) -> web.Response:
        return web.json_response(dashboard.frame.to_dict(),
                                 headers={"Cache-Control": "no-store"})  # fmt: skip

    async def report(request: web.Request) -> web.StreamResponse:
        path = dashboard.report(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound(text="no such report of the last load test")
        return web.FileResponse(path)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "sequence": dashboard.sequence})

    async def refresher(app: web.Application) -> Any:
        session = aiohttp.ClientSession()
        task = asyncio.create_task(dashboard.run(session))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await session.close()

    app = web.Application()
    app.add_routes([web.get("/", index), web.get("/diagram.svg", diagram),
                    web.get("/api/frame", frame), web.get("/report/{name:.+}", report),
                    web.get("/health", health)])  # fmt: skip
    app.cleanup_ctx.append(refresher)
    return app


async def serve(dashboard: Dashboard, svg: str, host: str, port: int,
                ready: Any = None) -> None:  # fmt: skip
    """Serve until cancelled; ``ready(url)`` is called once the socket listens."""
    from aiohttp import web

    runner = web.AppRunner(build_app(dashboard, svg), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        shown = f"[{host}]" if ":" in host else host
        if ready is not None:
            ready(f"http://{shown}:{bound}/")
        while True:
            await asyncio.sleep(3600)
    finally:
        await runner.cleanup()
