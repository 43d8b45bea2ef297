"""Event phrases on publish and subscribe arrows (docs/behaviour.md, "Events"): the verb says
the relation, the names the events, and the events reach the consumers that take them."""

from __future__ import annotations

import pytest

from archsim.model import read_architecture, to_dot
from archsim.model.event_labels import event_phrase
from archsim.model.kinds import Relation

SHOP = """digraph shop {
  web [kind=client];
  web -> orders;
  orders -> db [label="stores in"];
  orders -> bus [label="LABEL_OUT"];
  mailer -> bus [label="LABEL_IN"];
  bus [kind=broker];
}
"""


def _read(out: str, take: str = "subscribes to"):
    text = SHOP.replace("LABEL_OUT", out).replace("LABEL_IN", take)
    return read_architecture(text, "shop.dot")


@pytest.mark.parametrize(
    ("label", "events"),
    [
        ("publishes OrderPlaced", ("OrderPlaced",)),
        ("emits OrderShipped", ("OrderShipped",)),
        ("produces order.paid events", ("order.paid",)),
        ("OrderCancelled event", ("OrderCancelled",)),
        ("raises OrderPlaced, OrderPaid", ("OrderPlaced", "OrderPaid")),
        ("sends the OrderPlaced message to", ("OrderPlaced",)),
    ],
)
def test_the_events_a_phrase_names_are_what_the_service_publishes(label, events):
    result = _read(label)
    arch = result.architecture
    link = next(lk for lk in arch.links if lk.source == "orders" and lk.target == "bus")
    assert link.relation is Relation.PUBLISHES_TO and link.events == events
    handlers = [op for op in arch.behaviour.operations if op.component == "mailer"]
    assert sorted(e for op in handlers for e in op.triggers) == sorted(events)
    assert not [d for d in result.diagnostics if d.code == "free-label" and "orders" in d.message]


def test_consumes_a_named_event_subscribes_and_takes_only_that_event():
    arch = _read("publishes OrderPlaced, OrderPaid", take="consumes OrderPaid").architecture
    link = next(lk for lk in arch.links if lk.source == "mailer")
    assert link.relation is Relation.SUBSCRIBES_TO and link.events == ("OrderPaid",)
    handlers = [op.triggers for op in arch.behaviour.operations if op.component == "mailer"]
    assert handlers == [("OrderPaid",)]  # before, the arrow published MailerCreated to the bus


@pytest.mark.parametrize(
    "label", ["sends email", "push notifications", "publishes to", "reads data", "emits logs"]
)
def test_words_that_are_not_event_names_name_no_event(label):
    assert event_phrase(label) == (None, ()) or event_phrase(label)[1] == ()


def test_a_phrase_on_an_arrow_to_a_service_is_read_by_the_target_as_a_call():
    text = """digraph d {
  web [kind=client];
  web -> orders;
  orders -> payments [label="sends PaymentRequested"];
  payments -> pdb [label="stores in"];
}
"""
    result = read_architecture(text, "d.dot")
    link = next(lk for lk in result.architecture.links if lk.target == "payments")
    assert link.relation is Relation.CALLS  # not a publish to something that is no broker


def test_the_events_written_back_read_the_same():
    arch = _read("emits OrderShipped", take="consumes OrderShipped").architecture
    again = read_architecture(to_dot(arch)).architecture
    assert again.structure() == arch.structure()
