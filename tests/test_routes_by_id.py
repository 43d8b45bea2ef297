"""A route label's method decides what the callee does to its data (rule service.route): a
PUT or PATCH of one stored item updates that row, a DELETE deletes it, and the caller sends
the id of the row it acts on, as it does for a read."""

from __future__ import annotations

import pytest

from archsim.model import Architecture, Operation, Step, StepAction, read_architecture
from archsim.model.dataflow import derive_dataflow, seeded_components

_SHOP = (
    'digraph g { web -> shop; shop -> db [label="stores in"]; '
    'shop -> items [label="DELETE /items/:id"]; items -> idb [label="stores in"]; '
    'items -> cache [label="caches in"]; cache [kind=cache]; '
    'shop -> carts [label="PUT /carts/{id}"]; carts -> cdb [label="stores in"]; }'
)


def _arch(text: str = _SHOP) -> Architecture:
    return read_architecture(text, "shape.dot").architecture


def _op(arch: Architecture, component: str, name: str) -> Operation:
    return arch.behaviour.operation(component, name)


def _queries(op: Operation) -> list[str | None]:
    return [s.mode for s in op.steps if s.action is StepAction.QUERY]


def test_a_delete_route_deletes_the_row_and_drops_its_cached_copy() -> None:
    op = _op(_arch(), "items", "delete_item")
    assert _queries(op) == ["delete"] and op.changes == "delete" and op.changes_one
    drops = [s.key for s in op.steps if s.action is StepAction.CACHE_DELETE]
    assert drops == ["item:{id}", "items:list"]  # the read's key, then the list's
    assert [s.describe() for s in op.steps][1] == "delete idb"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_put_or_patch_route_updates_the_row(method: str) -> None:
    arch = _arch(_SHOP.replace("PUT /carts", f"{method} /carts"))
    op = _op(arch, "carts", "update_cart")
    assert _queries(op) == ["update"] and op.changes == "update"
    assert "update cdb" in [s.describe() for s in op.steps]
    # a change commits: the database holds it for its write_time, as an insert
    assert op.steps[1].service_time == arch.component("cdb").write_time


@pytest.mark.parametrize(
    ("label", "name"),
    [("PUT /carts", "update_cart"), ("PUT /members/{id}/carts", "update_member_cart")],
)
def test_a_route_naming_no_row_of_its_own_keeps_inserting(label: str, name: str) -> None:
    arch = _arch(_SHOP.replace("PUT /carts/{id}", label))
    op = _op(arch, "carts", name)
    assert _queries(op) == ["write"] and op.changes == "write" and not op.changes_one


def test_a_create_still_inserts_and_a_read_changes_nothing() -> None:
    arch = _arch()
    assert _op(arch, "items", "create_item").changes == "write"
    assert _op(arch, "items", "get_item").changes is None
    assert Step(action=StepAction.QUERY, target="idb", mode="write").changes_data
    assert not Step(action=StepAction.QUERY, target="idb", mode="read").changes_data
    assert not Step(action=StepAction.CACHE_DELETE, target="cache", key="k").changes_data


def test_the_caller_needs_the_ids_of_the_rows_it_updates_and_deletes() -> None:
    arch = _arch()
    flow = derive_dataflow(arch).of("shop", "create_shop")
    assert flow.needs == ("item_id", "cart_id")
    inputs = [(c.callee, c.inputs[0][:2], c.learns) for c in flow.calls]
    # like a read's: the id goes into the path; unlike a create's, the answer is no new id
    assert inputs == [
        ("items.delete_item", ("id", "item_id"), None),
        ("carts.update_cart", ("id", "cart_id"), None),
    ]
    # nothing at the front door creates them: seeded, so the load test finds rows to change
    assert {"items", "carts"} <= seeded_components(arch)


def test_the_generated_handlers_update_and_delete_by_id() -> None:
    from archsim.codegen import render

    files = render(_arch())
    items, carts = files["services/items/app.py"], files["services/carts/app.py"]
    shop = files["services/shop/app.py"]
    assert "async def delete_item(request: Request, id: int) -> Any:" in items
    assert "items.delete().where(items.c.id == payload['id'])" in items
    assert "result = {'id': payload['id'], 'deleted': deleted.rowcount > 0}" in items
    assert "await rt.cache_delete('cache', f\"item:{payload['id']}\")" in items
    assert "async def update_cart(request: Request, id: int, body: CartCreate)" in carts
    assert "payload: dict[str, Any] = {**body.model_dump(), 'id': id}" in carts
    assert "carts.update().where(carts.c.id == payload['id']).values(**values)" in carts
    assert "raise HTTPException(404, f\"cart {payload['id']} not found\")" in carts
    for app, name in ((items, "delete_item"), (carts, "update_cart")):
        head = app[app.index(f"operation_id='{name}'") - 120 : app.index(f"operation_id='{name}'")]
        assert "status_code=200," in head and "insert(" not in app.split(f"def {name}")[1]
    assert "ref = ids['item_id']" in shop and "ref = ids['cart_id']" in shop
    assert "rt.call_json('items', 'DELETE', f'/items/{ref}', policy=_P1)" in shop
    assert "payload.get('id', 1)" not in shop


def test_the_load_test_fills_the_ids_and_creates_nothing_with_an_update() -> None:
    from archsim.codegen import render

    text = 'digraph g { web -> carts [label="PUT /carts/{id}"]; carts -> cdb [label="stores in"]; }'
    locust = render(_arch(text))["locustfile.py"]
    assert '"kind": "update"' in locust
    assert "CREATORS: dict[str, dict[str, Any]] = {}" in locust
    assert '"cart": [1, 20]' in locust  # seeded: the PUT finds rows
