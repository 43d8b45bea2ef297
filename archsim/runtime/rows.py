"""Row and payload shaping shared by generated handlers (kept here so generated code stays
short): new rows from request payloads, public views of rows, bodies of outbound calls."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import Table

from .auth import hash_password

__all__ = [
    "action_body",
    "action_result",
    "amount",
    "create_body",
    "new_row",
    "public",
    "reference",
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


def action_body(resource: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The body of a call that asks another component to act: reference, amount and data."""
    return {
        "reference": reference(resource, payload),
        "amount": amount(payload),
        "data": payload.get("data") or {},
    }


def create_body(payload: dict[str, Any]) -> dict[str, Any]:
    """The body of a call that creates something elsewhere: name, data and any ``*_id``."""
    body = {k: v for k, v in payload.items() if k.endswith("_id")}
    body["name"] = str(payload.get("name") or "created")
    body["data"] = payload.get("data") or {}
    return body


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
