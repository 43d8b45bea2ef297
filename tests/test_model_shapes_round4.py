"""Round 4 of the drawing shapes: route labels with a method that sends a body or a parameter
mid-path (rule service.route), a client's route label to a gateway, and architectures users
bring (tests/model_shapes/: a workflow engine, a GraphQL federation gateway, a chat backend
with presence, an Airflow pipeline).

Each test is a DOT snippet drawn as its author would; docs/behaviour.md states the rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archsim.model import Architecture, Operation, OpKind, read_architecture

SHAPES = Path(__file__).parent / "model_shapes"


def _arch(text: str) -> Architecture:
    return read_architecture(text, "shape.dot").architecture


def _calls(arch: Architecture, component: str, name: str) -> list[tuple[str | None, str | None]]:
    op = next(o for o in arch.behaviour.operations if o.component == component and o.name == name)
    return [(s.target, s.operation) for s in op.steps if s.action.value == "call"]


def _op(arch: Architecture, component: str, name: str) -> Operation:
    return next(o for o in arch.behaviour.operations if o.component == component and o.name == name)


# -- rule service.route: methods with a body, a parameter anywhere --------------------------

_SHOP = (
    'digraph g { web -> shop; shop -> db [label="stores in"]; '
    'shop -> carts [label="PUT /carts/{id}"]; carts -> cdb [label="stores in"]; '
    'shop -> members [label="GET /members/{id}/orders"]; members -> mdb [label="stores in"]; '
    'shop -> items [label="DELETE /items/:id"]; items -> idb [label="stores in"]; }'
)


@pytest.mark.parametrize(
    ("callee", "name", "kind", "method", "path"),
    [
        ("carts", "update_cart", OpKind.WRITE, "PUT", "/carts/{id}"),
        ("members", "list_member_orders", OpKind.LIST, "GET", "/members/{id}/orders"),
        ("items", "delete_item", OpKind.WRITE, "DELETE", "/items/{id}"),
    ],
)
def test_a_route_with_its_id_anywhere_calls_that_route(
    callee: str, name: str, kind: OpKind, method: str, path: str
):
    arch = _arch(_SHOP)
    assert (callee, name) in _calls(arch, "shop", "create_shop")  # before: the default op
    op = _op(arch, callee, name)
    assert (op.kind, op.method, op.path, op.rule) == (kind, method, path, "service.route")
    assert op.weight == 0  # only its callers reach it
    # it does what the callee's operation of its kind does: reads or writes the callee's data
    assert [s.target for s in op.steps if s.action.value == "query"] == [
        {"carts": "cdb", "members": "mdb", "items": "idb"}[callee]
    ]


def test_the_generated_caller_puts_the_id_in_the_path():
    from archsim.codegen import render

    files = render(_arch(_SHOP))
    app = files["services/shop/app.py"]
    for url in ("f'/carts/{ref}'", "f'/members/{ref}/orders'", "f'/items/{ref}'"):
        assert url in app
    assert "@app.put(\n    '/carts/{id}'," in files["services/carts/app.py"]


# -- a client's route label to a gateway ----------------------------------------------------


def test_a_client_route_label_to_a_gateway_sends_that_route_only():
    arch = _arch(
        'digraph g { app [kind=client]; app -> gw [label="GET /api/products"]; '
        "gw [kind=gateway]; "
        'gw -> products [label="routes to"]; gw -> orders [label="routes to"]; '
        'products -> pdb [label="stores in"]; orders -> odb [label="stores in"]; }'
    )
    entries = arch.behaviour.entries
    assert [(e.method, e.path, e.hops) for e in entries] == [
        ("GET", "/api/products", ("gw", "products"))
    ]
    assert entries[0].weight == pytest.approx(1.0)


def test_a_client_route_label_no_gateway_route_matches_keeps_the_whole_mix():
    arch = _arch(
        'digraph g { app [kind=client]; app -> gw [label="GET /api/basket"]; '
        'gw [kind=gateway]; gw -> products [label="routes to"]; '
        'products -> pdb [label="stores in"]; }'
    )
    assert len(arch.behaviour.entries) == 3  # get, list and create products


# -- a call into a gateway with one component behind it --------------------------------------


def test_a_call_into_a_gateway_asks_for_its_route_of_the_component_behind():
    arch = _arch(
        'digraph g { web -> api; api -> db [label="stores in"]; '
        'frontend [label="Temporal Frontend (gRPC gateway)"]; api -> frontend; '
        'frontend -> history; history -> pdb [label="stores in"]; }'
    )
    assert ("frontend", "get_history") in _calls(arch, "api", "create_api")
    assert _op(arch, "frontend", "get_history").rule == "gateway.route"


# -- a worker that polls for its work (rule entry.schedule) ---------------------------------


@pytest.mark.parametrize("label", ["PollWorkflowTaskQueue", "long-poll", "polls for jobs"])
def test_a_worker_nothing_calls_that_polls_runs_on_its_own_loop(label: str):
    arch = _arch(
        'digraph g { web -> api; api -> db [label="stores in"]; '
        f'worker -> api [label="{label}"]; worker -> pay [label="charge"]; '
        'pay [shape=component, label="Payment provider (external)"]; }'
    )
    doors = [e for e in arch.behaviour.entries if e.hops[0] == "worker"]
    assert doors and all("a poll loop" in e.reason for e in doors)
    assert sum(e.weight for e in doors) == pytest.approx(0.05)


def test_a_called_service_whose_call_says_poll_is_no_job():
    arch = _arch(
        'digraph g { web -> api; api -> db [label="stores in"]; '
        'api -> status [label="poll status"]; status -> sdb [label="stores in"]; }'
    )
    assert {e.hops[0] for e in arch.behaviour.entries} == {"api"}


# -- a sidecar's route that names its target ------------------------------------------------


def test_a_sidecar_state_route_writes_the_store_and_does_not_call_back_the_app():
    result = read_architecture((SHAPES / "dapr-sidecars.dot").read_text(), "dapr.dot")
    assert not [d for d in result.diagnostics if d.severity.value == "error"]
    arch = result.architecture
    assert arch.component("statestore").kind.value == "database"  # Dapr's Redis state store
    state = _op(arch, "node_daprd", "create_state_statestore")
    assert [(s.action.value, s.target) for s in state.steps] == [
        ("compute", None),
        ("query", "statestore"),
    ]
    # the app's handler still saves through its sidecar
    assert ("node_daprd", "create_state_statestore") in _calls(arch, "nodeapp", "create_neworder")


# -- the round's files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["temporal-workflow", "airflow-celery", "dapr-sidecars", "multi-region-failover"]
)
def test_the_round_4_files_are_valid_with_entries_nowhere_but_doors(name: str):
    result = read_architecture((SHAPES / f"{name}.dot").read_text(), f"{name}.dot")
    assert not [d for d in result.diagnostics if d.severity.value == "error"]
    arch = result.architecture
    assert arch.behaviour.entries
    assert all(arch.component(e.hops[0]).kind.value != "client" for e in arch.behaviour.entries)


def test_airflow_dag_folder_is_a_store_and_the_worker_runs_the_queued_tasks():
    arch = read_architecture((SHAPES / "airflow-celery.dot").read_text(), "a.dot").architecture
    assert arch.component("dags").kind.value == "database"  # shape=folder
    handler = next(o for o in arch.behaviour.operations if o.component == "worker" and o.trigger)
    targets = {s.target for s in handler.steps}
    assert {"orders_api", "warehouse", "metadata"} <= targets


def test_temporal_worker_polls_and_charges_the_payment_provider():
    arch = read_architecture((SHAPES / "temporal-workflow.dot").read_text(), "t.dot").architecture
    doors = [e for e in arch.behaviour.entries if e.hops[0] == "order_worker"]
    assert doors
    op = next(o for o in arch.behaviour.operations if o.ref == doors[0].target)
    assert ("payments", "request") in [(s.target, s.operation) for s in op.steps]


def test_a_routed_list_on_a_service_keeping_nothing_generates_no_missing_schema():
    from archsim.codegen import render

    files = render(_arch('digraph g { user [kind=client]; user -> app [label="GET /order"]; }'))
    app = files["services/app/app.py"]
    assert "@app.get(\n    '/order',\n    response_model=None," in app
    assert "AppList" not in app


# -- rule load_balancer.failover ------------------------------------------------------------


def test_route53_failover_sends_everything_to_the_primary_region():
    arch = read_architecture(
        (SHAPES / "multi-region-failover.dot").read_text(), "m.dot"
    ).architecture
    # a balancer by name; its edges are calls, so by deeds a proxy that routes (a gateway)
    assert arch.component("route53").kind.value in ("load_balancer", "gateway")
    entries = arch.behaviour.entries
    assert entries and all(e.hops[:2] == ("route53", "primary_alb") for e in entries)
    assert sum(e.weight for e in entries) == pytest.approx(1.0)
    # the standby region is derived all the same: a failover has somewhere to go
    assert any(o.component == "standby_api" for o in arch.behaviour.operations)


@pytest.mark.parametrize("label", ["backup", "failover", "on health check failure"])
def test_a_standby_sibling_takes_no_share(label: str):
    arch = _arch(
        "digraph g { lb [kind=load_balancer]; "
        f'lb -> a [label="distributes to"]; lb -> b [label="{label}"]; '
        'a -> adb [label="stores in"]; b -> bdb [label="stores in"]; }'
    )
    assert {e.hops[1] for e in arch.behaviour.entries} == {"a"}


def test_a_weight_on_the_standby_link_still_wins():
    arch = _arch(
        "digraph g { lb [kind=load_balancer]; "
        'lb -> a [weight=3]; lb -> b [label="backup", weight=1]; '
        'a -> adb [label="stores in"]; b -> bdb [label="stores in"]; }'
    )
    share = {h: sum(e.weight for e in arch.behaviour.entries if e.hops[1] == h) for h in "ab"}
    assert share["b"] == pytest.approx(0.25)
