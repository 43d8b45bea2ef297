"""Service registry: an in-memory server (register, heartbeat, lookup, deregister with a TTL)
and the client services use (registration loop, lookups cached with a TTL).

Run the server with ``python -m archsim_runtime.registry --port 8500 --ttl 30``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

__all__ = ["RegistryClient", "RegistryStore", "main", "make_registry_app"]

log = logging.getLogger("archsim.registry")


@dataclass
class RegistryStore:
    """Instances by id; an instance whose last heartbeat is older than ``ttl_s`` is gone."""

    ttl_s: float
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)

    def register(self, name: str, instance_id: str, url: str) -> None:
        """Add or refresh an instance."""
        self.instances[instance_id] = {
            "id": instance_id,
            "name": name,
            "url": url,
            "registered_at": time.time(),
            "last_seen": time.monotonic(),
        }

    def heartbeat(self, instance_id: str) -> bool:
        """Refresh an instance; False if it is unknown (expired or never registered)."""
        self.expire()
        item = self.instances.get(instance_id)
        if item is None:
            return False
        item["last_seen"] = time.monotonic()
        return True

    def deregister(self, instance_id: str) -> bool:
        """Remove an instance; False if it was not there."""
        return self.instances.pop(instance_id, None) is not None

    def expire(self) -> list[str]:
        """Drop instances whose heartbeat is older than the TTL; returns their ids."""
        now = time.monotonic()
        dead = [i for i, item in self.instances.items() if now - item["last_seen"] > self.ttl_s]
        for instance_id in dead:
            del self.instances[instance_id]
            log.info("instance expired", extra={"fields": {"instance_id": instance_id}})
        return dead

    def lookup(self, name: str | None = None) -> list[dict[str, Any]]:
        """Live instances (of one service, or all), oldest registration first."""
        self.expire()
        now = time.monotonic()
        return [
            {
                "id": item["id"],
                "name": item["name"],
                "url": item["url"],
                "age_s": round(now - item["last_seen"], 3),
            }
            for item in sorted(self.instances.values(), key=lambda i: i["registered_at"])
            if name is None or item["name"] == name
        ]


def make_registry_app(ttl_s: float) -> web.Application:
    """The registry's HTTP API (the operations the model derives for a registry)."""
    store = RegistryStore(ttl_s)
    routes = web.RouteTableDef()

    @routes.post("/services")
    async def register(request: web.Request) -> web.Response:
        body = await request.json()
        try:
            name, instance_id, url = str(body["name"]), str(body["id"]), str(body["url"])
        except (KeyError, TypeError):
            return web.json_response({"detail": "need name, id and url"}, status=422)
        store.register(name, instance_id, url)
        return web.json_response({"id": instance_id, "ttl_s": ttl_s}, status=201)

    @routes.put("/services/{id}")
    async def heartbeat(request: web.Request) -> web.Response:
        if not store.heartbeat(request.match_info["id"]):
            return web.json_response({"detail": "unknown instance"}, status=404)
        return web.json_response({"ok": True})

    @routes.get("/services/{name}")
    async def lookup(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.json_response({"name": name, "instances": store.lookup(name)})

    @routes.get("/services")
    async def everything(request: web.Request) -> web.Response:
        return web.json_response({"instances": store.lookup()})

    @routes.delete("/services/{id}")
    async def deregister(request: web.Request) -> web.Response:
        store.deregister(request.match_info["id"])
        return web.Response(status=204)

    @routes.get("/health")
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.add_routes(routes)
    app["store"] = store
    return app


class RegistryClient:
    """One service instance's view of a registry: registration with heartbeats, and lookups
    cached for ``lookup_ttl_s`` (the model's, from the SPEC; re-registers if the registry
    forgot it).

    With a ``tracer`` (``archsim.runtime.tracing``), registering, heartbeats and leaving make
    client spans naming the registry (``component``); lookups make none (they are made on a
    request's way, and an operation's steps stay the model's)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_urls: list[str],
        lookup_ttl_s: float,
        *,
        component: str = "registry",
        tracer: Any = None,
    ) -> None:
        self.session = session
        self.base_urls = base_urls
        self.lookup_ttl_s = lookup_ttl_s
        self.component = component
        self.tracer = tracer
        self.registered = False
        self._cache: dict[str, tuple[float, list[str]]] = {}
        self._me: dict[str, str] | None = None
        self._task: asyncio.Task[None] | None = None

    async def _traced(self, method: str, path: str, template: str, **kw: Any) -> tuple[int, Any]:
        """``_request`` inside a client span when tracing is on."""
        if self.tracer is None:
            return await self._request(method, path, **kw)
        attrs: dict[str, Any] = {
            "http.request.method": method,
            "url.path": path,
            "url.template": template,
            "server.address": self.component,
            "peer.service": self.component,
        }
        async with self.tracer.span(f"{method} {template}", 3, attrs):  # 3: a client span
            status, data = await self._request(method, path, **kw)
            attrs["http.response.status_code"] = status  # before the span ends
        return status, data

    async def _request(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        last: Exception | None = None
        for base in self.base_urls:
            try:
                timeout = aiohttp.ClientTimeout(total=2.0)
                async with self.session.request(method, base + path, timeout=timeout, **kw) as resp:
                    data = await resp.json() if resp.content_type == "application/json" else None
                    return resp.status, data
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = exc
        raise ConnectionError(f"no registry reachable at {self.base_urls}: {last}")

    async def register(self, name: str, instance_id: str, url: str) -> None:
        """Register this instance (raises ConnectionError when no registry answers)."""
        self._me = {"name": name, "id": instance_id, "url": url}
        status, _ = await self._traced("POST", "/services", "/services", json=self._me)
        self.registered = status == 201

    async def heartbeat(self) -> None:
        """Refresh the registration; register again if the registry expired it."""
        if self._me is None:
            return
        status, _ = await self._traced("PUT", f"/services/{self._me['id']}", "/services/{id}")
        if status == 404:
            await self.register(**self._me)
        else:
            self.registered = status == 200

    def start_heartbeats(self, interval_s: float) -> None:
        """Heartbeat every ``interval_s`` in the background until ``deregister``."""

        async def _loop() -> None:
            while True:
                await asyncio.sleep(interval_s)
                try:
                    await self.heartbeat()
                except ConnectionError as exc:
                    self.registered = False
                    log.warning("heartbeat failed", extra={"fields": {"error": str(exc)}})

        self._task = asyncio.create_task(_loop())

    async def deregister(self) -> None:
        """Stop heartbeats and leave the registry (best effort)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._me is not None:
            with contextlib.suppress(ConnectionError):
                await self._traced("DELETE", f"/services/{self._me['id']}", "/services/{id}")
        self.registered = False

    def cached(self, name: str) -> list[str] | None:
        """The instances of ``name`` from a lookup younger than ``lookup_ttl_s``, or None
        (then ``lookup`` asks the registry): a call's way without a coroutine."""
        cached = self._cache.get(name)
        if cached is not None and time.monotonic() - cached[0] < self.lookup_ttl_s:
            return cached[1]
        return None

    async def lookup(self, name: str, *, fresh: bool = False) -> list[str]:
        """Base URLs of the live instances of ``name`` (cached for ``lookup_ttl_s``)."""
        now = time.monotonic()
        cached = self._cache.get(name)
        if cached is not None and not fresh and now - cached[0] < self.lookup_ttl_s:
            return cached[1]
        status, data = await self._request("GET", f"/services/{name}")
        urls = [i["url"] for i in data["instances"]] if status == 200 and data else []
        self._cache[name] = (now, urls)
        return urls


def main(argv: list[str] | None = None) -> None:
    """Serve the registry on ``--host``/``--port`` until SIGTERM."""
    parser = argparse.ArgumentParser(prog="archsim_runtime.registry")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    # the model's (stack.json's ttl_s: three heartbeats), passed by the launcher, compose and
    # Kubernetes; the environment overrides it (ARCHSIM_REGISTRY_TTL_S, or 3 heartbeats of
    # ARCHSIM_HEARTBEAT_S)
    parser.add_argument("--ttl", type=float, required=True, help="heartbeat TTL (s)")
    args = parser.parse_args(argv)
    heartbeat = os.environ.get("ARCHSIM_HEARTBEAT_S")
    ttl = os.environ.get("ARCHSIM_REGISTRY_TTL_S") or (3 * float(heartbeat) if heartbeat else None)
    logging.basicConfig(level=logging.INFO)
    app = make_registry_app(float(ttl) if ttl else args.ttl)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
