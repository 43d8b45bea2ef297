"""Render an operation's steps (the model's behaviour) as the Python body of its handler.

The simulator runs these same steps in simulated time; here each becomes a runtime call in the
same order, through the model's ``StepVisitor`` (``_StepLines``): compute → ``rt.compute()``,
call → ``rt.call_json``/``rt.authorize``/``rt.forward``/``rt.send_mail``, query → SQLAlchemy,
cache get/set/delete → ``rt.cache_*``, publish → ``rt.publish``. A step with ``p < 1`` is
wrapped in ``if rt.chance(p):`` (a token check never is: its ``p`` is the token cache's miss
share). Writes (an insert, or the update or delete of the row a route's ``{id}`` names) run in
one transaction that also covers the invalidation and the publish, so a failure leaves nothing
half-written.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from archsim.codegen.layout import role_of
from archsim.codegen.resources import Resource
from archsim.model import (
    Architecture,
    Component,
    Kind,
    Operation,
    OpKind,
    Step,
    StepVisitor,
    visit,
)
from archsim.model.behaviour import CallPolicy
from archsim.model.dataflow import CallInputs, Dataflow, OpFlow, Source, served_by

__all__ = ["StepWriter"]

_IND = "    "


@dataclass
class StepWriter:
    """Writes handler bodies for one component; collects the call policies it needs."""

    arch: Architecture
    comp: Component
    res: Resource
    flow: Dataflow
    policies: dict[CallPolicy, str] = field(default_factory=dict)
    _pending: list[CallInputs] = field(default_factory=list)
    _in_write: bool = False  # rendering the steps inside a write's transaction

    # -- helpers ---------------------------------------------------------------------------

    def policy(self, step: Step) -> str:
        """The module constant holding this step's CallPolicy (``_P1``, …)."""
        policy = step.policy or CallPolicy(timeout=self.arch.default_timeout)
        if policy not in self.policies:
            self.policies[policy] = f"_P{len(self.policies) + 1}"
        return self.policies[policy]

    def _callee(self, step: Step) -> Operation | None:
        try:
            return self.arch.behaviour.operation(step.target or "", step.operation or "")
        except KeyError:
            return None

    @staticmethod
    def _key(pattern: str) -> str:
        """A cache key pattern as a Python expression: ``product:{id}`` → f-string."""
        if "{" not in pattern:
            return repr(pattern)
        return "f" + repr(pattern.replace("{id}", "{payload['id']}"))

    # -- operations ------------------------------------------------------------------------

    def op_flow(self, op: Operation) -> OpFlow:
        """The data flow of ``op`` (which ids it needs, knows and learns)."""
        return self.flow.of(op.component, op.name)

    def ids_lines(self, op: Operation) -> list[str]:
        """The ``ids`` dict of a handler: the identifiers its calls send ([]: no calls)."""
        flow = self.op_flow(op)
        head = "ids: dict[str, Any] = "
        if op.kind is OpKind.CONSUME:
            used = {n for c in flow.calls for _, n, s in c.inputs if s.kind == "event"}
            fields = {k: v for k, v in flow.event_fields if k in used}
            if not fields:
                return [head + "{}"]
            items = [f"{k!r}: {v!r}" for k, v in fields.items()]
            return _call(head + "event_ids(", ["payload", ("{", items, "}"), repr(op.qualified)])
        if op.kind not in (OpKind.WRITE, OpKind.ACTION):
            return []
        if not flow.needs:
            return [head + "{}"]
        names = [repr(n) for n in flow.needs]
        return _call(head + "need(", ["payload", ("(", names, ")"), repr(op.qualified)])

    def body(self, op: Operation) -> list[str]:
        """Lines of the handler body (not indented), ending with ``result`` set."""
        lines: list[str] = []
        self._pending = list(self.op_flow(op).calls)
        self._steps(op, list(op.steps), lines, 0)
        return lines

    def _inputs(self, target: str, operation: str) -> CallInputs | None:
        """The next call of the data flow to ``target.operation`` (calls in step order)."""
        for i, call in enumerate(self._pending):
            if call.callee == f"{target}.{operation}":
                return self._pending.pop(i)
        return None

    @staticmethod
    def _value(source: Source, name: str) -> str:
        if source.kind == "seed":  # nothing upstream carries it: a seeded row (generate warned)
            return f"ids.get({name!r}, 1)"
        return f"ids[{name!r}]"

    def _steps(self, op: Operation, steps: list[Step], out: list[str], depth: int) -> None:
        for i, step in enumerate(steps):
            pad = _IND * depth
            out.extend(_comment(pad, f"step: {step.describe()}"))
            # a token check is never left to chance: its p is the token cache's miss share,
            # and rt.authorize keeps that cache
            if step.p < 1 and not step.checks_token:
                out.append(f"{pad}if rt.chance({step.p!r}):")
                self._step(op, step, out, depth + 1)
                continue
            if step.changes_data and op.kind in (OpKind.WRITE, OpKind.CONSUME):
                # The rest of the operation runs inside the transaction of this write.
                out.append(f"{pad}async with rt.transaction({step.target!r}) as conn:")
                self._change(op, step, out, depth + 1)
                rest = steps[i + 1 :]
                if rest:
                    self._in_write = True  # a publish in here goes through the outbox
                    try:
                        self._steps(op, rest, out, depth + 1)
                    finally:
                        self._in_write = False
                return
            self._step(op, step, out, depth)

    def _step(self, op: Operation, step: Step, out: list[str], depth: int) -> None:
        lines: StepVisitor[list[str]] = _StepLines(self, op, depth)
        out.extend(visit(step, lines))

    # -- SQL -------------------------------------------------------------------------------

    def _select(self, op: Operation, step: Step, out: list[str], depth: int) -> None:
        pad, table = _IND * depth, self.res.table
        if not self.res.stores:
            out.append(f"{pad}pass  # no table of our own to read")
            return
        out.append(f"{pad}async with rt.reading({step.target!r}) as conn:")
        inner = pad + _IND
        if op.kind is OpKind.LIST:
            out.append(f"{inner}query = select({table}).order_by({table}.c.id.desc()).limit(100)")
            out.append(f"{inner}rows = (await conn.execute(query)).mappings().all()")
            out.append(f"{pad}result = {{'items': [public(r) for r in rows]}}")
        elif op.kind is OpKind.LOGIN:
            out.append(f"{inner}query = select({table}).where({table}.c.email == payload['email'])")
            out.append(f"{inner}row = (await conn.execute(query)).mappings().first()")
            out.append(
                f"{pad}if row is None or not verify_password(payload['password'], "
                "row['password_hash']):"
            )
            out.append(f"{pad}{_IND}raise HTTPException(401, 'wrong email or password')")
            out.append(f"{pad}result = public(row)")
        elif op.kind is OpKind.READ:
            out.append(f"{inner}query = select({table}).where({table}.c.id == payload['id'])")
            out.append(f"{inner}row = (await conn.execute(query)).mappings().first()")
            out.append(f"{pad}if row is None:")
            out.append(
                f'{pad}{_IND}raise HTTPException(404, f"{self.res.name} '
                "{payload['id']} not found\")"
            )
            out.append(f"{pad}result = public(row)")
        else:
            out.append(f"{inner}await conn.execute(select({table}.c.id).limit(1))")

    def _change(self, op: Operation, step: Step, out: list[str], depth: int) -> None:
        """The SQL of a query that changes data, inside its transaction (``conn``)."""
        if step.mode == "update":
            self._update(out, depth)
        elif step.mode == "delete":
            self._delete(out, depth)
        else:
            self._insert(op, step, out, depth)

    def _update(self, out: list[str], depth: int) -> None:
        """Update the row the path's id names from the payload's fields, read it back; 404
        when there is none (rule service.route)."""
        pad, table = _IND * depth, self.res.table
        where = f"{table}.c.id == payload['id']"
        out.append(f"{pad}values = changed_values({table}, payload)")
        out.append(f"{pad}await conn.execute({table}.update().where({where}).values(**values))")
        out.append(f"{pad}query = select({table}).where({where})")
        out.append(f"{pad}row = (await conn.execute(query)).mappings().first()")
        out.append(f"{pad}if row is None:")
        out.append(
            f"{pad}{_IND}raise HTTPException(404, f\"{self.res.name} {{payload['id']}} not found\")"
        )
        out.append(f"{pad}result = public(row)")

    def _delete(self, out: list[str], depth: int) -> None:
        """Delete the row the path's id names; deleting a missing row is no error (a DELETE
        is idempotent): the answer says whether one was there."""
        pad, table = _IND * depth, self.res.table
        where = f"{table}.c.id == payload['id']"
        out.append(f"{pad}deleted = await conn.execute({table}.delete().where({where}))")
        out.append(f"{pad}result = {{'id': payload['id'], 'deleted': deleted.rowcount > 0}}")

    def _insert(self, op: Operation, step: Step, out: list[str], depth: int) -> None:
        pad, table = _IND * depth, self.res.table
        if op.kind is OpKind.CONSUME:  # the row records the event it handled
            # the inbox row commits with the write or not at all: a redelivery writes nothing
            out.append(f"{pad}if not await rt.first_delivery(conn, event):")
            out.append(f"{pad}{_IND}return  # handled before: its write is committed")
            record = (
                "{'name': event['event'], "
                "'data': {'event_id': event['event_id'], 'event': payload}}"
            )
            out.append(f"{pad}values = new_row({table}, {record}, calls)")
        else:
            out.append(f"{pad}values = new_row({table}, payload, calls)")
        out.append(f"{pad}inserted = await conn.execute(insert({table}).values(**values))")
        out.append(f"{pad}result = public({{**values, 'id': inserted.inserted_primary_key[0]}})")

    # -- calls -----------------------------------------------------------------------------

    def _call(self, op: Operation, step: Step) -> list[str]:
        """The lines of a call step of ``op``: a token check or issue, a mail, a forward, or
        an HTTP call to the callee's operation."""
        target = self.arch.component(step.target or "")
        callee = self._callee(step)
        name, policy = step.operation or "request", self.policy(step)
        t = repr(target.id)
        if target.kind is Kind.AUTH:
            token = _token_call(op, name, t, policy)
            if token is not None:
                return token
        if role_of(self.arch, target) == "smtp_sink":
            return _mail(op, t)
        if callee is None or callee.method is None:
            return [f"pass  # {target.id}.{name}: no HTTP operation to call"]
        if op.kind is OpKind.PROXY:
            path = _fstring(callee.path or "/")
            return [f"return await rt.forward(request, {t}, {path}, policy={policy})"]
        return self._http_call(op, step, target.id, callee, name, policy)

    def _http_call(
        self, op: Operation, step: Step, target: str, callee: Operation, name: str, policy: str
    ) -> list[str]:
        """The lines of an HTTP call of ``callee`` (an operation of ``target``), its answer kept
        as ``calls[name]`` and the id it creates learned for the operation's data flow."""
        t = repr(target)
        key = f"calls[{name!r}]"
        path = callee.path or "/"
        call = self._inputs(target, name) if self.ids_lines(op) else None
        given = {i: self._value(s, n) for i, n, s in call.inputs} if call else {}
        learn = [f"ids[{call.learns!r}] = {key}['id']"] if call is not None and call.learns else []
        # through a balancer or gateway, the operation behind it says what the call is
        served = served_by(self.arch, target, name) or callee
        if served.kind is OpKind.READ and "{id}" in path:
            if "id" not in given:  # an operation with no data flow (a read calling a read)
                given["id"] = "payload['id']"
            url = "f" + repr(path.replace("{id}", "{ref}"))
            return [
                f"ref = {given['id']}",
                f"{key} = await rt.call_json({t}, 'GET', {url}, policy={policy})",
                *learn,
            ]
        # a route with its id elsewhere (GET /users/{id}/orders, PUT /carts/{id}): the
        # caller's id when its data flow gives one (an update or delete of one row always
        # has it), else the request's own (rule service.route)
        ref = [f"ref = {given.pop('id', _OWN_ID)}"] if "{id}" in path else []
        if callee.method == "GET":
            url = (
                "f"
                + repr(path.replace("{service}", "{SPEC['component']}").replace("{id}", "{ref}"))
                if "{" in path
                else repr(path)
            )
            return [*ref, f"{key} = await rt.call_json({t}, 'GET', {url}, policy={policy})"]
        lines = self._send(step, t, callee, path, key, policy, given, learn)
        return [*ref, *lines] if ref else lines

    def _send(
        self,
        step: Step,
        t: str,
        callee: Operation,
        path: str,
        key: str,
        policy: str,
        given: dict[str, str],
        learn: list[str],
    ) -> list[str]:
        """The lines of a call that sends a body (``given``: the ids it carries) to ``callee``
        of target ``t`` (a repr) at ``path``; a saga step also registers its compensation."""
        sent = "{" + ", ".join(f"{k!r}: {v}" for k, v in given.items()) + "}"
        before: list[str] = []
        if len(sent) > 60:  # one id per line: generated code stays within ruff's limits
            before = ["sent = {", *(f"{_IND}{k!r}: {v}," for k, v in given.items()), "}"]
            sent = "sent"
        extra = f", {sent}" if given else ""
        if callee.kind is OpKind.WRITE:
            body = f"create_body(payload{extra})"
        else:  # actions, external requests, anything else: a reference and the amount
            body = f"action_body({self.res.name!r}, payload{extra})"
        url = "f" + repr(path.replace("{id}", "{ref}")) if "{id}" in path else repr(path)
        if callee.method == "DELETE":  # a DELETE sends no body: its path names the row
            return [f"{key} = await rt.call_json({t}, 'DELETE', {url}, policy={policy})", *learn]
        undo = step.compensation
        cancel = self._callee(undo) if undo is not None else None
        if undo is not None and cancel is not None:
            # a saga step: what it asked is what its undo (the model's compensation) cancels
            return [
                *before,
                f"asked = {body}",
                f"{key} = await rt.call_json({t}, {callee.method!r}, {url}, json=asked, "
                f"policy={policy})",
                f"saga.undo({t}, {cancel.path or '/'!r}, asked, policy={self.policy(undo)})",
                *learn,
            ]
        return [
            *before,
            f"{key} = await rt.call_json({t}, {callee.method!r}, {url}, json={body}, "
            f"policy={policy})",
            *learn,
        ]


