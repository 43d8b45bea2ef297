"""Proxies that forward round in a loop are refused with the loop named, not a RecursionError
(found by the round-trip property test: a service that routes to itself)."""

from __future__ import annotations

import pytest

from archsim.errors import InvalidModelError
from archsim.model import read_architecture


@pytest.mark.parametrize(
    ("edges", "loop"),
    [
        ('svc_a -> svc_a [label="routes to"]; gw -> svc_a [label="uses"];', "svc_a → svc_a"),
        ('g1 -> g2 [label="routes to"]; g2 -> g1 [label="routes to"];', "g1 → g2 → g1"),
        ('lb1 -> lb2 [label="distributes to"]; lb2 -> lb1 [label="distributes to"];',
         "lb1 → lb2 → lb1"),
    ],
)  # fmt: skip
def test_a_forwarding_loop_is_an_error_that_names_it(edges: str, loop: str):
    text = f'digraph g {{ web [kind=client]; web -> x; x -> db [label="stores in"]; {edges} }}'
    with pytest.raises(InvalidModelError) as err:
        read_architecture(text, "g.dot")
    (found,) = [d for d in err.value.diagnostics if d.code == "forward-loop"]
    assert loop in found.message and found.location.line == 1 and found.hint


def test_proxies_in_a_chain_are_no_loop():
    text = """digraph g {
  web [kind=client]; web -> lb;
  lb -> gw [label="distributes to"]; gw -> api [label="routes to"];
  api -> db [label="stores in"];
}"""
    result = read_architecture(text, "g.dot")
    assert not [d for d in result.diagnostics if d.code == "forward-loop"]
