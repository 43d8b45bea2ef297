"""The generated ``handlers.py`` acts before the steps too (issue 11, item 5), in a stack really
started: a ``before_`` hook that refuses a body with 422 keeps it out of the database, one
that changes the body changes what is stored, and regenerating keeps the user's file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stack_run import running_stack

from archsim.codegen import apply_writes, plan_writes, render
from archsim.model import load

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "tests" / "stack_models" / "shelf.dot"

# what a user writes: a business rule before the write, and a normalised name
HOOKS = '''
from typing import Any

from fastapi import HTTPException, Request


async def before_create_book(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    if payload["name"].lower().startswith("banned"):
        raise HTTPException(422, "this shelf takes no banned books")
    return {**payload, "name": payload["name"].strip().title()}
'''


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    directory = tmp_path_factory.mktemp("shelf")
    apply_writes(plan_writes(directory, render(load(MODEL).architecture)))
    (directory / "services" / "books" / "handlers.py").write_text(HOOKS)
    with running_stack(MODEL, directory) as front:  # generates again: handlers.py is kept
        yield directory, front


def test_generated_handlers_have_a_before_hook_per_endpoint() -> None:
    files = render(load(MODEL).architecture)
    hooks = files["services/books/handlers.py"]
    assert "async def before_create_book(payload" in hooks
    assert "async def create_book(result" in hooks
    app = files["services/books/app.py"]
    body = app[app.index("async def create_book") :]
    assert body.index("rt.before(handlers, 'create_book'") < body.index("rt.transaction(")


def test_a_refused_body_is_a_422_and_is_not_written(stack: tuple[Path, str]) -> None:
    directory, front = stack
    assert (directory / "services" / "books" / "handlers.py").read_text() == HOOKS
    http = httpx.Client(base_url=front, timeout=15)
    refused = http.post("/books", json={"name": "Banned Book"})
    assert refused.status_code == 422, refused.text
    assert "no banned books" in refused.text
    kept = http.post("/books", json={"name": "  dune  "})
    assert kept.status_code == 201, kept.text
    assert kept.json()["name"] == "Dune"  # the hook's payload is the one the steps wrote
    names = [b["name"] for b in http.get("/books").json()["items"]]
    assert names == ["Dune"]
