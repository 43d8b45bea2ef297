"""Row and payload shaping shared by generated handlers (kept here so generated code stays
short): new rows from request payloads, public views of rows, bodies of outbound calls."""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import HTTPException
from sqlalchemy import Table

from .auth import hash_password

__all__ = [
    "action_body",
    "action_result",
    "amount",
    "changed_values",
    "create_body",
    "event_ids",
    "need",
    "new_row",
    "public",
    "reference",
    "seed_values",
]

_SECRET = ("password", "password_hash")


def public(row: Any) -> dict[str, Any]:
    """A row (mapping) as a JSON-ready dict without secrets."""
    return {k: v for k, v in dict(row).items() if k not in _SECRET}


def _call_ids(calls: dict[str, Any]) -> dict[str, Any]:
    return {name: value.get("id") for name, value in calls.items() if isinstance(value, dict)}


def new_row(table: Table, payload: dict[str, Any], calls: dict[str, Any]) -> dict[str, Any]:
    """Column values for an insert: payload fields that are columns, a hashed password, the
    ids of what the calls returned (under ``data.calls``), status and creation time."""
    columns = set(table.c.keys())
    values = {k: v for k, v in payload.items() if k in columns and k not in ("id", "password")}
    if "password" in payload and "password_hash" in columns:
        values["password_hash"] = hash_password(str(payload["password"]))
    data = dict(payload.get("data") or {})
    ids = _call_ids(calls)
    if ids:
        data["calls"] = ids
    values["data"] = data
    values.setdefault("status", "created")
    values["created_at"] = time.time()
    return values


def changed_values(table: Table, payload: dict[str, Any]) -> dict[str, Any]:
    """Column values for an update of a row (PUT, PATCH): payload fields that are columns,
    never its id, creation time or password hash, and the status ``updated``."""
    kept = ("id", "password", "password_hash", "created_at")
    values = {k: v for k, v in payload.items() if k in table.c and k not in kept}
    values["status"] = "updated"
    return values


def reference(resource: str, payload: dict[str, Any]) -> str:
    """A caller-side reference for an action (the payload's, else a new one)."""
    return str(payload.get("reference") or f"{resource}:{uuid.uuid4().hex[:12]}")


def amount(payload: dict[str, Any]) -> float:
    """The amount an action is about: ``amount`` or ``data.amount`` (0 when absent)."""
    raw = payload.get("amount", (payload.get("data") or {}).get("amount", 0))
    try:
        return float(raw or 0)
    except (TypeError, ValueError):
        return 0.0


def action_body(
    resource: str, payload: dict[str, Any], ids: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The body of a call that asks another component to act: reference, amount and data,
    and the identifiers the callee needs (``ids``, derived by the model's data flow)."""
    return {
        **(ids or {}),
        "reference": reference(resource, payload),
        "amount": amount(payload),
        "data": payload.get("data") or {},
    }


def create_body(payload: dict[str, Any], ids: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of a call that creates something elsewhere: name, data, any ``*_id`` of the
    payload and the identifiers the callee needs (``ids``)."""
    body = {k: v for k, v in payload.items() if k.endswith("_id")}
    body.update(ids or {})
    body["name"] = str(payload.get("name") or "created")
    body["data"] = payload.get("data") or {}
    return body


def _an_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def need(payload: dict[str, Any], names: tuple[str, ...], step: str) -> dict[str, Any]:
    """The identifiers ``step`` needs from its request: 422 naming the step and what is
    missing, never a call with ``None`` in its path."""
    missing = [n for n in names if not _an_id(payload.get(n))]
    if missing:
        raise HTTPException(422, f"{step} needs {', '.join(missing)} (a positive integer id)")
    return {n: payload[n] for n in names}


def event_ids(payload: dict[str, Any], fields: dict[str, str], step: str) -> dict[str, Any]:
    """The identifiers an event carries (id name → field of the event), for a consumer's
    calls; an event without one fails the consumer with an error naming the step."""
    ids = {name: payload.get(key) for name, key in fields.items()}
    missing = [n for n, v in ids.items() if not _an_id(v)]
    if missing:
        raise ValueError(f"{step}: the event carries no {', '.join(missing)}")
    return ids


def seed_values(table: Table, n: int) -> dict[str, Any]:
    """Row ``n`` (1-based) of a table's start-up seed: a name, ids 1…N in every ``*_id``
    column, an email and an unusable password hash for accounts."""
    values: dict[str, Any] = {}
    for column in table.c:
        if column.primary_key:
            continue
        if column.name == "name":
            values["name"] = f"seed {table.name} {n}"
        elif column.name.endswith("_id"):
            values[column.name] = n
        elif column.name == "email":
            values["email"] = f"seed-{n}@{table.name}.example.com"
        elif column.name == "password_hash":
            values["password_hash"] = "!"  # matches no password: seeded accounts cannot log in
        elif column.name == "status":
            values["status"] = "seeded"
        elif column.name == "data":
            values["data"] = {"seed": n}
        elif column.name == "created_at":
            values["created_at"] = time.time()
    return values


def action_result(resource: str, payload: dict[str, Any], calls: dict[str, Any]) -> dict[str, Any]:
    """What an action answers; ``calls`` is filled in as the action's calls complete."""
    return {
        "id": uuid.uuid4().hex,
        "reference": reference(resource, payload),
        "amount": amount(payload),
        "status": "succeeded",
        "data": payload.get("data") or {},
        "calls": calls,
    }
