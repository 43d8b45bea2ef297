"""Round 5 of the drawing shapes: labels in another tense or number of a relation's word
(``emails``), calls back into a balancer or gateway with several components behind it,
telemetry pushed to a tracing tool, a service's rate limiter; and architectures users bring
(tests/model_shapes/: DeathStarBench's hotel reservation, Mastodon, a RAG chat bot).

Each test is a DOT snippet drawn as its author would; docs/behaviour.md states the rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from model_queries import arch_of as _arch
from model_queries import op as _op
from model_queries import relation as _relation

from archsim.errors import InvalidModelError
from archsim.model import Kind, Relation, load, read_architecture

SHAPES = Path(__file__).parent / "model_shapes"


# -- a relation's word in another tense or number ---------------------------------------------


@pytest.mark.parametrize(
    ("label", "target", "relation"),
    [
        ("emails", 'smtp [label="SMTP relay"]', Relation.SENDS_VIA),
        ("store", "b [shape=cylinder]", Relation.STORES_IN),
        ("cached", "b [kind=cache]", Relation.CACHES_IN),
        ("invoke", "b", Relation.CALLS),
        ("persist", "b [shape=cylinder]", Relation.STORES_IN),
    ],
)
def test_a_relation_word_in_another_form_is_that_relation_not_a_typo(
    label: str, target: str, relation: Relation
) -> None:
    # before: each was "a typo of a relation", an error that refused the whole file
    name = target.split()[0]
    arch = _arch(
        f'digraph g {{ a -> a_db [label="stores in"]; {target}; a -> {name} [label="{label}"]; }}'
    )
    assert _relation(arch, "a", name) is relation


@pytest.mark.parametrize("label", ["pushes to", "dequeue"])
def test_another_verb_near_a_relation_is_free_text_not_a_typo(label: str) -> None:
    result = read_architecture(
        f'digraph g {{ a -> a_db [label="stores in"]; q [kind=broker]; a -> q [label="{label}"]; }}'
    )
    assert not [d for d in result.diagnostics if d.severity.value == "error"]


def test_a_slip_of_the_keys_is_still_an_error_and_a_phrase_keeps_its_reading() -> None:
    with pytest.raises(InvalidModelError, match="did you mean 'subscribes to'"):
        read_architecture('digraph g { a; bus [kind=broker]; a -> bus [label="subscibes to"]; }')
    # "send message" to a service is not "sends messages" (publishing): only one word inflects
    arch = _arch('digraph g { a -> b [label="send message"]; b -> db [label="stores in"]; }')
    assert _relation(arch, "a", "b") is Relation.CALLS


# -- calls into a proxy with several components behind it (rule proxy.call_in) ----------------

_CALL_IN = """digraph g {
  client [kind=client]; client -> gw; gw [kind=gateway]; gw -> a; gw -> b;
  a -> adb [label="stores in"]; b -> bdb [label="stores in"];
  client -> c; c -> gw;
}"""


def test_a_call_into_a_gateway_with_several_routes_asks_the_first_route() -> None:
    # before: c called gw.create_gw, which gw does not offer, and the file was refused
    arch = _arch(_CALL_IN)
    (call,) = [s for s in _op(arch, "c", "create_c").steps if s.action.value == "call"]
    assert (call.target, call.operation) == ("gw", "get_a")
    assert _op(arch, "gw", "get_a").steps[-1].target == "a"


def test_a_call_into_a_balancer_with_several_behind_asks_a_forward_it_offers() -> None:
    arch = load(SHAPES / "mastodon.dot").architecture
    assert arch.component("nginx").kind is Kind.LOAD_BALANCER
    (call,) = [s for s in _op(arch, "remote", "create_remote").steps if s.action.value == "call"]
    offered = {op.name for op in arch.behaviour.operations_of("nginx")}
    assert call.target == "nginx" and call.operation in offered
    assert call.operation.startswith("web__")  # the first component behind it


def test_an_operation_named_on_a_call_into_a_gateway_is_still_checked() -> None:
    with pytest.raises(InvalidModelError, match="'gw' offers no operation 'nope'"):
        read_architecture(_CALL_IN.replace("c -> gw;", 'c -> gw [operation="nope"];'))


# -- telemetry pushed to a tracing tool --------------------------------------------------------


def test_spans_pushed_to_a_tracing_tool_are_left_out() -> None:
    result = load(SHAPES / "hotel-reservation.dot")
    arch = result.architecture
    assert "jaeger" not in {c.id for c in arch.components}  # before: a service every hop called
    said = [d for d in result.diagnostics if d.code == "observer-edge"]
    edges = [d for d in said if "telemetry, not a request" in d.message]
    assert len(edges) == 8  # one per service, each at its own edge
    assert any("jaeger is left out of the model" in d.message for d in said)
    assert arch.component("consul").kind is Kind.REGISTRY  # its edges say "register": kept
    assert not [d for d in result.diagnostics if d.severity.value == "warning"]


def test_an_edge_to_a_tracing_tool_that_states_its_relation_is_kept() -> None:
    arch = _arch('digraph g { a -> db [label="stores in"]; a -> jaeger [relation="calls"]; }')
    assert _relation(arch, "a", "jaeger") is Relation.CALLS


# -- a service's rate limiter (rule rate_limit.count) ------------------------------------------


def test_a_service_rate_limiter_counts_each_request_and_its_reads_go_to_the_database() -> None:
    arch = load(SHAPES / "rag-chatbot.dot").architecture
    for name in ("get_chat", "list_chats", "create_chat"):
        steps = _op(arch, "api", name).steps
        count = steps[1]
        assert (count.action.value, count.target, count.counts) == ("cache_set", "ratelimit", True)
        # before: the limiter was the read-through cache of the chats
        assert "cache_get" not in [s.action.value for s in steps]
    assert [s.target for s in _op(arch, "api", "get_chat").steps[2:]] == ["history"]


def test_the_generated_service_writes_a_count_not_its_result() -> None:
    from archsim.codegen import render

    app = render(load(SHAPES / "rag-chatbot.dot").architecture)["services/api/app.py"]
    assert "await rt.cache_set('ratelimit', 'ratelimit:api', 1, 1.0)" in app
