"""A recording runtime: a real object with the interface generated handlers call on ``rt``
(``archsim_runtime.service.Runtime``), which does no I/O and writes down each step primitive
it is asked for, in order. ``load_stack`` imports a generated stack's services against it;
the contract test (tests/test_steps_contract.py) runs every handler and compares what was
recorded with the operation's derived steps.

Each record is ``(action, target, what)``: ``("compute", None, None)``, ``("call", target,
(method, path) or operation)``, ``("query", db, "read"|"write")``, ``("cache_get", cache,
key)``, ``("cache_set", cache, (key, ttl))``, ``("cache_delete", …)``, ``("publish", broker,
event)``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
import types
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException

Record = tuple[str, str | None, Any]

#: The password every generated body carries, and the stored row's hash matches.
PASSWORD = "contract-password"
EMAIL = "contract@example.com"


@dataclass
class Behaviour:
    """How the recorder answers: caches miss or hit; steps with ``p < 1`` all happen or none."""

    cache_hits: bool = False
    chance: bool = True


class _Result:
    """What ``conn.execute`` returns: one stored row, and an inserted id."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.inserted_primary_key = [1]

    def mappings(self) -> _Result:
        return self

    def first(self) -> dict[str, Any]:
        return dict(self.row)

    def all(self) -> list[dict[str, Any]]:
        return [dict(self.row)]


