"""The time a call spends between processes, as traces show it: a client span less the server
span that answered it (the **gap**). It holds the network both ways, the caller's writing of
the request and reading of the reply, and the callee's parsing and writing outside its server
span and its wait for its event loop — time no span of either side covers.

Pure: spans in, gaps (seconds) out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from archsim.traces.records import Span, SpanKind

__all__ = ["Gaps", "hop_gaps"]


@dataclass(frozen=True)
class Gaps:
    """Mean gap (s) of the calls each component answered, with their count, and the
    count-weighted mean over every answered call (``typical``; 0 when none was seen)."""

    into: dict[str, tuple[float, int]] = field(default_factory=dict)
    typical: float = 0.0

    def of(self, component: str) -> float:
        """The mean gap of calls into ``component``; the typical gap when no traced caller
        reached it (the front door, when its clients make no spans)."""
        seen = self.into.get(component)
        return seen[0] if seen is not None else self.typical


def hop_gaps(spans: list[Span]) -> Gaps:
    """Per callee, the mean of (client span − the server span under it, from another service)."""
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for span in spans:
        if span.kind is not SpanKind.SERVER or span.parent_id is None:
            continue
        caller = by_id.get((span.trace_id, span.parent_id))
        if caller is None or caller.kind is not SpanKind.CLIENT or caller.service == span.service:
            continue
        acc = sums[span.service]
        acc[0] += max(0, caller.duration_ns - span.duration_ns) / 1e9
        acc[1] += 1
    into = {c: (total / n, int(n)) for c, (total, n) in sums.items() if n}
    calls = sum(n for _, n in into.values())
    typical = sum(g * n for g, n in into.values()) / calls if calls else 0.0
    return Gaps(into, typical)
