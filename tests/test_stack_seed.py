"""End to end on the seed: generate, start the real stack on loopback (embedded Valkey, SQLite,
SMTP sink, provider sandbox), drive it through the front door, and always stop it.

One stack serves the module (start-up is the expensive part); tests run in file order and the
registry fail-over test, which kills an instance, comes last.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from archsim.codegen import apply_writes, plan_writes, render
from archsim.model import load
from archsim.runtime import launcher

SEED = Path(__file__).resolve().parent.parent / "topology.dot"
FAST = {
    "ARCHSIM_HEARTBEAT_S": "0.5",
    "ARCHSIM_REGISTRY_TTL_S": "2",
    "ARCHSIM_LOOKUP_TTL_S": "1",
    "ARCHSIM_REDELIVER_S": "2",
}


def _wait(predicate: Any, timeout: float = 20.0, step: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s")


class Stack:
    """A running stack and helpers to talk to it."""

    def __init__(self, directory: Path, state: dict[str, Any]) -> None:
        self.dir = directory
        self.state = state
        self.http = httpx.Client(base_url=state["front_door"], timeout=15)
        self.token: str | None = None

    def url(self, component: str, n: int = 1) -> str:
        return next(
            i["url"] for i in self.state["instances"] if i["instance"] == f"{component}-{n}"
        )

    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    def mail(self) -> list[dict[str, Any]]:
        return httpx.get(self.url("email_service") + "/messages", timeout=5).json()["messages"]

    def redis_of(self, component: str) -> redis.Redis:
        key = f"ARCHSIM_URL_{component.upper()}"
        return redis.Redis.from_url(self.state["resources"][key])


def start_stack(source: Path, directory: Path, **kw: Any) -> Stack:
    """Generate ``source`` into ``directory`` and start it (test settings: fast heartbeats)."""
    arch = load(source).architecture
    apply_writes(plan_writes(directory, render(arch)))
    env = {**os.environ, **FAST, **kw.pop("env", {})}
    return Stack(directory, launcher.up(directory, env=env, timeout_s=120, **kw))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("shop")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    try:
        running = start_stack(SEED, directory, replicas={"product_service": 2}, env=env)
        yield running
    finally:
        launcher.down(directory)


def _order_ids(messages: list[dict[str, Any]]) -> list[str]:
    return [m["subject"].split()[-1] for m in messages if m["subject"].startswith("OrderPlaced")]


def test_user_token_products_order_email(stack: Stack) -> None:
    reply = stack.http.post(
        "/users", json={"name": "Ada", "email": "ada@example.com", "password": "correct horse"}
    )
    assert reply.status_code == 201, reply.text
    user = reply.json()
    assert "password" not in reply.text and "password_hash" not in reply.text
    login = stack.http.post("/users/login", json={"email": "ada@example.com", "password": "nope"})
    assert login.status_code == 401
    login = stack.http.post(
        "/users/login", json={"email": "ada@example.com", "password": "correct horse"}
    )
    assert login.status_code == 200, login.text
    stack.token = login.json()["access_token"]
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", stack.token)  # a signed JWT
    product = stack.http.post(
        "/api/products", json={"name": "Lamp", "data": {"price": 12}}, headers=stack.auth()
    )
    assert product.status_code == 201, product.text

    # The second read of the list is a hit, counted by the cache server itself.
    cache = stack.redis_of("cache")
    before = cache.info("stats")
    first = stack.http.get("/api/products", headers=stack.auth())
    middle = cache.info("stats")
    second = stack.http.get("/api/products", headers=stack.auth())
    after = cache.info("stats")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert [p["name"] for p in second.json()["items"]] == ["Lamp"]
    assert middle["keyspace_misses"] - before["keyspace_misses"] == 1
    assert middle["keyspace_hits"] == before["keyspace_hits"]
    assert after["keyspace_hits"] - middle["keyspace_hits"] == 1
    assert after["keyspace_misses"] == middle["keyspace_misses"]

    body = {"user_id": user["id"], "product_id": product.json()["id"], "data": {"amount": 12}}
    order = stack.http.post("/api/orders", json=body, headers=stack.auth())
    assert order.status_code == 201, order.text
    placed = order.json()
    assert placed["user_id"] == user["id"] and placed["data"]["calls"]["create_payment"]
    sandbox = httpx.get(stack.url("payment_provider") + "/_sandbox").json()
    assert sandbox["requests"] == 1
    mail = _wait(lambda: [m for m in stack.mail() if m["subject"] == f"OrderPlaced {placed['id']}"])
    assert len(mail) == 1 and f'"product_id": {body["product_id"]}' in mail[0]["body"]
    assert stack.http.get(f"/api/orders/{placed['id']}", headers=stack.auth()).status_code == 200


def test_requests_without_a_token_get_401(stack: Stack) -> None:
    for method, path in (
        ("GET", "/api/products"),
        ("POST", "/api/orders"),
        ("GET", "/api/orders/1"),
    ):
        reply = stack.http.request(method, path, json={})
        assert reply.status_code == 401, (method, path, reply.text)
    bad = stack.http.get("/api/products", headers={"authorization": "Bearer not.a.token"})
    assert bad.status_code == 401


def test_sign_up_and_log_in_through_the_gateway_without_a_token(stack: Stack) -> None:
    """Issue 14: the gateway's sign-up and login routes are public in the model (no token
    check), so a new user gets a token through the front door, and the token works there."""
    who = {"name": "Grace", "email": "grace@example.com", "password": "battery staple"}
    assert stack.http.post("/api/users", json=who).status_code == 201
    login = stack.http.post("/api/users/login", json={k: who[k] for k in ("email", "password")})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    reply = stack.http.get("/api/products", headers={"authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    assert stack.http.get("/api/users").status_code == 401  # only those two are public


def test_malformed_bodies_get_422(stack: Stack) -> None:
    for body in ({"user_id": "x", "product_id": 1}, {"product_id": 1}, {"user_id": -1}):
        assert stack.http.post("/api/orders", json=body, headers=stack.auth()).status_code == 422
    raw = stack.http.post(
        "/api/orders",
        content=b"{oops",
        headers={**stack.auth(), "content-type": "application/json"},
    )
    assert raw.status_code == 422
    assert (
        stack.http.post(
            "/users", json={"name": "x", "email": "nope", "password": "short"}
        ).status_code
        == 422
    )
    # A reference to something that does not exist is the caller's mistake too.
    missing = {"user_id": 999_999, "product_id": 1}
    assert stack.http.post("/api/orders", json=missing, headers=stack.auth()).status_code == 422


def test_nothing_half_written_when_payment_fails(stack: Stack) -> None:
    sandbox = stack.url("payment_provider") + "/_sandbox"
    orders_before = stack.http.get("/api/orders", headers=stack.auth()).json()["items"]
    mail_before = len(stack.mail())
    httpx.put(sandbox, json={"failure_rate": 1.0})
    try:
        body = {"user_id": 1, "product_id": 1}
        reply = stack.http.post("/api/orders", json=body, headers=stack.auth())
        assert reply.status_code == 502, reply.text
    finally:
        httpx.put(sandbox, json={"failure_rate": 0.0})
    time.sleep(0.5)  # an event, had one been published, would be consumed by now
    assert stack.http.get("/api/orders", headers=stack.auth()).json()["items"] == orders_before
    assert len(stack.mail()) == mail_before


def test_broker_redelivers_to_a_restarted_consumer_exactly_once(stack: Stack) -> None:
    launcher.stop_component(stack.dir, "notification_service")
    before = set(_order_ids(stack.mail()))
    placed = []
    for _ in range(20):
        reply = stack.http.post(
            "/api/orders", json={"user_id": 1, "product_id": 1}, headers=stack.auth()
        )
        assert reply.status_code == 201, reply.text
        placed.append(str(reply.json()["id"]))
    assert not set(_order_ids(stack.mail())) - before  # nobody consumed while it was down
    launcher.start_component(stack.dir, "notification_service")
    _wait(lambda: set(placed) <= set(_order_ids(stack.mail())), timeout=30)
    time.sleep(2.5)  # past the redelivery interval: a duplicate would show up now
    new = [i for i in _order_ids(stack.mail()) if i not in before]
    assert sorted(new, key=int) == sorted(placed, key=int)  # exactly 20, none twice


def _served(url: str) -> float:
    text = httpx.get(url + "/metrics").text
    pattern = r'archsim_requests_total\{.*operation="get_product".*status="200"\} ([0-9.e+]+)'
    return sum(float(v) for v in re.findall(pattern, text))


def test_registry_spreads_and_fails_over(stack: Stack) -> None:
    registry = stack.url("service_registry") + "/services/product_service"
    assert len(httpx.get(registry).json()["instances"]) == 2
    one, two = stack.url("product_service", 1), stack.url("product_service", 2)
    base = (_served(one), _served(two))
    for _ in range(40):
        assert stack.http.get("/api/products/1", headers=stack.auth()).status_code == 200
    spread = (_served(one) - base[0], _served(two) - base[1])
    assert spread[0] > 0 and spread[1] > 0 and sum(spread) == 40

    victim = next(i for i in stack.state["instances"] if i["instance"] == "product_service-2")
    os.killpg(int(victim["pid"]), signal.SIGKILL)  # a crash: no deregistration
    launcher.instance_alive(int(victim["pid"]))
    for _ in range(40):  # well within the heartbeat TTL
        reply = stack.http.get("/api/products/1", headers=stack.auth())
        assert reply.status_code == 200, reply.text
    _wait(lambda: len(httpx.get(registry).json()["instances"]) == 1, timeout=10)
    assert httpx.get(registry).json()["instances"][0]["url"] == one
