"""The contract between the model and the generated stack: every generated handler of every
example architecture, run against a recording runtime (tests/recording_runtime.py), makes
the calls its operation's derived steps name, in order — the FastAPI endpoint and, for a
gateway's routes, the runtime's fast path too.

Each handler runs three ways: caches miss and every ``p < 1`` step happens; caches hit; no
``p < 1`` step happens (a token check still does: its ``p`` is a cache's miss share). Known
gaps are strict xfails with the reason, so closing one fails until its mark is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from recording_runtime import EMAIL, PASSWORD, Record, RecordingRuntime, Stack, load_stack
from starlette.requests import Request

from archsim.codegen import render
from archsim.codegen.layout import plan_processes
from archsim.errors import ArchsimError
from archsim.model import (
    Architecture,
    Operation,
    OpKind,
    Step,
    StepAction,
    load,
)
from archsim.model.derive import TOKEN_TTL_S
from archsim.model.profile import apply_overrides
from archsim.runtime.auth import TokenService, client_header, client_secret, hash_password

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    [
        *ROOT.glob("examples/*.dot"),
        *ROOT.glob("examples/architectures/*.dot"),
        ROOT / "topology.dot",
    ]
)
#: Regressions of issue 11 beside the examples: a token check given ``p`` by ``--set`` (never
#: a chance of skipping it) and a gateway that checks tokens with two auth services.
OVERRIDE = "api_gateway->auth_service.p=0.5"
EXTRA = sorted((ROOT / "tests" / "contract_models").glob("*.dot"))
SECRET = "c" * 64
MODES = {"miss": (False, True), "hit": (True, True), "no-chance": (False, False)}

#: Known gaps: (predicate on the architecture, operation and way, reason): strict xfails.
GAPS: list[tuple[Any, str]] = []


def _loads(path: Path) -> Architecture | None:
    try:
        return load(path).architecture
    except ArchsimError:
        return None


def _architectures() -> dict[str, Architecture | None]:
    archs = {str(path.relative_to(ROOT)): _loads(path) for path in [*FILES, *EXTRA]}
    seed = archs["topology.dot"]
    assert seed is not None
    archs[f"topology.dot --set {OVERRIDE}"] = apply_overrides(seed, [OVERRIDE])
    return archs


ARCHS = _architectures()


def _cases() -> Iterator[Any]:
    for label, arch in ARCHS.items():
        if arch is None:
            continue
        served = {p.component.id for p in plan_processes(arch) if p.role == "service"}
        for op in arch.behaviour.operations:
            if op.component not in served:
                continue
            ways = ["endpoint", "fast path"] if op.kind is OpKind.PROXY else ["handler"]
            for way in ways:
                marks = [
                    pytest.mark.xfail(strict=True, reason=reason)
                    for gap, reason in GAPS
                    if gap(arch, op, way)
                ]
                name = f"{label}:{op.qualified}:{way}"
                yield pytest.param(label, op.component, op.name, way, id=name, marks=marks)


def test_every_example_either_loads_or_is_refused_on_purpose() -> None:
    """The examples the contract skips are the ones ``load`` refuses (they show errors)."""
    refused = sorted(Path(label).name for label, arch in ARCHS.items() if arch is None)
    assert refused == ["bad.dot", "loop.dot", "seed.dot"]


def test_the_override_gives_the_token_check_a_cache_miss_share_not_a_chance() -> None:
    """The ``--set`` case is in the contract: the no-chance run still validates every token."""
    arch = ARCHS[f"topology.dot --set {OVERRIDE}"]
    assert arch is not None
    checks = [s for op in arch.behaviour.operations_of("api_gateway") for s in op.steps
              if s.checks_token]  # fmt: skip
    assert checks and all(s.p == 0.5 for s in checks)


# -- expected: the derived steps as records ---------------------------------------------------


def expected(steps: tuple[Step, ...], hits: bool, chance: bool) -> list[Record]:
    """The records a handler following ``steps`` makes (path ids are 1)."""
    out: list[Record] = []
    for step in steps:
        if step.p < 1 and not step.checks_token and not chance:
            continue
        key = (step.key or "").replace("{id}", "1")
        match step.action:
            case StepAction.COMPUTE:
                out.append(("compute", None, None))
            case StepAction.CALL:
                out.append(("call", step.target, step.operation))
            case StepAction.QUERY:
                out.append(("query", step.target, step.mode))
            case StepAction.CACHE_GET:
                out.append(("cache_get", step.target, key))
                if not hits:
                    out += expected(step.on_miss, hits, chance)
            case StepAction.CACHE_SET:  # the TTL is the model's, never a default of codegen's
                out.append(("cache_set", step.target, (key, step.ttl)))
            case StepAction.PUBLISH:
                out.append(("publish", step.target, step.event))
            case _:
                out.append((step.action.value, step.target, key))
    return out


def _resolve(arch: Architecture, records: list[Record]) -> list[Record]:
    """Recorded ``(method, path)`` calls named by the callee operation they reach."""
    out = []
    for action, target, what in records:
        if action == "call" and isinstance(what, tuple):
            method, path = what
            what = next(
                (
                    op.name
                    for op in arch.behaviour.operations_of(target or "")
                    if (op.method == method or (method == "SMTP" and op.name == path))
                    and (method == "SMTP" or _matches(op.path or "", path))
                ),
                f"{method} {path}",
            )
        out.append((action, target, what))
    return out


def _matches(template: str, path: str) -> bool:
    regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
    return re.fullmatch(regex, path) is not None


# -- running a handler ------------------------------------------------------------------------


def _token(component: str) -> str:
    return TokenService(SECRET, issuer=component, ttl_s=TOKEN_TTL_S).issue("1")["access_token"]


_VALUES: dict[str, Any] = {
    "email": EMAIL,
    "password": PASSWORD,
    "subject": "1",
    "reference": "ref-1",
    "name": "contract",
}


def _body(model: type, component: str) -> Any:
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():  # type: ignore[attr-defined]
        if name == "token":
            values[name] = _token(component)
        elif name in _VALUES:
            values[name] = _VALUES[name]
        elif info.annotation is int:
            values[name] = 1
        elif info.annotation is float:
            values[name] = 1.0
    return model.model_validate(values)  # type: ignore[attr-defined]


def _scope(method: str, path: str, op: Operation) -> dict[str, Any]:
    if op.name == "issue_token":
        auth = client_header("client", client_secret(SECRET, "client"))
    else:
        auth = f"Bearer {_token(op.component)}"
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(b"authorization", auth.encode()), (b"content-type", b"application/json")],
    }


def _path(op: Operation) -> str:
    return re.sub(r"\{[^}]+\}", "1", op.path or "/")


async def _endpoint(rt: RecordingRuntime, op: Operation) -> None:
    assert rt.app is not None
    route = next(
        (r for r in rt.app.routes if isinstance(r, APIRoute) and r.operation_id == op.name), None
    )
    assert route is not None, f"no endpoint for {op.qualified}"
    dep = route.dependant
    kwargs: dict[str, Any] = {}
    for param in dep.path_params:
        kwargs[param.name] = 1 if param.field_info.annotation is int else "1"
    if dep.body_params:
        param = dep.body_params[0]
        model = param.field_info.annotation
        kwargs[param.name] = _body(model, op.component) if hasattr(model, "model_fields") else {}
    if dep.request_param_name:
        kwargs[dep.request_param_name] = Request(_scope(op.method or "GET", _path(op), op))
    await route.endpoint(**kwargs)


async def _fast_path(stack: Stack, rt: RecordingRuntime, op: Operation) -> None:
    route = next((r for r in rt.forward_routes if r.operation == op.name), None)
    assert route is not None, f"no fast-path route for {op.qualified}"
    path = _path(op)
    match = route.pattern.match(path)
    assert match is not None
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = _scope(route.method, path, op)
    await stack.proxy.forward(rt, route, match.groupdict(), scope, receive, send, b"rid")
    assert sent and sent[0]["status"] == 200, sent


class _Event(dict):  # type: ignore[type-arg]
    """An event's data that carries every field a handler asks for (ids are 1)."""

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key, 1)

    def __missing__(self, key: Any) -> Any:
        return 1


