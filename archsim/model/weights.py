"""Traffic shares of sibling links (``distributes to``, ``routes to``, a client's requests).

The rule (docs/behaviour.md, "Weights"): with no ``weight`` on any sibling, traffic splits
equally; with a ``weight`` on every sibling, in proportion to the weights. When only some
siblings are weighted, the weights are shares of the whole: the unweighted siblings take what is
left (1 − the sum of the weights) in equal parts. If the weighted siblings already sum to 1 or
more, nothing is left; then the unweighted ones count as the mean weight of the others, and
``validate`` warns (``weights-overfull``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from archsim.errors import Location
from archsim.model.architecture import Link
from archsim.model.checks import Reader
from archsim.model.dot.ast import DotGraph
from archsim.model.references import edge_of

__all__ = ["check_weights", "is_standby", "is_weighted", "shares"]


def is_weighted(link: Link) -> bool:
    """True when the file set ``weight`` on this link."""
    return "weight" in link.explicit


# "secondary record", "failover", "standby", "backup", "on health check failure": a link
# traffic takes only when its primary sibling is down (rule load_balancer.failover)
_STANDBY = re.compile(
    r"\b(?:failover|fail-over|standby|stand-by|secondary|backup|passive|"
    r"on (?:health[- ]check )?failure)\b",
    re.IGNORECASE,
)


def is_standby(link: Link) -> bool:
    """True when ``link``'s label says it only takes traffic on failover (and no weight)."""
    return not is_weighted(link) and bool(_STANDBY.search(link.label))


def shares(links: Sequence[Link]) -> list[float]:
    """Each link's share of its siblings' traffic, in order; they sum to 1 (empty: []).
    A standby link (``is_standby``) beside a primary one takes none: failover is not the
    steady state the simulation and the load test measure."""
    if not links:
        return []
    standby = [is_standby(link) for link in links]
    if any(standby) and not all(standby):
        live = [link for link, spare in zip(links, standby, strict=True) if not spare]
        parts = iter(shares(live))
        return [0.0 if spare else next(parts) for spare in standby]
    weighted = [link.weight for link in links if is_weighted(link)]
    if weighted and len(weighted) < len(links):
        spent = sum(weighted)
        rest = len(links) - len(weighted)
        if spent < 1:
            return [link.weight if is_weighted(link) else (1 - spent) / rest for link in links]
        mean = spent / len(weighted)
        values = [link.weight if is_weighted(link) else mean for link in links]
    else:
        values = [link.weight for link in links]
    total = sum(values)
    return [value / total for value in values]


def check_weights(groups: Sequence[Sequence[Link]], graph: DotGraph, reader: Reader) -> None:
    """Warn about sibling groups whose weights leave nothing for their unweighted members."""
    for links in groups:
        weighted = [link for link in links if is_weighted(link)]
        loose = [link for link in links if not is_weighted(link)]
        if not weighted or not loose:
            continue
        spent = sum(link.weight for link in weighted)
        if spent < 1:
            continue
        first = links[0]
        edge = edge_of(graph, first.source, loose[0].target, loose[0].relation)
        names = ", ".join(link.target for link in loose)
        reader.warn(
            f"the weighted links from '{first.source}' sum to {spent:g}, which leaves no share "
            f"for the unweighted {names}; they count as the mean weight {spent / len(weighted):g}",
            edge.location if edge else Location(reader.file),
            "give every sibling a weight, or weights that sum to less than 1 "
            "(the unweighted ones then share the rest)",
            "weights-overfull",
        )
