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
    rng = random.Random(seed)
    state: dict[str, Any] = {
        "name": name,
        "latency": latency,
        "failure_rate": failure_rate,
        "requests": 0,
        "failures": 0,
    }
    draw = [sampler(latency, rng)]
    replies: dict[str, tuple[int, dict[str, Any]]] = {}
    charges: list[dict[str, Any]] = []
    refunds: list[dict[str, Any]] = []

    def refund(reference: str) -> list[dict[str, Any]]:
        done = []
        for charge in charges:
            if charge["reference"] == reference and charge["refunded_by"] is None:
                entry = {"id": uuid.uuid4().hex, "charge": charge["id"], "reference": reference,
                         "amount": charge["amount"]}  # fmt: skip
                charge["refunded_by"] = entry["id"]
                refunds.append(entry)
                done.append(entry)
        return done

    async def ledger(request: web.Request) -> web.Response:
        return web.json_response({"charges": charges, "refunds": refunds})

    async def settings(request: web.Request) -> web.Response:
        if request.method == "PUT":
            body = await request.json()
            if "failure_rate" in body:
                state["failure_rate"] = float(body["failure_rate"])
            if "latency" in body:
                state["latency"] = body["latency"]
                draw[0] = sampler(body["latency"], rng)
        return web.json_response(state)

    async def operation(request: web.Request) -> web.Response:
        key = request.headers.get("idempotency-key")
        if key and key in replies:
            status, body = replies[key]
            return web.json_response(body, status=status)
        state["requests"] += 1
        payload = await request.json() if request.can_read_body else {}
        await asyncio.sleep(draw[0]())
        if rng.random() < state["failure_rate"]:
            state["failures"] += 1
            status, body = 502, {"status": "failed", "error": f"{name} declined the request"}
        elif request.match_info["op"] == "cancel":
            done = refund(str(payload.get("reference", "")))
            status = 200
            body = {"status": "refunded" if done else "nothing to refund", "refunds": done}
        else:
            status, body = (
                200,
                {
                    "id": uuid.uuid4().hex,
                    "status": "succeeded",
                    "operation": request.match_info["op"],
                    "request": payload,
                },
            )
            if isinstance(payload, dict) and payload.get("reference"):
                charge = {"id": body["id"], "reference": str(payload["reference"])}
                charges.append({**charge, "amount": payload.get("amount", 0), "refunded_by": None})
        if key:
            replies[key] = (status, body)
        return web.json_response(body, status=status)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_route("*", "/_sandbox", settings)
    app.router.add_get("/_sandbox/ledger", ledger)
    app.router.add_post("/{op:.*}", operation)
    return app


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
