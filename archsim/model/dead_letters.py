"""A dead-letter queue takes what a consumer fails to handle, not everything it handles.

Drawn as ``email_worker -> dlq`` (label ``on failure``, or none), the edge reads as
``publishes to``, and a publish is a step of every event the worker handles: every
notification would be dead-lettered, and a redrive job that puts dead letters back on their
topic would double the work. The model has no "on failure" step, so a publish to a broker
named like a dead-letter queue (``dlq``, ``dead letter``, ``DeadLetterQueue``) takes the share
that fails: the link's ``p`` when the file gives one, else its source's ``error_rate`` (0 by
default: nothing is dead-lettered). The loader says so at the edge (``dead-letter``, info).
A publish labelled by what fails (``on failure``, ``on error``, ``failed messages``) is a
dead-letter link whatever its broker is called, and its label no ``free-label``.
"""

from __future__ import annotations

import re

from archsim.errors import Location, Severity
from archsim.model.architecture import Architecture, Link
from archsim.model.checks import Reader
from archsim.model.kinds import Kind, Relation, name_has

__all__ = ["DEAD_LETTER_WORDS", "check_dead_letters", "dead_letter_p", "says_failure"]

#: Words that name a dead-letter queue (whole words of the id or label; camelCase split).
DEAD_LETTER_WORDS = ("dlq", "dead letter", "deadletter", "dead letters", "poison queue")


# "on failure", "on error(s)", "failed messages", "failures", "after 3 retries", "poison
# messages", "dead-lettered": a label that says the edge carries what fails
_FAILURE = re.compile(
    r"(?:on\s+|upon\s+|if\s+)?(?:failure|failures|failed|error|errors|exception|exceptions)"
    r"(?:\s+(?:messages?|events?|jobs?|tasks?|deliveries|items?|records?))?"
    r"|failed\s+(?:messages?|events?|jobs?|tasks?|deliveries|items?|records?)"
    r"|(?:after\s+\d+\s+)?(?:retries|attempts)(?:\s+exhausted)?|(?:max\s+)?retries\s+exceeded"
    r"|poison(?:\s+(?:messages?|pills?))?|dead[\s\-]?letter(?:s|ed)?|undeliverable|nack(?:ed)?",
    re.IGNORECASE,
)


def says_failure(label: str) -> bool:
    """True for a label that says its edge carries what fails (``on failure``)."""
    return bool(_FAILURE.fullmatch(label.strip()))


def dead_letter_p(arch: Architecture, link: Link) -> float | None:
    """The probability of a publish over ``link`` to a dead-letter queue whose ``p`` the file
    does not set: its source's ``error_rate``; None for any other link."""
    if link.relation is not Relation.PUBLISHES_TO or "p" in link.explicit:
        return None
    target = arch.component(link.target)
    if target.kind is not Kind.BROKER:
        return None
    if not says_failure(link.label) and not name_has(target.id, target.label, DEAD_LETTER_WORDS):
        return None
    return arch.component(link.source).error_rate


def check_dead_letters(arch: Architecture, file: str | None, reader: Reader) -> None:
    """Say, at each publish to a dead-letter queue that sets no ``p``, which share it takes."""
    for link in arch.links:
        p = dead_letter_p(arch, link)
        if p is None:
            continue
        ref = link.source_ref
        reader.report(
            Severity.INFO,
            f"{link.source} -> {link.target} goes to a dead-letter queue: it takes what "
            f"fails, {p:.3g} of what {link.source} handles ({link.source}'s error_rate), "
            "not every event",
            Location(file, ref.line, ref.col) if ref else Location(file),
            f"set p= on the edge (e.g. p=0.01) or error_rate= on {link.source} for the "
            "share that is dead-lettered",
            "dead-letter",
        )