_OWN_ID = "payload.get('id', 1)"  # a request with no id of its own (a create) names item 1


def _token_call(op: Operation, name: str, t: str, policy: str) -> list[str] | None:
    """The lines of a call to the auth service ``t`` (a repr) that checks or issues a token,
    or None when ``name`` is another of its operations."""
    if name == "validate_token":
        if op.kind is OpKind.CONSUME:
            return ["pass  # events carry no bearer token to validate"]
        if op.kind is OpKind.PROXY:
            return [f"await rt.authorize(request, {t}, policy={policy})"]
        return [f"calls['claims'] = await rt.authorize(request, {t}, policy={policy})"]
    if name == "issue_token" and op.kind is OpKind.CONSUME:
        # rule consume.token: the handler's later calls carry this service's own token
        return [f"calls['token'] = await rt.service_token({t}, policy={policy})"]
    if name == "issue_token":
        return [
            f"calls['token'] = await rt.call_json({t}, 'POST', '/tokens', "
            f"json={{'subject': str(result['id']), 'claims': {{'email': "
            f"result.get('email')}}}}, headers=rt.client_headers(), policy={policy})",
            "result = calls['token']",
        ]
    return None


def _mail(op: Operation, t: str) -> list[str]:
    """The lines that send ``op``'s mail through the mail sink ``t`` (a repr)."""
    consume = op.kind is OpKind.CONSUME
    what = "event['event']" if consume else repr(op.name)
    # a consumer's mail is keyed by its event: a redelivery sends the same message
    key = ", key=event['event_id']" if consume else ""
    return [
        f"subject = f\"{{{what}}} {{payload.get('id', '')}}\"",
        f"await rt.send_mail({t}, subject=subject, body=json.dumps(payload){key})",
    ]


