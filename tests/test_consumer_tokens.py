"""Rule consume.token: an event carries no caller's token, so a handler that calls a service
which checks tokens first gets a token of its own from the auth service; and what a handler
reads is seeded (the event may not carry the id). Checked in the model and in a real stack."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stack_run import running_stack

from archsim.codegen.generator import token_clients
from archsim.model import StepAction, load
from archsim.model.dataflow import seeded_components

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "tests" / "stack_models" / "guarded-consumer.dot"


def test_the_handler_gets_a_token_before_calling_a_guarded_service() -> None:
    arch = load(MODEL).architecture
    (handler,) = arch.behaviour.operations_of("shipper")
    calls = [(s.target, s.operation) for s in handler.steps if s.action is StepAction.CALL]
    assert calls == [("auth", "issue_token"), ("stock", "get_stock")]
    assert "shipper" in token_clients(arch, "auth")  # the launcher gives it a credential
    assert "stock" in seeded_components(arch)  # created at the front door, yet seeded


def test_a_handler_calling_an_unguarded_service_mints_nothing() -> None:
    text = MODEL.read_text().replace('stock -> auth [label="validates with"];', "")
    from archsim.model.loader import read_architecture

    arch = read_architecture(text).architecture
    (handler,) = arch.behaviour.operations_of("shipper")
    assert all(s.operation != "issue_token" for s in handler.steps)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    directory = tmp_path_factory.mktemp("guarded-consumer")
    # sign-up speed is not the subject here: hash with 1,000 rounds
    with running_stack(MODEL, directory, ARCHSIM_PBKDF2_ROUNDS="1000") as front:
        yield directory, front


def _log(directory: Path) -> list[dict[str, object]]:
    lines = []
    for log in (directory / ".archsim" / "logs").glob("shipper*.log"):
        for line in log.read_text().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
    return lines


def test_events_reach_the_guarded_service_with_the_handlers_token(
    stack: tuple[Path, str],
) -> None:
    directory, front = stack
    http = httpx.Client(base_url=front, timeout=15)
    me = {"email": "shipper-test@example.org", "password": "pw"}
    assert http.post("/api/accounts", json=me).status_code == 201
    token = http.post("/api/accounts/login", json=me).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(3):
        assert http.post("/api/orders", json={"name": f"o{i}"}, headers=headers).status_code == 201
    deadline = time.monotonic() + 30  # bounded: the events are consumed within seconds
    while time.monotonic() < deadline and _consumed_count(directory) < 3:
        time.sleep(0.5)
    assert _consumed_count(directory) >= 3
    entries = _log(directory)
    assert not [e for e in entries if e.get("event") == "call_failed"], entries
    assert not [e for e in entries if "handler failed" in str(e.get("msg", ""))]


def _consumed_count(directory: Path) -> float:
    """OrderPlaced events the shipper handled, from its /metrics (``archsim_events_total``)."""
    state = json.loads((directory / ".archsim" / "state.json").read_text())
    url = next(i["url"] for i in state["instances"] if i["component"] == "shipper")
    total = 0.0
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith("archsim_events_total{") and 'outcome="consumed"' in line:
            total += float(line.split()[-1])
    return total
