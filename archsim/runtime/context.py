"""Request identity carried through a call chain: a request id and a W3C ``traceparent``,
and the request's time budget (``x-archsim-budget-ms``: what the caller will wait, set by the
front door and shrunk at each hop, docs/reliability.md).

An ASGI middleware reads (or makes) both from incoming headers and puts them in context
variables; the HTTP client, broker and logs read them from there, so every outbound call and
every log line of one request carries the same trace id.
"""

from __future__ import annotations

import random
import time
from contextvars import ContextVar, Token
from typing import Any

__all__ = [
    "BUDGET_HEADER",
    "TraceMiddleware",
    "child_traceparent",
    "current_request_id",
    "current_traceparent",
    "enter_request",
    "new_traceparent",
    "outbound_headers",
    "remaining",
    "reset_traceparent",
    "set_authorization",
    "set_budget",
    "set_context",
    "set_sample_ratio",
    "use_traceparent",
]

#: The header that carries a call's time budget in milliseconds (what its caller will wait).
BUDGET_HEADER = "x-archsim-budget-ms"

_request_id: ContextVar[str | None] = ContextVar("archsim_request_id", default=None)
_traceparent: ContextVar[str | None] = ContextVar("archsim_traceparent", default=None)
# the caller's bearer token travels on to the services this request calls (they may check it)
_authorization: ContextVar[str | None] = ContextVar("archsim_authorization", default=None)
# the monotonic time by which this request's answer is no longer awaited (None: no deadline)
_deadline: ContextVar[float | None] = ContextVar("archsim_deadline", default=None)


_bits = random.getrandbits  # trace ids must be unique, not secret: no syscall per request
# the share of new traces marked sampled (flags 01); tracing sets it, children inherit the flag
_sample_ratio = 1.0


def _hex(nbytes: int) -> str:
    return f"{_bits(nbytes * 8):0{nbytes * 2}x}"


def new_traceparent() -> str:
    """A fresh W3C traceparent: ``00-<32 hex trace id>-<16 hex span id>-01`` (``-00``, not
    sampled, for the share of new traces that tracing's sampler leaves out)."""
    if _sample_ratio >= 1.0 or random.random() < _sample_ratio:
        return f"00-{_hex(16)}-{_hex(8)}-01"
    return f"00-{_hex(16)}-{_hex(8)}-00"


def set_sample_ratio(ratio: float) -> None:
    """The share of new traces marked sampled (the root's decision; children follow it)."""
    global _sample_ratio
    _sample_ratio = ratio


def use_traceparent(traceparent: str | None) -> Token[str | None]:
    """Make ``traceparent`` current (a span that encloses further work: a publish whose event
    carries it); ``reset_traceparent`` with the token restores the previous one."""
    return _traceparent.set(traceparent)


def reset_traceparent(token: Token[str | None]) -> None:
    """Undo ``use_traceparent``."""
    _traceparent.reset(token)


def child_traceparent(parent: str | None) -> str:
    """Same trace id as ``parent`` with a new span id (a new trace if parent is malformed)."""
    parts = (parent or "").split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return new_traceparent()
    return f"00-{parts[1]}-{_hex(8)}-{parts[3]}"


def current_request_id() -> str | None:
    """The request id of the request being handled, if any."""
    return _request_id.get()


def current_traceparent() -> str | None:
    """The traceparent of the request being handled, if any."""
    return _traceparent.get()


def set_context(request_id: str | None, traceparent: str | None) -> None:
    """Set the context for work that does not start from an HTTP request (events, start-up)."""
    _request_id.set(request_id)
    _traceparent.set(traceparent)
    _authorization.set(None)
    _deadline.set(None)


def set_authorization(value: str | None) -> None:
    """The ``Authorization`` header this task's outbound calls carry from now on."""
    _authorization.set(value)


def set_budget(budget_ms: str | float | None) -> None:
    """Start this request's deadline from a budget in milliseconds (a header's text; a value
    that is not a number means no deadline)."""
    try:
        budget = float(budget_ms) if budget_ms is not None else None
    except ValueError:
        budget = None
    _deadline.set(None if budget is None else time.monotonic() + budget / 1000.0)


def remaining() -> float | None:
    """Seconds left of this request's budget (negative once passed; None: no deadline)."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def outbound_headers() -> dict[str, str]:
    """Headers to put on an outbound call: request id and a child traceparent."""
    headers = {"traceparent": child_traceparent(_traceparent.get())}
    rid = _request_id.get()
    if rid:
        headers["x-request-id"] = rid
    token = _authorization.get()
    if token:
        headers["authorization"] = token
    return headers


def enter_request(headers: list[tuple[bytes, bytes]]) -> bytes:
    """Set the context of an incoming HTTP request from its raw ASGI headers (request id and
    a child of its traceparent, or fresh ones); returns the request id to echo, as bytes."""
    rid = parent = token = budget = None
    for name, value in headers:
        if name == b"x-request-id":
            rid = value.decode("latin-1")
        elif name == b"traceparent":
            parent = value.decode("latin-1")
        elif name == b"authorization":
            token = value.decode("latin-1")
        elif name == b"x-archsim-budget-ms":
            budget = value.decode("latin-1")
    _authorization.set(token)
    set_budget(budget)
    rid = rid or _hex(8)
    _request_id.set(rid)
    _traceparent.set(child_traceparent(parent) if parent else new_traceparent())
    return rid.encode("latin-1")


class TraceMiddleware:
    """Pure ASGI middleware (no per-request task like BaseHTTPMiddleware): sets the context
    from ``x-request-id`` / ``traceparent`` and echoes the request id on the response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_rid = enter_request(scope["headers"])

        async def _send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", raw_rid)]
            await send(message)

        await self.app(scope, receive, _send)
