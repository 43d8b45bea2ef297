"""A route's method decides what the callee does to its data (rule service.route), in a
generated stack really started on loopback: a PUT changes the row a GET then returns, a DELETE
removes it (and its cached copy), a second DELETE is no error, and the shop's create sends the
ids of the item and cart it acts on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from stack_run import embedded_env, started_stack

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "tests" / "stack_models" / "routes.dot"


@pytest.fixture(scope="module")
def urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    directory = tmp_path_factory.mktemp("routes")
    with started_stack(MODEL, directory, embedded_env()) as state:
        yield {i["component"]: i["url"] for i in state["instances"]}


def _client(urls: dict[str, str], component: str) -> httpx.Client:
    return httpx.Client(base_url=urls[component], timeout=15)


def _created(http: httpx.Client, path: str, name: str) -> dict[str, Any]:
    reply = http.post(path, json={"name": name})
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def test_a_put_changes_the_row_a_get_then_returns(urls: dict[str, str]) -> None:
    carts = _client(urls, "carts")
    cart = _created(carts, "/carts", "before")
    changed = carts.put(f"/carts/{cart['id']}", json={"name": "after", "data": {"n": 2}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["id"] == cart["id"] and changed.json()["name"] == "after"
    read = carts.get(f"/carts/{cart['id']}").json()
    assert (read["name"], read["data"], read["status"]) == ("after", {"n": 2}, "updated")
    assert carts.get("/carts").json()["items"][0]["id"] == cart["id"]  # no new row
    assert carts.put("/carts/987654", json={"name": "x"}).status_code == 404


def test_a_delete_removes_the_row_and_its_cached_copy(urls: dict[str, str]) -> None:
    items = _client(urls, "items")
    item = _created(items, "/items", "doomed")
    assert items.get(f"/items/{item['id']}").status_code == 200  # now in the cache too
    gone = items.delete(f"/items/{item['id']}")
    assert gone.status_code == 200, gone.text
    assert gone.json() == {"id": item["id"], "deleted": True}
    assert items.get(f"/items/{item['id']}").status_code == 404
    again = items.delete(f"/items/{item['id']}")  # idempotent: no error, nothing deleted
    assert again.status_code == 200 and again.json()["deleted"] is False


def test_the_callers_request_names_the_item_and_cart_it_acts_on(urls: dict[str, str]) -> None:
    shop, items, carts = (_client(urls, c) for c in ("shop", "items", "carts"))
    item = _created(items, "/items", "sold")
    cart = _created(carts, "/carts", "filled")
    missing = shop.post("/shops", json={"name": "s", "cart_id": cart["id"]})
    assert missing.status_code == 422 and "item_id" in missing.text
    made = shop.post("/shops", json={"name": "s", "item_id": item["id"], "cart_id": cart["id"]})
    assert made.status_code == 201, made.text
    assert items.get(f"/items/{item['id']}").status_code == 404
    assert carts.get(f"/carts/{cart['id']}").json()["status"] == "updated"
