"""A second architecture, not the seed (quoted hyphenated ids, a cluster, no load balancer,
registry or cache): generated, started on loopback and driven through its gateway."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from archsim.codegen import apply_writes, plan_writes, render
from archsim.model import load
from archsim.runtime import launcher

LIBRARY = Path(__file__).resolve().parent / "stack_models" / "library.dot"


def test_library_platform_serves_a_request_end_to_end(tmp_path: Path) -> None:
    arch = load(LIBRARY).architecture
    files = render(arch)
    assert "services/loan_svc/app.py" in files and "services/edge_proxy/app.py" in files
    apply_writes(plan_writes(tmp_path, files))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    try:
        state = launcher.up(tmp_path, env=env, timeout_s=120)
        assert state["front_door_component"] == "edge-proxy"
        urls = {i["component"]: i["url"] for i in state["instances"]}
        token = httpx.post(
            urls["id-provider"] + "/tokens",
            json={"subject": "librarian"},
            headers={"authorization": launcher.client_authorization(tmp_path, "client")},
        )
        assert token.status_code == 201, token.text
        auth = {"authorization": f"Bearer {token.json()['access_token']}"}
        http = httpx.Client(base_url=state["front_door"], timeout=15)
        assert http.post("/api/catalogs", json={"name": "Dune"}).status_code == 401
        book = http.post("/api/catalogs", json={"name": "Dune"}, headers=auth)
        assert book.status_code == 201, book.text
        loan = http.post("/api/loans", json={"catalog_id": book.json()["id"]}, headers=auth)
        assert loan.status_code == 201, loan.text
        assert loan.json()["data"]["calls"]["get_catalog"] == book.json()["id"]
        assert http.post("/api/loans", json={"catalog_id": 424242}, headers=auth).status_code == 422
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # LoanCreated → audit-svc writes a row
            items = httpx.get(urls["audit-svc"] + "/audits").json()["items"]
            if items:
                break
            time.sleep(0.1)
        assert len(items) == 1 and items[0]["name"] == "LoanCreated"
        assert items[0]["data"]["event"]["catalog_id"] == book.json()["id"]
    finally:
        launcher.down(tmp_path)


def test_components_named_with_spaces_start(tmp_path: Path) -> None:
    """Quoted ids with spaces ("Event Bus", "Location Cache") are processes and data dirs too:
    Valkey's config could not hold the space (found on tests/model_shapes/ride-hailing.dot)."""
    from stack_run import running_stack

    model = tmp_path / "spaced.dot"
    model.write_text(
        'digraph g { "Trip Service"; "Event Bus" [label="Event Bus (Kafka)"];'
        ' "Location Cache" [label="Redis"]; "Trips DB" [shape=cylinder];'
        ' "Trip Service" -> "Trips DB"; "Trip Service" -> "Location Cache";'
        ' "Trip Service" -> "Event Bus" [label="TripRequested"]; }'
    )
    with running_stack(model, tmp_path / "stack") as front:
        created = httpx.post(front + "/trips", json={"name": "x"}, timeout=15)
        assert created.status_code == 201, created.text
        assert httpx.get(front + f"/trips/{created.json()['id']}", timeout=15).status_code == 200


def test_a_cache_backed_stack_starts_in_a_directory_with_spaces(tmp_path: Path) -> None:
    """A project path with a space (``~/My Projects``) reaches Valkey's data directory, the
    SQLite file and PYTHONPATH: the stack comes up and serves a read through its cache."""
    from stack_run import running_stack

    model = tmp_path / "shop.dot"
    model.write_text(
        "digraph g { product_service; product_cache [label=Redis];"
        " product_db [shape=cylinder]; product_service -> product_db [label=\"stores in\"];"
        " product_service -> product_cache [label=\"caches in\"]; }"
    )
    with running_stack(model, tmp_path / "My Projects" / "shop stack") as front:
        created = httpx.post(front + "/products", json={"name": "x"}, timeout=15)
        assert created.status_code == 201, created.text
        for _ in range(2):  # a miss fills the cache, the second read is a hit
            read = httpx.get(front + f"/products/{created.json()['id']}", timeout=15)
            assert read.status_code == 200, read.text


def test_a_call_through_a_kubernetes_service_reaches_the_workload(tmp_path: Path) -> None:
    """tests/model_shapes/kubernetes.dot: web calls api through its Service (a load balancer);
    the call is a read of one api row, so it must send that row's id (it sent the builtin
    ``id`` before: 422 from the api, 502 at the front door)."""
    from stack_run import running_stack

    model = Path(__file__).resolve().parent / "model_shapes" / "kubernetes.dot"
    with running_stack(model, tmp_path / "stack") as front:
        created = httpx.post(front + "/webs", json={"reference": "r-1", "api_id": 2}, timeout=15)
        assert created.status_code == 201, created.text
