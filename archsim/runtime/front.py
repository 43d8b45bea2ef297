"""The ASGI callable a service is served as: a thin dispatcher in front of its FastAPI app.

It answers two kinds of request without FastAPI's middleware stack, routing and dependency
solving (together ~40% of a cache hit's CPU): the gateway's proxy operations (``ForwardRoute``,
see ``proxy``) and endpoints whose only inputs are the request, typed path parameters (int,
str) and at most one JSON body model (the generated reads, lists and writes, the auth
service's token checks, ``/health``). Both run the very same endpoint code and steps, and a
result that is not a Response is shaped by the route's response model as FastAPI would. The
rest — query, header or cookie parameters, dependencies, a path parameter or body that does
not validate (FastAPI writes its usual 422), user middleware — goes to the FastAPI app
unchanged, which also keeps OpenAPI.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter
from starlette.requests import Request

from .context import TraceMiddleware, enter_request
from .limits import BodyRejected, read_body
from .proxy import ForwardRoute, ProxyRuntime, forward

__all__ = ["Front"]

_DIGITS = re.compile(r"-?[0-9]+")
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Handler = Callable[[dict[str, Any], dict[str, Any], Any, Any], Awaitable[bool]]
# (regex, handler or None = "FastAPI decides") in the order FastAPI would try them
Table = dict[str, list[tuple[re.Pattern[str], Handler | None]]]


class Front:
    """``Front(app, runtime)``: uvicorn serves this; FastAPI gets what the fast path declines."""

    def __init__(self, app: FastAPI, runtime: ProxyRuntime) -> None:
        self.app = app
        self.runtime = runtime
        self._table: Table | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in _WITH_BODY:
            try:
                body = await read_body(scope, receive)
            except BodyRejected as exc:
                await JSONResponse({"detail": exc.detail}, status_code=exc.status)(
                    scope, receive, send
                )
                return
            receive = _replay(body, receive)
        if scope["type"] == "http":
            table = self._table if self._table is not None else self._build()
            path = scope["path"]
            for pattern, handler in table.get(scope["method"], ()):
                match = pattern.match(path)
                if match is not None:
                    if handler is not None and await handler(
                        match.groupdict(), scope, receive, send
                    ):
                        return
                    break
        await self.app(scope, receive, send)

    def _build(self) -> Table:
        """The dispatch table, built on the first request (all routes are declared by then)."""
        table: Table = {}
        for route in self.runtime.forward_routes:
            table.setdefault(route.method, []).append((route.pattern, _forwarder(self, route)))
        own = all(m.cls is TraceMiddleware for m in self.app.user_middleware)
        for app_route in self.app.routes:
            methods = getattr(app_route, "methods", None) or ()
            pattern = getattr(app_route, "path_regex", None)
            if pattern is None:  # a Mount or something else FastAPI resolves itself
                for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                    table.setdefault(method, []).append((re.compile("^"), None))
                continue
            handler = None
            if own and isinstance(app_route, APIRoute):
                handler = _endpoint(self, app_route)
            for method in methods:
                table.setdefault(method, []).append((pattern, handler))
        self._table = table
        return table


def _forwarder(front: Front, route: ForwardRoute) -> Handler:
    async def handle(params: dict[str, Any], scope: Any, receive: Any, send: Any) -> bool:
        rid = enter_request(scope["headers"])
        await forward(front.runtime, route, params, scope, receive, send, rid)
        return True

    return handle


def _endpoint(front: Front, route: APIRoute) -> Handler | None:
    """A direct caller of ``route``'s endpoint, or None when it needs FastAPI's machinery:
    inputs are only the request, typed path parameters and at most one JSON body model."""
    dep = route.dependant
    if not _plain(route):
        return None
    converters = _path_converters(dep)
    body = _json_body(dep)
    if converters is None or body is None:
        return None
    body_name, body_model = body
    response = TypeAdapter(route.response_model) if route.response_model is not None else None
    endpoint, request_name, status = route.endpoint, dep.request_param_name, route.status_code
    handlers, app = front.app.exception_handlers, front.app

    async def handle(params: dict[str, Any], scope: Any, receive: Any, send: Any) -> bool:
        kwargs: dict[str, Any] = {}
        for alias, value in params.items():
            name, convert = converters[alias]
            try:
                kwargs[name] = convert(value)
            except ValueError:
                return False  # FastAPI answers with its usual 422
        if body_model is not None and body_name is not None:  # set together
            body = await _read_body(receive)
            receive = _replay(body, receive)
            try:
                if not _is_json(scope["headers"]):
                    raise ValueError("not JSON")
                kwargs[body_name] = body_model.model_validate_json(body)
            except ValueError:  # pydantic's ValidationError too: FastAPI writes the 422
                await app(scope, receive, send)
                return True
        rid = enter_request(scope["headers"])
        request = Request(scope, receive)
        if request_name:
            kwargs[request_name] = request
        try:
            result = await endpoint(**kwargs)
        except Exception as exc:
            handler = next((handlers[t] for t in type(exc).__mro__ if t in handlers), None)
            if handler is None:
                raise
            result = handler(request, exc)
            if inspect.isawaitable(result):
                result = await result
        result = _shaped(result, response, status)
        result.raw_headers.append((b"x-request-id", rid))
        await result(scope, receive, send)
        return True

    return handle


def _plain(route: APIRoute) -> bool:
    """Whether ``route`` is a coroutine endpoint whose inputs and response shaping the fast
    path reproduces: no query, header, cookie or special parameters, no dependencies, at most
    one body parameter, default response-model options."""
    dep = route.dependant
    return not (
        not inspect.iscoroutinefunction(route.endpoint)  # FastAPI runs those in a thread
        or dep.query_params
        or dep.header_params
        or dep.cookie_params
        or dep.dependencies
        or dep.websocket_param_name
        or dep.http_connection_param_name
        or dep.response_param_name
        or dep.background_tasks_param_name
        or dep.security_scopes_param_name
        or route.param_convertors.keys() != {p.name for p in dep.path_params}
        or len(dep.body_params) > 1
        or route.response_model_include is not None
        or route.response_model_exclude is not None
        or not route.response_model_by_alias
        or route.response_model_exclude_unset
        or route.response_model_exclude_defaults
        or route.response_model_exclude_none
    )


def _path_converters(dep: Any) -> dict[str, tuple[str, Callable[[str], Any]]] | None:
    """Per path parameter alias, (argument name, converter); None when one is neither int
    nor str."""
    converters: dict[str, tuple[str, Callable[[str], Any]]] = {}
    for field in dep.path_params:
        kind = field.field_info.annotation
        if kind is int:
            converters[field.alias] = (field.name, _to_int)
        elif kind is str:
            converters[field.alias] = (field.name, str)
        else:
            return None
    return converters


def _json_body(dep: Any) -> tuple[str | None, type[BaseModel] | None] | None:
    """(argument name, model) of the endpoint's JSON body, (None, None) without one; None
    when the body is not a plain (unembedded) pydantic model."""
    if not dep.body_params:
        return None, None
    field = dep.body_params[0]
    body_model = field.field_info.annotation
    embed = getattr(field.field_info, "embed", False)
    if not (isinstance(body_model, type) and issubclass(body_model, BaseModel)) or embed:
        return None
    return field.name, body_model


def _shaped(result: Any, response: TypeAdapter[Any] | None, status: int | None) -> Response:
    """The endpoint's result as a Response: as is, shaped by the route's response model as
    FastAPI would, or JSON-encoded."""
    if isinstance(result, Response):
        return result
    if response is not None:  # validated and shaped by the response model, as FastAPI
        content = response.dump_json(response.validate_python(result), by_alias=True)
        return Response(content, status_code=status or 200, media_type="application/json")
    return JSONResponse(jsonable_encoder(result), status_code=status or 200)


async def _read_body(receive: Any) -> bytes:
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


def _replay(body: bytes, receive: Any) -> Any:
    """A ``receive`` that hands out the already-read body once, then the real channel."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def again() -> dict[str, Any]:
        return pending.pop() if pending else await receive()

    return again


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


def _to_int(value: str) -> int:
    if _DIGITS.fullmatch(value) is None:
        raise ValueError(value)
    return int(value)
