"""Bad bodies get 4xx, never 500 (issue 10, item 5): non-finite numbers, integers past 64 bits
and bodies over the one documented limit (1 MiB, 413) — at the front door and at the service
behind it, on a real generated stack (loopback)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from stack_run import embedded_env, started_stack

from archsim.runtime import balancer, launcher
from archsim.runtime.limits import MAX_BODY_BYTES, BodyRejected, check_json

LIBRARY = Path(__file__).resolve().parent / "stack_models" / "library.dot"
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("library")
    with started_stack(LIBRARY, root, embedded_env()) as state:
        urls = {i["component"]: i["url"] for i in state["instances"]}
        token = httpx.post(
            urls["id-provider"] + "/tokens",
            json={"subject": "t"},
            headers={"authorization": launcher.client_authorization(root, "client")},
            timeout=10,
        )
        auth = {"authorization": f"Bearer {token.json()['access_token']}"}
        yield state["front_door"], urls["catalog-svc"], auth


BAD = [
    pytest.param(b'{"name": "x", "data": {"price": NaN}}', 422, "finite", id="nan"),
    pytest.param(b'{"name": "x", "data": {"price": -Infinity}}', 422, "finite", id="infinity"),
    pytest.param(b'{"name": "x", "data": {"n": 99999999999999999999999}}', 422, "64", id="bigint"),
    pytest.param(b'{"name": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}', 413, "1 MiB", id="2mib"),
]


@pytest.mark.parametrize(("body", "status", "says"), BAD)
def test_a_bad_body_is_a_4xx_at_every_hop(stack, body, status, says):
    front, catalog, auth = stack
    for url in (f"{front}/api/catalogs", f"{catalog}/catalogs"):
        reply = httpx.post(url, content=body, headers={**JSON, **auth}, timeout=30)
        assert reply.status_code == status, (url, reply.status_code, reply.text[:300])
        assert says in reply.json()["detail"]
    # and nothing was stored
    listed = httpx.get(f"{catalog}/catalogs", timeout=10).json()["items"]
    assert not [i for i in listed if i["name"].startswith("x")]


def test_a_path_id_past_64_bits_is_a_4xx(stack):
    front, catalog, auth = stack
    big = "99999999999999999999999"
    for url in (f"{front}/api/catalogs/{big}", f"{catalog}/catalogs/{big}"):
        reply = httpx.get(url, headers=auth, timeout=10)
        assert 400 <= reply.status_code < 500, (url, reply.status_code, reply.text[:300])


def test_a_good_body_still_works(stack):
    front, _, auth = stack
    reply = httpx.post(
        f"{front}/api/catalogs", json={"name": "Dune", "data": {"price": 9.5}}, headers=auth
    )
    assert reply.status_code == 201, reply.text


def test_the_balancer_refuses_a_body_over_the_limit_without_relaying_it():
    written: list[bytes] = []

    class Transport:  # the socket's end: what the balancer writes back
        def write(self, data: bytes) -> None:
            written.append(data)

        def close(self) -> None:
            pass

    class Unreachable:
        def handle(self, *args):
            raise AssertionError("an oversized request must not be relayed")

    async def feed() -> None:
        conn = balancer._Connection(Unreachable())
        conn.connection_made(Transport())
        body = b"x" * (MAX_BODY_BYTES + 1)
        conn.data_received(
            b"POST /api/orders HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n" % len(body) + body
        )
        await conn.last

    asyncio.run(feed())
    reply = b"".join(written)
    assert reply.startswith(b"HTTP/1.1 413") and b"1 MiB" in reply


def test_check_json_names_what_it_refuses():
    with pytest.raises(BodyRejected, match="finite"):
        check_json(b"[NaN]")
    with pytest.raises(BodyRejected, match="64 bits"):
        check_json(b'{"a": -9223372036854775809}')
    check_json(b'{"a": 9223372036854775807, "b": 1.5}')  # the edges of the range are fine
    check_json(b"not json")  # left to the endpoint's own 422
