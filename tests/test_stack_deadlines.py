"""Time budgets line up (issue 10, item 2), on the real seed stack: a call's budget travels in
``x-archsim-budget-ms`` from the front door down, each hop waits for a resource no longer than
its caller waits for it, and work whose budget ran out is not committed.

The probe of the issue: the order database locked for longer than the call timeout. Before,
the client saw 502s while the order service went on waiting (SQLite busy timeout 15 s > call
timeout 5 s) and wrote the orders, their events and e-mails afterwards."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from archsim.runtime.context import BUDGET_HEADER, enter_request, remaining


class Shop:
    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.http = httpx.Client(base_url=state["front_door"], timeout=30)
        user = {"name": "Ann", "email": "ann@example.com", "password": "pass phrase 2"}
        created = self.http.post("/users", json=user)
        login = self.http.post(
            "/users/login", json={"email": user["email"], "password": "pass phrase 2"}
        )
        self.auth = {"authorization": f"Bearer {login.json()['access_token']}"}
        product = self.http.post(
            "/api/products", json={"name": "Mug", "data": {"price": 4}}, headers=self.auth
        )
        self.body = {
            "user_id": created.json()["id"],
            "product_id": product.json()["id"],
            "data": {"amount": 4},
        }
        self.order_db = state["resources"]["ARCHSIM_URL_ORDER_DB"].removeprefix("sqlite:///")

    def url(self, component: str) -> str:
        return next(i["url"] for i in self.state["instances"] if i["component"] == component)

    def order(self, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(
            "/api/orders", json=self.body, headers={**self.auth, **(headers or {})}
        )

    def orders(self) -> int:
        with sqlite3.connect(self.order_db, timeout=30) as db:
            return int(db.execute("SELECT count(*) FROM orders").fetchone()[0])

    def mails(self) -> int:
        messages = httpx.get(self.url("email_service") + "/messages", timeout=5).json()["messages"]
        return sum(1 for m in messages if m["subject"].startswith("OrderPlaced"))


@pytest.fixture(scope="module")
def shop(seed_shop: tuple[Path, dict[str, Any]]) -> Shop:
    """The session's seed stack (tests/conftest.py; ``ARCHSIM_REDELIVER_S`` 2 s, hashing
    lowered): the tests count what their own orders change."""
    return Shop(seed_shop[1])


def _settle(shop: Shop, seconds: float = 4.0) -> tuple[int, int]:
    """Orders and e-mails once late work would have landed (bounded wait, then a count)."""
    time.sleep(seconds)
    return shop.orders(), shop.mails()


def test_an_order_still_works(shop: Shop) -> None:
    reply = shop.order()
    assert reply.status_code == 201, reply.text


def test_a_locked_order_database_commits_nothing_the_client_saw_fail(shop: Shop) -> None:
    before = _settle(shop, 1.0)
    lock = sqlite3.connect(shop.order_db, timeout=30)
    lock.execute("BEGIN IMMEDIATE")  # another writer holds the file
    try:
        statuses = [shop.order().status_code for _ in range(3)]
        time.sleep(3)  # longer than the order service's budget, shorter than its old 15 s
    finally:
        lock.rollback()
        lock.close()
    assert all(s >= 500 for s in statuses), statuses
    # the old behaviour wrote these orders (and their events) once the lock was gone
    assert _settle(shop) == before


def test_an_expired_budget_at_the_front_door_does_nothing(shop: Shop) -> None:
    before = _settle(shop, 1.0)
    reply = shop.order({BUDGET_HEADER: "1"})
    assert reply.status_code == 504, reply.text
    assert "deadline" in reply.text
    assert _settle(shop) == before


def test_the_budget_header_sets_the_deadline() -> None:
    async def inside() -> tuple[float | None, float | None]:
        enter_request([(BUDGET_HEADER.encode(), b"1500")])
        given = remaining()
        enter_request([])
        return given, remaining()

    given, none = asyncio.run(inside())
    assert given is not None and 0 < given <= 1.5
    assert none is None
