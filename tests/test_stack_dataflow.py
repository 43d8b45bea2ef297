"""Identifiers flow through a generated stack, really started: a checkout acts on another
service's resource (its cart, created through the front door) and asks shipping to act on an
inventory item nothing at the front door creates (seeded at start-up). Every request answers
2xx through the front door; a missing id is a 422 naming the step; the generated locustfile
creates before it reads and its run has no failed request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stack_run import run_loadtest, running_stack

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "tests" / "stack_models" / "checkout.dot"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    directory = tmp_path_factory.mktemp("checkout")
    with running_stack(MODEL, directory) as front:
        yield directory, front


def test_checkout_acts_on_its_cart_and_a_seeded_item(stack: tuple[Path, str]) -> None:
    _, front = stack
    http = httpx.Client(base_url=front, timeout=15)
    cart = http.post("/api/carts", json={"name": "mine"})
    assert cart.status_code == 201, cart.text
    body = {"reference": "r-1", "amount": 9.5, "cart_id": cart.json()["id"], "inventory_id": 3}
    checkout = http.post("/api/checkouts", json=body)
    assert checkout.status_code == 201, checkout.text
    calls = checkout.json()["calls"]
    assert calls["get_cart"]["id"] == cart.json()["id"]
    assert calls["create_shipping"]["calls"]["get_inventory"]["id"] == 3  # a seeded row
    assert http.get("/api/carts/" + str(cart.json()["id"])).status_code == 200


def test_a_missing_or_unknown_id_is_a_422_not_a_502(stack: tuple[Path, str]) -> None:
    _, front = stack
    http = httpx.Client(base_url=front, timeout=15)
    missing = http.post("/api/checkouts", json={"reference": "r", "inventory_id": 3})
    assert missing.status_code == 422 and "cart_id" in missing.text
    unknown = {"reference": "r", "cart_id": 987654, "inventory_id": 3}
    reply = http.post("/api/checkouts", json=unknown)
    assert reply.status_code == 422 and "/carts/987654 not found" in reply.text


def test_generated_locustfile_run_has_no_failures(stack: tuple[Path, str], tmp_path: Path):
    directory, _ = stack
    args = ["--users", "3", "--duration", "5s", "--warmup", "1s", "--think", "const(0.05s)"]
    result = run_loadtest(directory, tmp_path, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["total"]["failures"] == 0
    assert set(summary["endpoints"]) == set(summary["entries_model"])
    logs = "".join(p.read_text() for p in (directory / ".archsim" / "logs").glob("*.log"))
    assert "handler failed" not in logs  # the mailer took every checkout event


def test_the_callers_token_travels_on_and_not_into_events() -> None:
    from archsim.runtime.context import enter_request, outbound_headers, set_context

    enter_request([(b"authorization", b"Bearer abc"), (b"x-request-id", b"r1")])
    assert outbound_headers()["authorization"] == "Bearer abc"  # a service it calls may check it
    set_context("event-1", None)
    assert "authorization" not in outbound_headers()
