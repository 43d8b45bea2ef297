"""Every consumer the model derives is wired to a broker in the generated spec, including one
for an event nothing in the model emits (minishop's `payment.failed`): it used to crash the
service at import (KeyError in SPEC['consumes'])."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from archsim.codegen import render
from archsim.model import OpKind, load
from archsim.model.naming import snake

ROOT = Path(__file__).resolve().parent.parent
FILES = [*sorted((ROOT / "examples" / "architectures").glob("*.dot")), ROOT / "topology.dot"]


def _spec(app: str) -> dict:
    tree = ast.parse(app)
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "SPEC":
            return ast.literal_eval(node.value)
    raise AssertionError("no SPEC in the generated app")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_consumer_has_its_broker(path: Path) -> None:
    arch = load(path).architecture
    files = render(arch)
    for comp in arch.components:
        consumers = [
            op.name for op in arch.behaviour.operations_of(comp.id) if op.kind is OpKind.CONSUME
        ]
        app = files.get(f"services/{snake(comp.id)}/app.py")
        if not consumers or app is None:
            continue
        consumes = _spec(app)["consumes"]
        assert set(consumers) <= set(consumes), (comp.id, set(consumers) - set(consumes))
