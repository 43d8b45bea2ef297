"""A ``Discovery`` written as an architecture DOT file that archsim loads.

Components become nodes with their ``kind``; links become edges labelled with their relation,
written per source in the order their steps were seen (archsim derives an operation's
dependencies in file order), with ``weight`` (observed rate, for the front door's and a
gateway's split), ``p`` (a call that only some operations made), ``hit_ratio`` (caches),
``event``/``events`` (publish, subscribe) and ``operation`` (the callee's operation, when the
traces name one). The observed operations, their steps in order with probabilities and times,
and what could not be classified are written as comments.
"""

from __future__ import annotations

import re

from archsim.traces.discover import Discovery, Link

__all__ = ["to_dot"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WEIGHTED = ("distributes to", "routes to")


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _edge_attrs(link: Link) -> list[str]:
    attrs = [f"label={_q(link.relation)}"]
    if link.relation in _WEIGHTED:
        attrs.append(f"weight={max(link.rate, 0.001):.3g}")
    if link.p is not None:
        attrs.append(f"p={link.p:.3g}")
    if link.hit_ratio is not None:
        attrs.append(f"hit_ratio={min(max(link.hit_ratio, 0.0), 1.0):.3g}")
    if link.relation in ("publishes to", "subscribes to") and link.events:
        key = "event" if len(link.events) == 1 else "events"
        attrs.append(f"{key}={_q(','.join(link.events))}")
    ops = [o for o in link.operations if _IDENT.fullmatch(o)]
    if link.relation in ("calls",) and len(ops) == 1 and len(link.operations) == 1:
        attrs.append(f"operation={_q(ops[0])}")
    return attrs


def to_dot(found: Discovery, name: str = "discovered") -> str:
    """DOT text of ``found`` (deterministic: the same spans give the same file)."""
    lines = [
        f"// discovered by archsim from {found.spans} spans in {found.traces} traces "
        f"over {found.window_s:.1f} s",
        f"digraph {_q(name)} {{",
    ]
    for comp in found.components:
        lines.append(f"    {_q(comp.id)} [kind={_q(comp.kind)}];  // {comp.evidence}")
    lines.append("")
    for link in found.links:
        attrs = ", ".join(_edge_attrs(link))
        lines.append(
            f"    {_q(link.source)} -> {_q(link.target)} [{attrs}];  "
            f"// {link.count} steps, {link.rate:.2f}/s"
        )
    lines.append("}")
    lines.append("")
    lines.append("// operations observed (count, rate, mean / p95 / exclusive ms): steps in order")
    for op in found.operations:
        lines.append(
            f"// {op.qualified} [{op.trigger}] {op.count}x {op.rate:.2f}/s "
            f"{op.mean_ms:.2f} / {op.p95_ms:.2f} / {op.exclusive_ms:.2f} ms"
        )
        for step in op.steps:
            fan = f" x{step.per:.2f}" if step.per > 1.005 else ""
            lines.append(
                f"//     {step.describe()}  p={step.p:.3f}{fan} at +{step.offset_ms:.2f} ms, "
                f"{step.mean_ms:.2f} ms"
            )
    for client in found.clients:
        lines.append(f"// client (a traffic source, not a component): {client.describe()}")
    for text in found.unclassified:
        lines.append(f"// unclassified: {text}")
    for note in found.notes:
        lines.append(f"// note: {note}")
    return "\n".join(lines) + "\n"