@dataclass(frozen=True)
class _StepLines:
    """The lines one step of ``op`` becomes in its handler, at ``depth`` (``StepVisitor``)."""

    writer: StepWriter
    op: Operation
    depth: int

    @property
    def _pad(self) -> str:
        return _IND * self.depth

    def compute(self, step: Step) -> list[str]:
        """``rt.compute()``; an operation with its own service time (operation_time) names
        itself."""
        own = f"{self.op.name!r}" if step.service_time is not None else ""
        return [f"{self._pad}rt.compute({own})"]

    def call(self, step: Step) -> list[str]:
        """The call's runtime lines (``StepWriter._call``)."""
        return [self._pad + line for line in self.writer._call(self.op, step)]

    def query(self, step: Step) -> list[str]:
        """An insert, update or delete in its own transaction, or a select."""
        out: list[str] = []
        if step.changes_data:
            out.append(f"{self._pad}async with rt.transaction({step.target!r}) as conn:")
            self.writer._change(self.op, step, out, self.depth + 1)
        else:
            self.writer._select(self.op, step, out, self.depth)
        return out

    def cache_get(self, step: Step) -> list[str]:
        """``rt.cache_get``; a hit is the result, a miss runs the miss steps."""
        pad, key = self._pad, StepWriter._key(step.key or "")
        out = [
            f"{pad}cached = await rt.cache_get({step.target!r}, {key})",
            f"{pad}if cached is not None:",
            f"{pad}{_IND}result = cached",
            f"{pad}else:",
        ]
        for inner in step.on_miss:
            out.extend(_comment(pad + _IND, f"step (on miss): {inner.describe()}"))
            self.writer._step(self.op, inner, out, self.depth + 1)
        return out

    def cache_set(self, step: Step) -> list[str]:
        """``rt.cache_set`` of the result, with the TTL the model gave the fill."""
        # the model gives every fill its TTL (the link's, else the documented default)
        assert step.ttl is not None, f"{self.op.qualified}: a cache fill without a TTL"
        key = StepWriter._key(step.key or "")
        # a rate limiter's counter (rule rate_limit.count) stores a count, not the result
        value = "1" if step.counts else "result"
        return [f"{self._pad}await rt.cache_set({step.target!r}, {key}, {value}, {step.ttl!r})"]

    def cache_delete(self, step: Step) -> list[str]:
        """``rt.cache_delete`` of the key."""
        key = StepWriter._key(step.key or "")
        return [f"{self._pad}await rt.cache_delete({step.target!r}, {key})"]

    def publish(self, step: Step) -> list[str]:
        """``rt.publish`` of what the operation knows and learned (the data flow)."""
        data = "{**ids, **result}" if self.writer.ids_lines(self.op) else "result"
        # in a write's transaction: staged in the outbox, sent once it commits
        conn = ", conn" if self.writer._in_write else ""
        return [f"{self._pad}await rt.publish({step.target!r}, {step.event!r}, {data}{conn})"]


