"""How an override names a link: ``source->target``, or ``source->target[relation]``.

A pair of components can be joined by several links (a service that both publishes to and
subscribes to one broker), so a link's identity is ``(source, target, relation)``. The short
form ``a->b`` names the pair's only link; where the pair has several, the relation is written
in brackets as in the file's label (``a->b[publishes to]``; ``publishes_to`` also reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archsim.model.architecture import Link
from archsim.model.kinds import Relation

__all__ = ["LinkAddress", "address_of", "parse_address"]


@dataclass(frozen=True)
class LinkAddress:
    """A link as an override names it; ``relation`` is None for the short form."""

    source: str
    target: str
    relation: Relation | None = None

    def __str__(self) -> str:
        pair = f"{self.source}->{self.target}"
        return f"{pair}[{self.relation.label}]" if self.relation else pair

    def select(self, links: Sequence[Link]) -> list[int]:
        """Indexes of the links this address names (all of the pair's for the short form)."""
        return [
            i
            for i, lk in enumerate(links)
            if (lk.source, lk.target) == (self.source, self.target)
            and (self.relation is None or lk.relation is self.relation)
        ]


def parse_address(text: str) -> LinkAddress | None:
    """Read ``a->b`` or ``a->b[relation]`` (spaces around the ids ignored); None when the text
    is not of that form or names no known relation."""
    pair, bracket, rest = text.partition("[")
    relation: Relation | None = None
    if bracket:
        name, closed, tail = rest.partition("]")
        if not closed or tail.strip():
            return None
        try:
            relation = Relation(name.strip().lower().replace(" ", "_").replace("-", "_"))
        except ValueError:
            return None
    source, arrow, target = pair.replace(" ", "").partition("->")
    if not arrow or not source or not target:
        return None
    return LinkAddress(source, target, relation)


def address_of(link: Link, links: Sequence[Link]) -> LinkAddress:
    """The shortest address naming ``link`` alone among ``links``."""
    short = LinkAddress(link.source, link.target)
    return short if len(short.select(links)) == 1 else LinkAddress(*link.key)
