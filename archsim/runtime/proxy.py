"""The gateway's fast path: proxy operations served by ``front.Front`` ahead of FastAPI,
running the same steps as the generated endpoints without routing and dependency solving on
every request. A route carries its operation's steps, rendered from the model by the code
generator (``Compute``, ``Authorize`` per token check, a final ``Forward``); ``forward`` runs
them in order and decides nothing of its own."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import HTTPException

from .client import DEFAULT_POLICY, CallError, CallPolicy, Reply, ServiceClient
from .metrics import OperationTimer

__all__ = ["Authorize", "Compute", "Forward", "ForwardRoute", "HopError", "ProxyRuntime", "forward"]

_PARAM = re.compile(r"\{([^}/]+)\}")


class HopError(HTTPException):
    """An answer caused by a failed outbound call: its body carries ``"hop": true`` so the
    caller extends the hop chain instead of blaming this service (see ``hop_detail``)."""


@dataclass(frozen=True)
class Compute:
    """The compute step (``operation``: the operation whose own service time it spends)."""

    operation: str | None = None


@dataclass(frozen=True)
class Authorize:
    """A validate-token step: ``auth`` checks the caller's bearer token (through the token
    cache: never skipped, see ``Runtime.authorize_header``)."""

    auth: str
    policy: CallPolicy = DEFAULT_POLICY


@dataclass(frozen=True)
class Forward:
    """The forwarding call, last: the request goes on to ``target`` at ``path`` (a template
    of the route's parameters); its answer is the route's."""

    target: str
    path: str
    policy: CallPolicy = DEFAULT_POLICY


RouteStep = Compute | Authorize | Forward


@dataclass(frozen=True)
class ForwardRoute:
    """``method path`` (a template) of proxy operation ``operation``, served by running
    ``steps`` in order; the last is a ``Forward``."""

    method: str
    path: str
    operation: str
    steps: tuple[RouteStep, ...]
    pattern: re.Pattern[str] = field(init=False, compare=False)

    @property
    def target(self) -> str:
        """The component the route forwards to."""
        return self.forwarding.target

    @property
    def forwarding(self) -> Forward:
        """The route's forwarding step."""
        last = self.steps[-1]
        assert isinstance(last, Forward), f"{self.operation}: a route ends with its Forward"
        return last

    def __post_init__(self) -> None:
        self.forwarding  # noqa: B018 - a route without its Forward is refused at import
        parts = _PARAM.split(self.path)
        regex = "".join(
            re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts)
        )
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


class ProxyRuntime(Protocol):
    """What the fast path needs of a service's runtime (``service.Runtime`` is one): its
    forward routes and the steps of a proxy operation. A protocol, so that this module and
    ``front`` do not import ``service``, which imports them."""

    client: ServiceClient | None
    forward_routes: list[ForwardRoute]

    def operation(self, name: str, ok: int = 200) -> OperationTimer: ...

    def compute(self, operation: str | None = None) -> None: ...

    async def authorize_header(
        self, authorization: str | None, auth: str, policy: CallPolicy = DEFAULT_POLICY
    ) -> dict[str, Any]: ...

    def call_failed(self, target: str, method: str, path: str, status: int, cause: str) -> None:
        ...


async def forward(
    rt: ProxyRuntime,
    route: ForwardRoute,
    params: dict[str, str],
    scope: Any,
    receive: Any,
    send: Any,
    request_id: bytes,
) -> None:
    """Serve one request of a proxy operation by running its steps (compute, token checks,
    then forward the body); answer what the target answered (``request_id`` is echoed, as
    TraceMiddleware does)."""
    authorization, content_type = _auth_and_type(scope["headers"])
    body = b""
    more = True
    while more:  # the whole body, however many messages it comes in
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    status, content, ctype = 500, b"", "application/json"
    extra: list[tuple[bytes, bytes]] = []
    try:
        async with rt.operation(route.operation):
            for step in route.steps:
                if isinstance(step, Compute):
                    rt.compute(step.operation)
                elif isinstance(step, Authorize):
                    await rt.authorize_header(authorization, step.auth, step.policy)
                else:
                    reply = await _pass_on(
                        rt, step, params, scope, body, authorization, content_type
                    )
                    status, content, ctype = reply.status, reply.body, reply.content_type
    except HTTPException as exc:
        error = {"detail": exc.detail, "hop": True} if isinstance(exc, HopError) else None
        status, content = exc.status_code, json.dumps(error or {"detail": exc.detail}).encode()
        extra = [(k.lower().encode(), v.encode()) for k, v in (exc.headers or {}).items()]
    except CallError as exc:
        rt.call_failed(route.target, scope["method"], scope["path"], exc.status, exc.detail)
        status, content = exc.status, json.dumps({"detail": exc.detail, "hop": True}).encode()
    await send(_response_start(status, content, ctype, request_id, extra))
    await send({"type": "http.response.body", "body": content})


def _auth_and_type(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """The request's Authorization and Content-Type header values (None when absent)."""
    authorization = content_type = None
    for name, value in headers:
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"content-type":
            content_type = value.decode("latin-1")
    return authorization, content_type


def _pass_on(
    rt: ProxyRuntime,
    step: Forward,
    params: dict[str, str],
    scope: Any,
    body: bytes,
    authorization: str | None,
    content_type: str | None,
) -> Awaitable[Reply]:
    """The forwarding call, to await: the request's method, body, query string, content type
    and authorization, to ``step.target`` at the route's path with its parameters filled in
    (a plain function returning the client's coroutine: no extra coroutine per request)."""
    target = step.path.format(**params) if params else step.path
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    out = {"content-type": content_type or "application/json"}
    if authorization is not None:
        out["authorization"] = authorization
    assert rt.client is not None
    return rt.client.call(
        step.target,
        scope["method"],
        target,
        data=body or None,
        headers=out,
        policy=step.policy,
    )


def _response_start(
    status: int, content: bytes, ctype: str, request_id: bytes, extra: list[tuple[bytes, bytes]]
) -> dict[str, Any]:
    """The response's start message: status, content type and length, the request id and
    ``extra`` headers."""
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", ctype.encode()),
            (b"content-length", str(len(content)).encode()),
            (b"x-request-id", request_id),
            *extra,
        ],
    }