async def _run(stack: Stack, op: Operation, way: str) -> None:
    rt = stack.runtimes[op.component]
    if way == "fast path":
        await _fast_path(stack, rt, op)
    elif op.kind is OpKind.CONSUME:
        event = {"event": op.trigger, "event_id": "event-1", "data": _Event(id=1)}
        await rt.consumers[op.name](event)
    else:
        await _endpoint(rt, op)


# -- the test ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARCHSIM_JWT_SECRET", SECRET)
        mp.setenv("ARCHSIM_PBKDF2_ROUNDS", "1")
        yield


_loaded: dict[str, Stack] = {}


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The generated stack of an example, imported against the recording runtime (the last
    one stays loaded: the cases of one file run together)."""
    with _environment():

        def get(label: str) -> Stack:
            if label not in _loaded:
                _loaded.clear()
                arch = ARCHS[label]
                assert arch is not None
                root = tmp_path_factory.mktemp(re.sub(r"\W+", "-", Path(label).stem))
                _loaded[label] = load_stack(render(arch), root)
            return _loaded[label]

        yield get


@pytest.mark.parametrize(("label", "component", "operation", "way"), list(_cases()))
def test_handler_makes_the_calls_of_its_steps(
    stacks: Any, label: str, component: str, operation: str, way: str
) -> None:
    arch = ARCHS[label]
    assert arch is not None
    op = arch.behaviour.operation(component, operation)
    stack = stacks(label)
    rt = stack.runtimes[component]
    rt.row = {"id": 1, "name": "contract", "email": EMAIL, "data": {}, "status": "created",
              "created_at": 0.0, "password_hash": _HASH}  # fmt: skip
    for mode, (hits, chance) in MODES.items():
        RecordingRuntime.behaviour.cache_hits = hits
        RecordingRuntime.behaviour.chance = chance
        rt.records = []
        with _environment():
            asyncio.run(_run(stack, op, way))
        got = _resolve(arch, rt.records)
        assert got == expected(op.steps, hits, chance), f"{mode}: {op.qualified} by {way}"


_HASH = hash_password(PASSWORD, rounds=1)


def _served(label: str) -> Iterator[Any]:
    arch = ARCHS[label]
    if arch is not None:
        for proc in plan_processes(arch):
            if proc.role == "service":
                yield pytest.param(label, proc.component.id, id=f"{label}:{proc.component.id}")


@pytest.mark.parametrize(("label", "component"), [c for label in ARCHS for c in _served(label)])
def test_start_up_and_background_work_are_the_lifecycle_steps(
    stacks: Any, label: str, component: str
) -> None:
    """What a service does at start-up and in the background (``archsim_runtime.lifecycle``
    run on its SPEC) is its lifecycle in the model, in order, with the model's intervals."""
    arch = ARCHS[label]
    assert arch is not None
    stack = stacks(label)
    rt = stack.runtimes[component]
    rt.records = []
    spec = rt.spec["lifecycle"]
    asyncio.run(stack.lifecycle.run_startup(rt, spec["startup"]))
    stack.lifecycle.run_periodic(rt, spec["periodic"], {})
    lifecycle = arch.behaviour.lifecycle(component)
    want: list[Record] = []
    if lifecycle is not None:
        want = [("call", s.target, s.operation) for s in lifecycle.startup]
        want += [
            ("periodic", s.target, (s.operation, task.interval))
            for task in lifecycle.periodic
            for s in task.steps
        ]
    assert rt.records == want
