"""benchmarks/gen_architecture.py draws architectures that ``archsim validate`` accepts at every
size and seed (the benchmarks and docs/analyze.md load what it draws), with calls between
services, events published and consumed, and none of the loops the model refuses."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from archsim.errors import Severity
from archsim.model import read_architecture

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from gen_architecture import generate


@pytest.mark.parametrize("n", [1, 2, 3, 6, 7, 20, 60, 200, 400])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_architectures_validate(n: int, seed: int):
    text = generate(n, 4 * n, seed=seed)
    result = read_architecture(text, f"g{n}-{seed}.dot")  # raises listing every error
    assert not [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert len(result.architecture.components) == n
    clients = [c.id for c in result.architecture.components if c.kind.value == "client"]
    assert not clients, f"services read as traffic sources: {clients[:5]}"


def test_big_ones_call_publish_and_subscribe():
    """The shapes that made loops are still drawn: service calls, publishes, subscriptions."""
    text = generate(400, 1600, seed=0)
    for label in ('"calls"', '"publishes to"', '"subscribes to"'):
        assert f"label={label}" in text, label
    read_architecture(text, "g400.dot")


def test_no_links_asked():
    assert "->" not in generate(30, 0)
    read_architecture(generate(30, 0), "g30-0.dot")
