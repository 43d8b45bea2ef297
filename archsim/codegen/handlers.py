"""Render the handler functions of generated services, one per operation, from its steps."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from archsim.codegen.resources import Resource
from archsim.codegen.steps import StepWriter
from archsim.model import Operation, OpKind, Step, StepVisitor, visit

__all__ = ["forward_route", "render_handler", "wrap"]

_IND = "    "


def _split_args(text: str) -> list[str]:
    """Split call arguments at top-level commas (brackets and quotes respected)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote and text[i - 1] != "\\" else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def wrap(line: str, limit: int = 110) -> list[str]:
    """A long line made to fit (the generated project's ruff allows 120 columns): a comment as
    several comment lines, ``x = await f(a, b)`` or a decorator as one argument per line."""
    indent = line[: len(line) - len(line.lstrip())]
    if len(line) > limit and line.lstrip().startswith("#"):
        text = line.lstrip()[1:].strip()
        width = max(40, limit - len(indent) - 4)
        first, *more = textwrap.wrap(text, width=width, break_on_hyphens=False) or [text]
        return [f"{indent}# {first}", *(f"{indent}#   {part}" for part in more)]
    if len(line) <= limit or not line.rstrip().endswith(")") or "(" not in line:
        return [line]
    head, _, rest = line.partition("(")
    args = _split_args(rest.rstrip()[:-1])
    return [f"{head}(", *(f"{indent}{_IND}{arg}," for arg in args), f"{indent})"]


def _params(path: str, typ: str) -> list[str]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
    return [f"{name}: {typ}" for name in names]


def _doc(op: Operation) -> str:
    steps = "; ".join(f"{i}. {s.describe()}" for i, s in enumerate(op.steps, 1))
    text = f"{op.kind.value.capitalize()} ({op.rule}). Steps: {steps}."
    lines = textwrap.wrap(text, width=88)
    if len(lines) == 1:
        return f'{_IND}"""{lines[0]}"""'
    return "\n".join([f'{_IND}"""{lines[0]}', *(_IND + line for line in lines[1:]), f'{_IND}"""'])


def _response(op: Operation, res: Resource) -> tuple[str, str]:
    """(response_model expression, status code) of an operation."""
    if op.kind in (OpKind.READ, OpKind.LIST) and not res.stores:
        # a route label's read on a service keeping nothing (rule service.route: Dapr's
        # nodeapp ``GET /order``): no rows, no schema of them; its answer goes unchecked
        return "None", "200"
    if op.changes == "update":  # the row the path names, changed (rule service.route)
        return f"{res.camel}Out", "200"
    if op.changes == "delete":  # {'id': …, 'deleted': …}: no stored row to describe
        return "None", "200"
    match op.kind:
        case OpKind.READ:
            return f"{res.camel}Out", "200"
        case OpKind.LIST:
            return f"{res.camel}List", "200"
        case OpKind.WRITE:
            return f"{res.camel}Out", "201"
        case OpKind.ACTION:
            return f"{res.camel}Result", "201"
        case OpKind.LOGIN:
            return "TokenOut", "200"
    return "None", "200"


def render_handler(op: Operation, writer: StepWriter, res: Resource) -> str:
    """The decorated async function serving ``op`` (an HTTP endpoint or an event consumer)."""
    body = writer.body(op)
    text = "\n".join(body)
    uses_calls = "calls[" in text or op.kind is OpKind.ACTION or "new_row(" in text
    if op.kind is OpKind.CONSUME:
        ids = writer.ids_lines(op) if "ids" in text else []
        return _consumer(op, body, uses_calls, ids)
    if op.kind is OpKind.PROXY:
        return _proxy(op, body)
    model, status = _response(op, res)
    params = ["request: Request", *_params(op.path or "", "int")]
    if op.kind in (OpKind.READ,):
        payload = (
            "{" + ", ".join(f"{p.split(':')[0]!r}: {p.split(':')[0]}" for p in params[1:]) + "}"
        )
    elif op.kind is OpKind.LIST:
        payload = "dict(request.query_params)"
    elif op.changes == "delete":  # a DELETE takes no body: its path names the row
        payload = "{'id': id}"
    else:
        schema = {
            OpKind.WRITE: f"{res.camel}Create",
            OpKind.ACTION: f"{res.camel}Request",
            OpKind.LOGIN: "LoginRequest",
        }.get(op.kind, "dict[str, Any]")
        params.append(f"body: {schema}")
        payload = "body.model_dump()" if schema != "dict[str, Any]" else "body"
        if op.changes_one:  # an update: the body's fields, on the row the path names
            payload = f"{{**{payload}, 'id': id}}"
    lines = [
        f"@app.{(op.method or 'post').lower()}(",
        f"{_IND}{op.path!r},",
        f"{_IND}response_model={model},",
        f"{_IND}status_code={status},",
        f"{_IND}operation_id={op.name!r},",
        f"{_IND}tags=[{res.many!r}],",
        ")",
        f"async def {op.name}({', '.join(params)}) -> Any:",
        _doc(op),
        f"{_IND}payload: dict[str, Any] = {payload}",
        # the user's before hook: may reject the request or change the payload the steps use
        f"{_IND}payload = await rt.before(handlers, {op.name!r}, payload, request)",
    ]
    if uses_calls:
        lines.append(f"{_IND}calls: dict[str, Any] = {{}}")
    if "ids" in text:
        lines += [_IND + line for line in writer.ids_lines(op)]
    if op.kind is OpKind.ACTION:
        lines.append(f"{_IND}result: Any = action_result({res.name!r}, payload, calls)")
    else:
        lines.append(f"{_IND}result: Any = None")
    ok = ", 201" if status == "201" else ""
    # a saga (the model gave a step a compensation): its undos run if a later step fails
    saga = ", rt.saga() as saga" if any(s.compensation for s in op.steps) else ""
    lines.append(f"{_IND}async with rt.operation({op.name!r}{ok}){saga}:")
    lines += [wrapped for line in body for wrapped in wrap(_IND * 2 + line)]
    finish = f"rt.finish(handlers, {op.name!r}, result, payload"
    finish += ", 201)" if status == "201" else ")"
    lines.append(f"{_IND * 2}return await {finish}")
    return "\n".join(lines)