class Connection:
    """A connection to a recorded database: statements run against nothing."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row

    async def execute(self, statement: Any) -> _Result:
        return _Result(self.row)


class _Engine:
    def __init__(self, rt: RecordingRuntime, name: str) -> None:
        self.rt, self.name = rt, name

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[Connection]:
        async with self.rt.transaction(self.name) as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        async with self.rt.reading(self.name) as conn:
            yield conn


class _Database:
    def __init__(self, rt: RecordingRuntime, name: str) -> None:
        self.engine = _Engine(rt, name)


class _Saga:
    """``rt.saga()``: registering an undo is not a step (it runs only when a later one fails)."""

    def undo(self, *args: Any, **kw: Any) -> None:
        pass


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body)


#: What every recorded call answers: enough for any generated handler to carry on.
CALL_REPLY: dict[str, Any] = {
    "id": 1,
    "access_token": "recorded-token",
    "token_type": "bearer",
    "expires_in": 60,
    "items": [],
    "valid": True,
    "claims": {"sub": "1"},
}


class _Client:
    """``rt.client`` for the fast path (``proxy.forward``): records the call, answers 200."""

    def __init__(self, rt: RecordingRuntime) -> None:
        self.rt = rt

    async def call(self, target: str, method: str, path: str, **kw: Any) -> _Reply:
        self.rt.records.append(("call", target, (method, path.split("?")[0])))
        return _Reply(200, json.dumps(CALL_REPLY).encode())


class RecordingRuntime:
    """``Runtime(spec, metadata)`` as the generated ``app.py`` builds it; records steps."""

    #: How every instance answers (the test sets it before running a handler).
    behaviour = Behaviour()
    #: Every instance built since the stack was loaded, by component id.
    built: dict[str, RecordingRuntime] = {}

    def __init__(self, spec: dict[str, Any], metadata: Any = None) -> None:
        self.spec = spec
        self.component: str = spec["component"]
        self.metadata = metadata
        self.records: list[Record] = []
        self.consumers: dict[str, Callable[..., Any]] = {}
        self.forward_routes: list[Any] = []
        self.client = _Client(self)
        self.app: FastAPI | None = None
        self.row: dict[str, Any] = {}
        RecordingRuntime.built[self.component] = self

    # -- the app ---------------------------------------------------------------------------

    def create_app(self, title: str, description: str = "", version: str = "0.1.0") -> FastAPI:
        self.app = FastAPI(title=title, description=description, version=version)
        return self.app

    def fast_forward(self, routes: list[Any]) -> None:
        self.forward_routes = [*self.forward_routes, *routes]

    def consumer(self, broker: str, event: str, operation: str) -> Callable[[Any], Any]:
        def decorate(handler: Any) -> Any:
            self.consumers[operation] = handler
            return handler

        return decorate

    # -- lifecycle steps (archsim_runtime.lifecycle) ---------------------------------------

    async def fetch_config(self, target: str) -> None:
        self.records.append(("call", target, "get_config"))

    async def register(self, registry: str) -> None:
        self.records.append(("call", registry, "register"))

    def start_heartbeats(self, registry: str, interval_s: float) -> None:
        self.records.append(("periodic", registry, ("heartbeat", interval_s)))

    def cache_lookups(self, registry: str, ttl_s: float) -> None:
        self.records.append(("periodic", registry, ("lookup", ttl_s)))

    # -- step primitives -------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def operation(self, name: str, ok: int = 200) -> AsyncIterator[None]:
        yield

    def compute(self, operation: str | None = None) -> None:
        self.records.append(("compute", None, None))

    def chance(self, p: float) -> bool:
        return self.behaviour.chance

    def call_failed(self, *args: Any) -> None:
        pass

    async def call_json(self, target: str, method: str, path: str, **kw: Any) -> Any:
        self.records.append(("call", target, (method, path)))
        return dict(CALL_REPLY)

    async def forward(self, request: Any, target: str, path: str, policy: Any = None) -> Any:
        self.records.append(("call", target, (request.method, path)))
        from fastapi.responses import Response

        return Response(json.dumps(CALL_REPLY).encode(), media_type="application/json")

    async def authorize(self, request: Any, auth: str, policy: Any = None) -> dict[str, Any]:
        return await self.authorize_header(request.headers.get("authorization"), auth, policy)

    async def authorize_header(
        self, authorization: str | None, auth: str, policy: Any = None
    ) -> dict[str, Any]:
        self.records.append(("call", auth, "validate_token"))
        if not authorization:
            raise HTTPException(401, "missing bearer token")
        return {"sub": "1"}

    async def service_token(self, auth: str, policy: Any = None) -> Any:
        self.records.append(("call", auth, "issue_token"))
        return dict(CALL_REPLY)

    def client_headers(self) -> dict[str, str]:
        return {}

    async def send_mail(self, target: str, subject: str, body: str, **kw: Any) -> None:
        self.records.append(("call", target, ("SMTP", "send")))

    async def cache_get(self, cache: str, key: str) -> Any | None:
        self.records.append(("cache_get", cache, key))
        return {"id": 1, "items": []} if self.behaviour.cache_hits else None

    async def cache_set(self, cache: str, key: str, value: Any, ttl_s: float) -> None:
        self.records.append(("cache_set", cache, (key, ttl_s)))

    async def cache_delete(self, cache: str, *keys: str) -> None:
        for key in keys:
            self.records.append(("cache_delete", cache, key))

    def db(self, name: str) -> _Database:
        return _Database(self, name)

    @contextlib.asynccontextmanager
    async def transaction(self, name: str) -> AsyncIterator[Connection]:
        self.records.append(("query", name, "write"))
        yield Connection(self.row)

    @contextlib.asynccontextmanager
    async def reading(self, name: str) -> AsyncIterator[Connection]:
        self.records.append(("query", name, "read"))
        yield Connection(self.row)

    @contextlib.asynccontextmanager
    async def saga(self) -> AsyncIterator[_Saga]:
        yield _Saga()

    async def publish(self, broker: str, event: str, data: Any, conn: Any = None) -> str:
        self.records.append(("publish", broker, event))
        return "event-1"

    async def first_delivery(self, conn: Any, event: dict[str, Any]) -> bool:
        return True

    async def before(self, handlers: Any, name: str, payload: Any, request: Any) -> Any:
        hook = getattr(handlers, f"before_{name}", None)
        changed = await hook(payload, request) if hook is not None else None
        return payload if changed is None else changed

    async def finish(
        self, handlers: Any, name: str, result: Any, payload: Any, status: int = 200
    ) -> Any:
        hook = getattr(handlers, name, None)
        return await hook(result, payload) if hook is not None else result


def _purge() -> None:
    """Forget the last stack's modules. Its metrics module is archsim's own (the same file):
    importing a copy would register the same Prometheus series twice in one process."""
    for name in list(sys.modules):
        if name.split(".")[0] in ("archsim_runtime", "services"):
            del sys.modules[name]
    sys.modules["archsim_runtime.metrics"] = importlib.import_module("archsim.runtime.metrics")


@dataclass
class Stack:
    """A generated stack imported against the recording runtime."""

    root: Path
    runtimes: dict[str, RecordingRuntime] = field(default_factory=dict)
    proxy: Any = None  # the stack's own archsim_runtime.proxy (its fast path)
    lifecycle: Any = None  # the stack's own archsim_runtime.lifecycle


def load_stack(files: dict[str, str], root: Path) -> Stack:
    """Write ``files`` (``render``'s output) under ``root`` and import every service's
    ``app.py`` with ``archsim_runtime.service.Runtime`` replaced by the recording runtime."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _purge()
    sys.path.insert(0, str(root))
    RecordingRuntime.built = {}
    try:
        importlib.import_module("archsim_runtime")
        fake = types.ModuleType("archsim_runtime.service")
        fake.Runtime = RecordingRuntime  # type: ignore[attr-defined]
        sys.modules["archsim_runtime.service"] = fake
        stack = Stack(
            root,
            proxy=importlib.import_module("archsim_runtime.proxy"),
            lifecycle=importlib.import_module("archsim_runtime.lifecycle"),
        )
        for rel in sorted(files):
            if rel.startswith("services/") and rel.endswith("/app.py"):
                importlib.import_module(rel[: -len(".py")].replace("/", "."))
        stack.runtimes = dict(RecordingRuntime.built)
        return stack
    finally:
        sys.path.remove(str(root))
