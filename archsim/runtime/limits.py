"""What every hop accepts in a request body: one documented limit, checked the same way at the
load balancer and in every service, before a handler sees the body.

- at most ``MAX_BODY_BYTES`` (1 MiB, the provider sandbox's cap too): larger is 413;
- a JSON body may not hold ``NaN``/``Infinity`` (Python's ``json`` reads them, no database or
  response can hold them) nor integers outside a 64-bit column's range: 422, naming what.

Numbers out of range that reach the database another way (a path id) are answered 422 by the
service's exception handler (``out_of_range``), never 500.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_BODY_BYTES", "BodyRejected", "check_json", "read_body", "too_large"]

MAX_BODY_BYTES = 1 << 20
_INT64 = (-(1 << 63), (1 << 63) - 1)


class BodyRejected(Exception):
    """A request body no hop accepts: ``status`` (413 or 422) and a ``detail`` for people."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _no_constant(name: str) -> Any:
    raise BodyRejected(422, f"the JSON body holds {name}: numbers must be finite")


def _int64(text: str) -> int:
    value = int(text)
    if not _INT64[0] <= value <= _INT64[1]:
        raise BodyRejected(
            422, f"the JSON body holds {text[:30]}: integers must fit in 64 bits (±9.2e18)"
        )
    return value


_CHECKER = json.JSONDecoder(parse_constant=_no_constant, parse_int=_int64)


def check_json(body: bytes) -> None:
    """Raise BodyRejected for a JSON body with non-finite numbers or out-of-range integers
    (a body that is not JSON at all is left to the handler's own 422)."""
    if not body:
        return
    try:
        # json.loads(body, **hooks) without building a decoder for every body
        _CHECKER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except ValueError:  # UnicodeDecodeError too
        return  # not JSON: the endpoint's validation answers it


def too_large(length: int) -> BodyRejected:
    """The 413 for a body of ``length`` bytes."""
    return BodyRejected(
        413, f"request body of {length} bytes is over the limit of {MAX_BODY_BYTES} bytes (1 MiB)"
    )


async def read_body(scope: dict[str, Any], receive: Any) -> bytes:
    """The whole body of an ASGI request, checked: BodyRejected when it is over the limit
    (by its Content-Length, before reading) or a JSON body holds what no hop accepts."""
    is_json = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY_BYTES:
            raise too_large(int(value))
        if name == b"content-type":
            is_json = value.split(b";", 1)[0].strip().lower() == b"application/json"
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large(size)
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    if is_json:
        check_json(body)
    return body