def _call(head: str, args: list[str | tuple[str, list[str], str]]) -> list[str]:
    """``head(arg, …)`` on one line when it fits in 96 columns, else one argument (and one
    item of a bracketed argument) per line, as ruff format lays it out."""
    # a one-item tuple keeps its comma: ('cart_id',), not the string ('cart_id')
    flat = [
        a
        if isinstance(a, str)
        else a[0] + ", ".join(a[1]) + ("," if a[0] == "(" and len(a[1]) == 1 else "") + a[2]
        for a in args
    ]
    line = head + ", ".join(flat) + ")"
    if len(line) <= 96:
        return [line]
    out = [head]
    for arg in args:
        if isinstance(arg, str):
            out.append(f"{_IND}{arg},")
        else:
            opener, items, closer = arg
            out += [f"{_IND}{opener}", *(f"{_IND * 2}{i}," for i in items), f"{_IND}{closer},"]
    return [*out, ")"]


def _comment(pad: str, text: str) -> list[str]:
    """A comment as lines that fit in 100 columns (ruff's E501 stays quiet)."""
    width = max(40, 100 - len(pad) - 2)
    return [f"{pad}# {line}" for line in textwrap.wrap(text, width, break_on_hyphens=False)]


def _fstring(path: str) -> str:
    return ("f" + repr(path)) if "{" in path else repr(path)
