"""Multi-step writes are consistent (issue 10, item 3), on the real seed stack: the order is a
saga (charge, then write; the model says ``payment_service.cancel_payment`` undoes the charge)
and its event goes through a transactional outbox.

The probe of the issue: the order database locked while orders come in. The client sees them
fail; afterwards there is no order, no event and no e-mail for them, and each of their charges
at the provider sandbox is refunded. Over the whole run: no charge without an order or a refund.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from archsim.runtime import launcher


class Shop:
    def __init__(self, directory: Path, state: dict[str, Any]) -> None:
        self.dir, self.state = directory, state
        self.http = httpx.Client(base_url=state["front_door"], timeout=30)
        user = {"name": "Bo", "email": "bo@example.com", "password": "pass phrase 3"}
        created = self.http.post("/users", json=user)
        login = self.http.post(
            "/users/login", json={"email": user["email"], "password": user["password"]}
        )
        self.auth = {"authorization": f"Bearer {login.json()['access_token']}"}
        product = self.http.post(
            "/api/products", json={"name": "Pan", "data": {"price": 7}}, headers=self.auth
        )
        self.body = {
            "user_id": created.json()["id"],
            "product_id": product.json()["id"],
            "data": {"amount": 7},
        }
        self.order_db = state["resources"]["ARCHSIM_URL_ORDER_DB"].removeprefix("sqlite:///")

    def url(self, component: str) -> str:
        return next(i["url"] for i in self.state["instances"] if i["component"] == component)

    def order(self) -> httpx.Response:
        return self.http.post("/api/orders", json=self.body, headers=self.auth)

    def counts(self) -> dict[str, int]:
        """Orders, staged events, e-mails, charges and refunds, as the parts themselves say."""
        with sqlite3.connect(self.order_db, timeout=30) as db:
            orders = int(db.execute("SELECT count(*) FROM orders").fetchone()[0])
            staged = int(db.execute("SELECT count(*) FROM archsim_outbox").fetchone()[0])
        messages = httpx.get(self.url("email_service") + "/messages", timeout=5).json()["messages"]
        ledger = httpx.get(self.url("payment_provider") + "/_sandbox/ledger", timeout=5).json()
        return {
            "orders": orders,
            "staged": staged,
            "mails": sum(1 for m in messages if m["subject"].startswith("OrderPlaced")),
            "charges": len(ledger["charges"]),
            "refunds": len(ledger["refunds"]),
            "kept": sum(1 for c in ledger["charges"] if c["refunded_by"] is None),
        }

    def settled(self, timeout: float = 20.0) -> dict[str, int]:
        """The counts once every committed order's e-mail is in (bounded), after a pause for
        late work the old code would have done."""
        time.sleep(3)
        deadline = time.monotonic() + timeout
        counts = self.counts()
        while counts["mails"] < counts["orders"] and time.monotonic() < deadline:
            time.sleep(0.3)
            counts = self.counts()
        return counts


@pytest.fixture(scope="module")
def shop(seed_shop: tuple[Path, dict[str, Any]]) -> Shop:
    """The session's seed stack (tests/conftest.py; ``ARCHSIM_REDELIVER_S`` 2 s, hashing
    lowered), which test_stack_deadlines uses too: every test counts from what it found."""
    return Shop(*seed_shop)


def _no_charge_without_order_or_refund(counts: dict[str, int]) -> None:
    assert counts["kept"] == counts["orders"], counts  # one charge per order, the rest refunded
    assert counts["charges"] == counts["orders"] + counts["refunds"], counts
    assert counts["mails"] == counts["orders"] and counts["staged"] == 0, counts


def _compensated(shop: Shop) -> int:
    """Compensations the order service has logged (each undone charge of a failed order)."""
    log = (shop.dir / ".archsim" / "logs" / "order_service-1.log").read_text()
    return log.count('"event": "compensated"')


def test_orders_charge_once_and_mail_once(shop: Shop) -> None:
    before = shop.settled()
    for _ in range(3):
        assert shop.order().status_code == 201
    counts = shop.settled()
    assert counts["orders"] - before["orders"] == 3, counts
    assert counts["refunds"] == before["refunds"], counts
    _no_charge_without_order_or_refund(counts)


def test_a_locked_order_database_refunds_every_charge_of_a_failed_order(shop: Shop) -> None:
    before = shop.settled()
    compensated = _compensated(shop)
    lock = sqlite3.connect(shop.order_db, timeout=30)
    lock.execute("BEGIN IMMEDIATE")
    try:
        statuses = [shop.order().status_code for _ in range(3)]
        time.sleep(2)
    finally:
        lock.rollback()
        lock.close()
    assert all(s >= 500 for s in statuses), statuses
    after = shop.settled()
    # no order, event or e-mail for what the client saw fail; its charges are refunded
    assert after["orders"] == before["orders"] and after["mails"] == before["mails"], after
    assert after["charges"] - before["charges"] == 3, after
    assert after["refunds"] - before["refunds"] == 3, after
    _no_charge_without_order_or_refund(after)
    assert _compensated(shop) - compensated == 3


def test_an_order_placed_while_the_broker_is_down_still_gets_its_event(shop: Shop) -> None:
    """The outbox: the order's row committed, so its event exists; the relay sends it once
    the broker is back."""
    before = shop.settled()
    live = launcher.read_state(shop.dir) or shop.state  # pids as they are now
    broker = next(i for i in live["instances"] if i["component"] == "message_broker")
    os.killpg(int(broker["pid"]), signal.SIGKILL)
    try:
        replies = [shop.order() for _ in range(2)]
        assert [r.status_code for r in replies] == [201, 201], [r.text for r in replies]
        assert shop.counts()["staged"] >= 1  # waiting in the outbox beside the rows
    finally:
        launcher.start_component(shop.dir, "message_broker")
    after = shop.settled(timeout=30)
    assert after["orders"] == before["orders"] + 2, after
    _no_charge_without_order_or_refund(after)
