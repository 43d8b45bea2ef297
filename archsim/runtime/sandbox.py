"""A local sandbox of an external HTTP provider: answers every operation after a configurable
latency, fails with a configurable probability, and replays answers by ``idempotency-key``.

``python -m archsim_runtime.sandbox --port 8090 --name payment_provider --latency '{"type":
"const","value_s":0.01}' --failure-rate 0.0``; ``GET``/``PUT /_sandbox`` reads/changes settings.

It keeps a ledger (``GET /_sandbox/ledger``): every request that succeeded is a charge under its
``reference``; ``POST /cancel`` with a reference refunds that reference's charges (a saga's
compensation), once: cancelling again, or what was never charged, refunds nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import uuid
from typing import Any

from aiohttp import web

from .emulation import sampler

__all__ = ["main", "make_sandbox_app"]


def make_sandbox_app(
    name: str, latency: dict[str, Any] | None, failure_rate: float, seed: int | None = None
) -> web.Application:
    """The sandbox app; ``latency`` is a distribution spec (model JSON)."""
    sandbox = _Sandbox(name, latency, failure_rate, seed)
    app = web.Application()
    app.router.add_get("/health", _health)
    app.router.add_route("*", "/_sandbox", sandbox.settings)
    app.router.add_get("/_sandbox/ledger", sandbox.ledger)
    app.router.add_post("/{op:.*}", sandbox.operation)
    return app


class _Sandbox:
    """One provider: its settings, the answers it replays by idempotency key and its ledger of
    charges and refunds."""

    def __init__(
        self, name: str, latency: dict[str, Any] | None, failure_rate: float, seed: int | None
    ) -> None:
        self.name = name
        self.rng = random.Random(seed)
        self.state: dict[str, Any] = {
            "name": name,
            "latency": latency,
            "failure_rate": failure_rate,
            "requests": 0,
            "failures": 0,
        }
        self.draw = sampler(latency, self.rng)
        self.replies: dict[str, tuple[int, dict[str, Any]]] = {}
        self.charges: list[dict[str, Any]] = []
        self.refunds: list[dict[str, Any]] = []

    def refund(self, reference: str) -> list[dict[str, Any]]:
        """Refund the reference's charges not refunded yet; returns the refunds made."""
        done = []
        for charge in self.charges:
            if charge["reference"] == reference and charge["refunded_by"] is None:
                entry = {"id": uuid.uuid4().hex, "charge": charge["id"], "reference": reference,
                         "amount": charge["amount"]}  # fmt: skip
                charge["refunded_by"] = entry["id"]
                self.refunds.append(entry)
                done.append(entry)
        return done

    async def ledger(self, request: web.Request) -> web.Response:
        """``GET /_sandbox/ledger``: every charge and refund so far."""
        return web.json_response({"charges": self.charges, "refunds": self.refunds})

    async def settings(self, request: web.Request) -> web.Response:
        """``GET``/``PUT /_sandbox``: the settings, after changing the failure rate or latency."""
        if request.method == "PUT":
            body = await request.json()
            if "failure_rate" in body:
                self.state["failure_rate"] = float(body["failure_rate"])
            if "latency" in body:
                self.state["latency"] = body["latency"]
                self.draw = sampler(body["latency"], self.rng)
        return web.json_response(self.state)

    async def operation(self, request: web.Request) -> web.Response:
        """``POST /{op}``: the stored answer of a known idempotency key, else a new one after
        the latency."""
        key = request.headers.get("idempotency-key")
        if key and key in self.replies:
            status, body = self.replies[key]
            return web.json_response(body, status=status)
        self.state["requests"] += 1
        payload = await request.json() if request.can_read_body else {}
        await asyncio.sleep(self.draw())
        status, body = self._answer(request.match_info["op"], payload)
        if key:
            self.replies[key] = (status, body)
        return web.json_response(body, status=status)

    def _answer(self, op: str, payload: Any) -> tuple[int, dict[str, Any]]:
        """(status, body) of operation ``op``: declined at the failure rate, a cancel refunds
        the reference, anything else succeeds and charges its reference (if any)."""
        if self.rng.random() < self.state["failure_rate"]:
            self.state["failures"] += 1
            return 502, {"status": "failed", "error": f"{self.name} declined the request"}
        if op == "cancel":
            done = self.refund(str(payload.get("reference", "")))
            return 200, {"status": "refunded" if done else "nothing to refund", "refunds": done}
        body = {"id": uuid.uuid4().hex, "status": "succeeded", "operation": op, "request": payload}
        if isinstance(payload, dict) and payload.get("reference"):
            charge = {"id": body["id"], "reference": str(payload["reference"])}
            self.charges.append({**charge, "amount": payload.get("amount", 0), "refunded_by": None})
        return 200, body


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox until SIGTERM."""
    parser = argparse.ArgumentParser(prog="archsim_runtime.sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="provider")
    parser.add_argument("--latency", default="", help="distribution spec as JSON")
    parser.add_argument("--failure-rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    latency = json.loads(args.latency) if args.latency else None
    app = make_sandbox_app(args.name, latency, args.failure_rate)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
