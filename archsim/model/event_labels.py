"""How a label names the events an edge carries along with the relation: a verb and the
events (``publishes OrderPlaced``, ``emits PlayEvent``, ``consumes order.paid events``), or the
events alone with the word ``event`` (``OrderCancelled event``).

A one-word label (``OrderPlaced``) is read by ``archsim.model.kinds.events_named``; these are
the phrases around such names that people write on publish and subscribe arrows. Before, the
phrase named no relation, so its events were lost and a ``consumes X`` arrow into a broker was
read as publishing to it (docs/behaviour.md, "Events").
"""

from __future__ import annotations

import re
from functools import lru_cache

from archsim.model.kinds import Relation, events_named

__all__ = ["event_phrase", "label_events"]

# The verbs of an event phrase, by the stem every tense of them starts with.
_PUBLISH = ("publish", "emit", "produc", "rais", "fire", "dispatch", "broadcast", "send", "push")
_TAKE = ("consum", "subscrib", "listen", "receiv", "handl", "process", "read", "pull", "take")
_PHRASE = re.compile(
    r"(?P<verb>[A-Za-z]+)(?: (?:the|an?))? (?P<names>.+?)"
    r"(?: (?:events?|messages?|notifications?))?(?: (?:to|on|onto|into|via|from|off|of))?"
)
_NAMED = re.compile(r"(?P<names>.+?) (?:events?|messages?|notifications?)")


def _event_like(name: str) -> bool:
    """A name as events are written (``OrderPlaced``, ``order.paid``, ``trip_completed``), not a
    word of a sentence (``email``, ``data``)."""
    return any(c.isupper() for c in name) or any(c in name for c in "._:")


def _names(text: str) -> tuple[str, ...]:
    names = events_named(text)
    return names if names and all(_event_like(n) for n in names) else ()


@lru_cache(maxsize=4096)
def event_phrase(label: str) -> tuple[Relation | None, tuple[str, ...]]:
    """(the relation the phrase's verb says — ``publishes to`` or ``subscribes to`` — or None
    for events named without a verb, the events) of ``label``; (None, ()) for other text."""
    text = " ".join(label.split())
    phrase = _PHRASE.fullmatch(text)
    if phrase:
        verb = phrase.group("verb").lower()
        names = _names(phrase.group("names"))
        if names and verb.startswith(_PUBLISH):
            return Relation.PUBLISHES_TO, names
        if names and verb.startswith(_TAKE):
            return Relation.SUBSCRIBES_TO, names
    named = _NAMED.fullmatch(text)
    return (None, _names(named.group("names"))) if named else (None, ())


def label_events(label: str) -> tuple[str, ...]:
    """The events a free label on a publish/subscribe edge names: one name or a list
    (``OrderPlaced``; ``AccountOpened, MoneyDeposited``), or the names of an event phrase."""
    return events_named(label) or event_phrase(label)[1]