def _consumer(op: Operation, body: list[str], uses_calls: bool, ids: list[str]) -> str:
    broker_step = op.trigger or ""
    lines = [
        *wrap(f"@rt.consumer(SPEC['consumes'][{op.name!r}], {broker_step!r}, {op.name!r})"),
        f"async def {op.name}(event: dict[str, Any]) -> None:",
        _doc(op),
        f"{_IND}payload: dict[str, Any] = event['data']",
    ]
    if uses_calls:
        lines.append(f"{_IND}calls: dict[str, Any] = {{}}")
    lines += [_IND + line for line in ids]
    lines.append(f"{_IND}result: Any = payload")
    lines += [wrapped for line in body for wrapped in wrap(_IND + line)]
    lines.append(f"{_IND}await rt.finish(handlers, {op.name!r}, result, payload)")
    return "\n".join(lines)


def forward_route(op: Operation, writer: StepWriter) -> str | None:
    """The ``ForwardRoute(...)`` of a proxy operation for the runtime's fast path: its steps,
    in order, as the fast path's step objects (compute, a token check, the final forward);
    None when a step is one the fast path does not run (the FastAPI endpoint serves it)."""
    steps: list[str] = []
    for i, step in enumerate(op.steps):
        record: StepVisitor[str | None] = _RouteStep(op, writer, last=i == len(op.steps) - 1)
        rendered = visit(step, record)
        if rendered is None:
            return None
        steps.append(rendered)
    args = [repr(op.method), repr(op.path), repr(op.name)]
    line = f"ForwardRoute({', '.join(args)}, ({', '.join(steps)}{',' * (len(steps) == 1)}))"
    if len(line) <= 96:
        return line
    inner = "".join(f"{_IND * 2}{step},\n" for step in steps)
    lines = "".join(f"{_IND}{arg},\n" for arg in args)
    return f"ForwardRoute(\n{lines}{_IND}(\n{inner}{_IND}),\n)"


@dataclass(frozen=True)
class _RouteStep:
    """One step of proxy operation ``op`` as the fast path's record (``RouteStep`` of
    ``archsim_runtime.proxy``), or None when the fast path does not run it (``StepVisitor``):
    computes and token checks before the last step, which forwards unconditionally."""

    op: Operation
    writer: StepWriter
    last: bool

    def compute(self, step: Step) -> str | None:
        """``Compute(operation)`` (named when the operation has its own service time)."""
        if self.last:
            return None
        return f"Compute({self.op.name!r})" if step.service_time is not None else "Compute()"

    def call(self, step: Step) -> str | None:
        """``Authorize`` for a token check, ``Forward`` for the final call."""
        policy = self.writer.policy
        if step.checks_token and not self.last:
            return f"Authorize({step.target!r}, {policy(step)})"
        if self.last and step.p == 1:
            callee = self.writer.arch.behaviour.operation(step.target or "", step.operation or "")
            return f"Forward({step.target!r}, {callee.path!r}, {policy(step)})"
        return None

    def _endpoint(self, step: Step) -> str | None:
        return None  # the FastAPI endpoint serves an operation with such a step

    query = cache_get = cache_set = cache_delete = publish = _endpoint


def _proxy(op: Operation, body: list[str]) -> str:
    params = ["request: Request", *_params(op.path or "", "str")]
    route = (
        f"@app.api_route({op.path!r}, methods=[{op.method!r}], operation_id={op.name!r}, "
        f"tags=['routes'])"
    )
    lines = [
        *wrap(route),
        f"async def {op.name}({', '.join(params)}) -> Response:",
        _doc(op),
        f"{_IND}async with rt.operation({op.name!r}):",
        *(wrapped for line in body for wrapped in wrap(_IND * 2 + line)),
    ]
    return "\n".join(lines)
