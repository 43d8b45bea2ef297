"""Defaults live in the model once (issue 11): the balancer's forward policy, the event
redelivery and the token lifetime are decided in ``archsim.model``, carried by the generated
stack's SPEC / ``stack.json``, and used by the runtime, which has no fallback of its own."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from archsim.codegen import render
from archsim.model import Architecture, OpKind, StepAction
from archsim.model.derive import REDELIVER_S, TOKEN_TTL_S
from archsim.model.profile import apply_overrides
from archsim.runtime.balancer import Balancer
from archsim.runtime.service import Runtime
from archsim.runtime.settings import Settings


def _stack_json(arch: Architecture) -> dict[str, Any]:
    return json.loads(render(arch)["stack.json"])


def _forward_timeouts(arch: Architecture) -> dict[str, float]:
    """The timeout of each balancer forward step, by path: what the simulator applies."""
    out = {}
    for op in arch.behaviour.operations_of("load_balancer"):
        call = next(s for s in op.steps if s.action is StepAction.CALL)
        assert call.policy is not None and op.path is not None
        out[f"{op.method} {op.path}"] = call.policy.timeout
    return out


def test_the_balancers_routes_carry_the_models_forward_policy(seed: Architecture) -> None:
    changed = apply_overrides(seed, ["load_balancer->api_gateway.timeout=300ms"])
    routes = _stack_json(changed)["balancers"]["load_balancer"]["routes"]
    by_path = {f"{r['method']} {r['path']}": r["policy"]["timeout"] for r in routes}
    assert by_path == _forward_timeouts(changed)  # the stack's policy is the simulator's
    assert {r["policy"]["timeout"] for r in routes if r["target"] == "api_gateway"} == {0.3}
    others = {r["policy"]["timeout"] for r in routes if r["target"] != "api_gateway"}
    assert others == {seed.default_timeout}
    assert "timeout" not in _stack_json(seed)["balancers"]["load_balancer"]


def test_the_balancer_gives_up_after_the_models_timeout(seed: Architecture) -> None:
    """A slow upstream: the balancer answers 504 after the route's timeout from the model."""
    changed = apply_overrides(seed, ["load_balancer->api_gateway.timeout=200ms"])
    spec = _stack_json(changed)["balancers"]["load_balancer"]
    spec["registered"] = {}  # static addresses below, no registry
    route = next(r for r in spec["routes"] if r["target"] == "api_gateway")

    async def scenario() -> tuple[int, float]:
        async def slow(request: web.Request) -> web.Response:
            await asyncio.sleep(2)
            return web.json_response({})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", slow)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        url = str(server.make_url("")).rstrip("/")
        balancer = Balancer(spec, Settings(env={"ARCHSIM_ADDR_API_GATEWAY": url}))
        await balancer.start()
        try:
            path = route["path"].replace("{id}", "1")
            started = time.monotonic()
            status, _, _ = await balancer.handle(route["method"], path, "", {}, b"")
            return status, time.monotonic() - started
        finally:
            await balancer.stop()
            await server.close()

    status, took = asyncio.run(scenario())
    assert status == 504 and 0.15 < took < 1.5


def test_consumers_carry_the_models_redelivery(
    seed: Architecture, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = render(seed)
    assert "ARCHSIM_REDELIVER_S" not in json.loads(files["stack.json"])["env"]
    consumers = {op.component for op in seed.behaviour.operations if op.kind is OpKind.CONSUME}
    spec = _spec_of(files, "notification_service")
    assert "notification_service" in consumers and spec["redeliver_s"] == REDELIVER_S
    monkeypatch.setenv("ARCHSIM_URL_MESSAGE_BROKER", "redis://127.0.0.1:9")  # never dialled
    monkeypatch.delenv("ARCHSIM_REDELIVER_S", raising=False)
    rt = Runtime(spec)
    rt._open_caches_and_brokers()
    assert rt.brokers["message_broker"].redeliver_s == REDELIVER_S  # the model's
    monkeypatch.setenv("ARCHSIM_REDELIVER_S", "2")
    rt = Runtime(spec)
    rt._open_caches_and_brokers()
    assert rt.brokers["message_broker"].redeliver_s == 2.0  # the environment still overrides


def _token_ttl(stack: Path, env: dict[str, str]) -> dict[str, Any]:
    """Import the generated auth service in a process of its own (its vendored runtime
    registers the same metrics as archsim.runtime) and report its token lifetime."""
    probe = (
        "import json, services.auth_service.app as a; "
        "print(json.dumps({'spec': a.SPEC['token_ttl_s'], 'ttl': a.tokens.ttl_s, "
        "'expires_in': a.tokens.issue('1')['expires_in']}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ARCHSIM_")}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=stack, env={**clean, **env},
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(reply, dict)
    return reply


def test_the_auth_service_issues_tokens_for_the_models_lifetime(
    seed: Architecture, tmp_path: Path
) -> None:
    files = render(seed)
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert _token_ttl(tmp_path, {}) == {
        "spec": TOKEN_TTL_S, "ttl": TOKEN_TTL_S, "expires_in": int(TOKEN_TTL_S)
    }  # fmt: skip
    assert _token_ttl(tmp_path, {"ARCHSIM_TOKEN_TTL_S": "60"})["expires_in"] == 60
    assert f'"expires_in": {int(TOKEN_TTL_S)}' in files["README.md"]


def _spec_of(files: dict[str, str], component: str) -> dict[str, Any]:
    """The SPEC literal of a generated service's app.py."""
    text = files[f"services/{component}/app.py"]
    start = text.index("SPEC: dict[str, Any] = ") + len("SPEC: dict[str, Any] = ")
    end = text.index("\n\n", start)
    import ast

    value = ast.literal_eval(text[start:end])
    assert isinstance(value, dict)
    return value
