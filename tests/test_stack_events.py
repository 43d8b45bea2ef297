"""Events are never lost and never applied twice (issue 10, item 1), on the real seed stack:
the broker killed with SIGKILL and restarted, a consumer down across ``archsim down``/``up``,
and the consumer killed with SIGKILL in the middle of bursts of orders. Every order the client
saw succeed gets exactly one e-mail (``OrderPlaced`` → notification_service → SMTP sink).

Bounded for a 2-core machine: 10 bursts of 8 orders, waits of at most 30 s."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData

from archsim.codegen import apply_writes, plan_writes, render
from archsim.model import load
from archsim.runtime import launcher
from archsim.runtime.db import Database, first_delivery, inbox_table
from archsim.runtime.mail import send_mail
from archsim.runtime.ports import free_port

SEED = Path(__file__).resolve().parent.parent / "topology.dot"
ENV = {
    "ARCHSIM_HEARTBEAT_S": "0.5",
    "ARCHSIM_REGISTRY_TTL_S": "2",
    "ARCHSIM_LOOKUP_TTL_S": "1",
    "ARCHSIM_REDELIVER_S": "2",
    "ARCHSIM_PBKDF2_ROUNDS": "1000",
}
DELIVERY_S = 30.0


class Shop:
    """The running seed stack, a signed-in user and a product to order."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.dir, self.env = directory, env
        self.state: dict[str, Any] = {}
        self.headers: dict[str, str] = {}
        self.body: dict[str, Any] = {}

    def up(self) -> None:
        self.state = launcher.up(self.dir, env=self.env, timeout_s=120)

    def url(self, component: str) -> str:
        return next(i["url"] for i in self.state["instances"] if i["component"] == component)

    def pid(self, component: str) -> int:
        live = launcher.read_state(self.dir) or self.state
        return next(int(i["pid"]) for i in live["instances"] if i["component"] == component)

    def kill(self, component: str) -> None:
        """SIGKILL the component's process group: no shutdown, no flush, no ack."""
        os.killpg(self.pid(component), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while launcher.instance_alive(self.pid(component)) and time.monotonic() < deadline:
            time.sleep(0.05)

    def sign_in(self) -> None:
        http = httpx.Client(base_url=self.state["front_door"], timeout=15)
        user = {"name": "Eve", "email": "eve@example.com", "password": "pass phrase 1"}
        created = http.post("/users", json=user)
        assert created.status_code == 201, created.text
        login = http.post(
            "/users/login", json={"email": user["email"], "password": "pass phrase 1"}
        )
        self.headers = {"authorization": f"Bearer {login.json()['access_token']}"}
        product = http.post(
            "/api/products", json={"name": "Kettle", "data": {"price": 3}}, headers=self.headers
        )
        assert product.status_code == 201, product.text
        self.body = {"user_id": created.json()["id"], "product_id": product.json()["id"]}

    def order(self) -> int | None:
        """Place one order; its id when the client saw it succeed, else None."""
        try:
            reply = httpx.post(
                self.state["front_door"] + "/api/orders",
                json={**self.body, "data": {"amount": 3}},
                headers=self.headers,
                timeout=15,
            )
        except httpx.HTTPError:
            return None
        return reply.json()["id"] if reply.status_code == 201 else None

    def mailed(self) -> Counter[int]:
        """Order id → e-mails the sink holds for it."""
        messages = httpx.get(self.url("email_service") + "/messages", timeout=5).json()["messages"]
        subjects = [m["subject"] for m in messages if m["subject"].startswith("OrderPlaced")]
        return Counter(int(s.split()[-1]) for s in subjects)

    def await_mail(self, orders: list[int]) -> Counter[int]:
        """The mail counts once every order has one (or after DELIVERY_S)."""
        deadline = time.monotonic() + DELIVERY_S
        while True:
            counts = self.mailed()
            if all(counts[o] for o in orders) or time.monotonic() > deadline:
                return counts
            time.sleep(0.3)

    def ready(self, component: str) -> int:
        try:
            return httpx.get(self.url(component) + "/ready", timeout=5).status_code
        except httpx.HTTPError:
            return 0


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    directory = tmp_path_factory.mktemp("shop")
    apply_writes(plan_writes(directory, render(load(SEED).architecture)))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    running = Shop(directory, {**env, **ENV})
    try:
        running.up()
        running.sign_in()
        yield running
    finally:
        launcher.down(directory)


def _exactly_once(counts: Counter[int], orders: list[int]) -> None:
    lost = [o for o in orders if counts[o] == 0]
    twice = {o: n for o, n in counts.items() if n > 1}
    assert not lost and not twice, f"lost {lost}, duplicated {twice}"


def test_a_broker_restart_loses_nothing_and_the_consumer_resumes(shop: Shop) -> None:
    before = [o for o in (shop.order() for _ in range(10)) if o is not None]
    assert len(before) == 10
    shop.kill("message_broker")
    # while the broker is gone the consumer says it is not ready
    deadline = time.monotonic() + 15
    while shop.ready("notification_service") == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert shop.ready("notification_service") == 503
    launcher.start_component(shop.dir, "message_broker")
    after = [o for o in (shop.order() for _ in range(10)) if o is not None]
    assert len(after) >= 8  # the first calls after the restart may meet a dead connection
    _exactly_once(shop.await_mail(before + after), before + after)
    deadline = time.monotonic() + 15
    while shop.ready("notification_service") != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert shop.ready("notification_service") == 200


def test_events_pending_at_down_are_delivered_after_up(shop: Shop) -> None:
    launcher.stop_component(shop.dir, "notification_service")
    pending = [o for o in (shop.order() for _ in range(5)) if o is not None]
    assert len(pending) == 5
    time.sleep(0.5)
    assert not any(shop.mailed()[o] for o in pending)  # nobody consumed them yet
    launcher.down(shop.dir)
    shop.up()
    _exactly_once(shop.await_mail(pending), pending)


def test_a_consumer_killed_in_bursts_loses_and_repeats_nothing(shop: Shop) -> None:
    placed: list[int] = []
    for _ in range(10):
        burst: list[int | None] = []
        threads = [
            threading.Thread(target=lambda b=burst: b.append(shop.order())) for _ in range(8)
        ]
        for n, thread in enumerate(threads):
            thread.start()
            if n == 4:  # mid-burst: events published, some handled, some not acked
                shop.kill("notification_service")
                launcher.start_component(shop.dir, "notification_service")
        for thread in threads:
            thread.join()
        placed += [o for o in burst if o is not None]
    assert len(placed) >= 70
    counts = shop.await_mail(placed)
    _exactly_once(counts, placed)
    sink = httpx.get(shop.url("email_service") + "/messages", timeout=5).json()
    print(f"{len(placed)} orders, {sink['repeats']} redelivered e-mails kept once")


def test_a_redelivered_mail_is_one_message(tmp_path: Path) -> None:
    """The keyed effect on its own: the same Message-ID twice is one stored message."""
    smtp, http = free_port(), free_port()
    cmd = [sys.executable, "-m", "archsim.runtime.smtp_sink", "--smtp-port", str(smtp)]
    cmd += ["--port", str(http), "--store", str(tmp_path / "mail.jsonl")]
    sink = subprocess.Popen(cmd)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{http}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        for key in ("<e1.svc@t>", "<e1.svc@t>", "<e2.svc@t>"):
            asyncio.run(
                send_mail(
                    f"smtp://127.0.0.1:{smtp}",
                    sender="a@t",
                    to="b@t",
                    subject=key,
                    body="x",
                    headers={"Message-ID": key},
                )
            )
        seen = httpx.get(f"http://127.0.0.1:{http}/messages", timeout=5).json()
        assert [m["subject"] for m in seen["messages"]] == ["<e1.svc@t>", "<e2.svc@t>"]
        assert seen["repeats"] == 1
    finally:
        sink.terminate()
        sink.wait(10)


def test_the_inbox_row_commits_with_the_write_or_not_at_all(tmp_path: Path) -> None:
    metadata = MetaData()
    inbox = inbox_table(metadata)
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}", metadata, pool_size=1)

    async def deliver(fail: bool) -> bool:
        try:
            async with db.engine.begin() as conn:
                first = await first_delivery(conn, inbox, "svc", "e1")
                if fail:
                    raise RuntimeError("the handler's write failed")
                return first
        except RuntimeError:
            return False

    async def scenario() -> list[bool]:
        await db.create_schema()
        # failed, then handled, then a redelivery: only the middle one is a first delivery
        seen = [await deliver(fail=True), await deliver(fail=False), await deliver(fail=False)]
        await db.close()
        return seen

    assert asyncio.run(scenario()) == [False, True, False]
