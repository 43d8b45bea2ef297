"""Rich renderables for ``archsim inspect``: what archsim read from the file and what it derived.

Laid out to stay readable in an 80-column terminal: tables with few columns, and trees for
the nested parts (operations and their steps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from archsim.model import Architecture, Component, Kind, OpKind, Step
from archsim.model.derive import REDELIVER_S, TOKEN_CACHE_S, TOKEN_TTL_S
from archsim.model.quantities import format_duration

__all__ = ["inspect_tables"]


def _components(arch: Architecture) -> Table:
    title = f"{arch.name}: {len(arch.components)} components"
    if arch.implied:  # rule auth.accounts: stores no statement draws, listed last
        title += f" (+{len(arch.implied)} implied)"
    table = Table(title=title, title_justify="left")
    table.add_column("component", no_wrap=True)
    table.add_column("kind (why)")
    table.add_column("service time")
    table.add_column("w×r", justify="right", no_wrap=True)
    drawn = sorted(arch.components, key=lambda c: (c.kind.value, c.id))
    for comp in [*drawn, *arch.implied]:
        explicit = set(comp.explicit)

        def shown(key: str, value: object, explicit: set[str] = explicit) -> str:
            return str(value) if key in explicit else f"[dim]{value}[/]"

        group = f"\n[dim]in {escape(comp.group)}[/]" if comp.group else ""
        table.add_row(
            escape(comp.id) + group,
            f"{comp.kind.value}\n[dim]{escape(comp.kind_reason)}[/]",
            shown("service_time", comp.service_time) + _curve(comp),
            f"{shown('workers', comp.workers)}×{shown('replicas', comp.replicas)}",
        )
    table.caption = (
        "w×r = workers per replica × replicas; [dim]dim = default, not set in the file[/]"
        + _host(arch)
    )
    return table


def _curve(comp: Component) -> str:
    """How its times change with the rate (``cpu_power``), as a second line ('' if not)."""
    if comp.cpu_at is None or comp.cpu_power == 1.0:
        return ""
    return f"\nat {comp.cpu_at:g} req/s; busy ∝ rate^{comp.cpu_power:g}"


def _host(arch: Architecture) -> str:
    """The shared host the graph's attributes describe, as a caption line ('' without one)."""
    host = arch.host
    if host is None:
        return ""
    if host.cpu_per_request is None:
        return f"\nshared host: {host.cores} cores, CPU per request from the model's own compute"
    cpu = f"{format_duration(host.cpu_per_request)} CPU per request"
    if host.cpu_rate is not None and host.cpu_power != 1.0:
        cpu += f" at {host.cpu_rate:g} req/s (busy cores ∝ rate^{host.cpu_power:g})"
    background = f" + {host.background:g} cores idle" if host.background else ""
    return (
        f"\nshared host: {host.cores} cores, {cpu}{background}; "
        f"saturates near {host.saturation_rps():.0f} req/s"
    )


def _links(arch: Architecture) -> Table:
    table = Table(title=f"{len(arch.links)} links by relation", title_justify="left")
    table.add_column("relation", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("links")
    by_relation: dict[str, list[str]] = {}
    interaction: dict[str, str] = {}
    for link in arch.links:
        by_relation.setdefault(link.relation.label, []).append(f"{link.source} → {link.target}")
        interaction[link.relation.label] = link.interaction.value
    for relation, pairs in by_relation.items():
        table.add_row(relation, interaction[relation], escape("\n".join(pairs)))
    return table


def _step_node(parent: Tree, step: Step, number: int) -> None:
    node = parent.add(f"[dim]{number}.[/] {escape(step.describe().split(', on miss:')[0])}")
    if step.on_miss:
        miss = node.add("[dim]on miss[/]")
        for i, sub in enumerate(step.on_miss, 1):
            _step_node(miss, sub, i)
    if step.compensation is not None:  # saga: what undoes this step when a later one fails
        undo = step.compensation
        node.add(f"[dim]if a later step fails: undone by[/] {escape(undo.describe())}")


def _operations(arch: Architecture) -> Tree:
    ops = [op for op in arch.behaviour.operations if op.kind is not OpKind.PROXY]
    proxies = len(arch.behaviour.operations) - len(ops)
    root = Tree(
        f"[bold]{len(ops)} derived operations[/] "
        f"[dim](+{proxies} forwarding operations of gateways and load balancers)[/]"
    )
    branches: dict[str, Tree] = {}
    for op in ops:
        if op.component not in branches:
            kind = arch.component(op.component).kind.value
            branches[op.component] = root.add(f"[bold]{escape(op.component)}[/] [dim]{kind}[/]")
        http = f"{op.method} {op.path}" if op.method else f"on event {', '.join(op.triggers)}"
        node = branches[op.component].add(
            f"[cyan]{escape(op.name)}[/]  {escape(http)}  [dim]{op.kind.value} · {op.rule}[/]"
        )
        for i, step in enumerate(op.steps, 1):
            _step_node(node, step, i)
    return root


def _entries(arch: Architecture) -> Table:
    table = Table(title=f"{len(arch.behaviour.entries)} entry points", title_justify="left")
    table.add_column("request", no_wrap=True)
    table.add_column("share", justify="right")
    table.add_column("reaches (via)")
    for entry in arch.behaviour.entries:
        via = " → ".join(entry.hops[:-1])
        table.add_row(
            escape(entry.id), f"{entry.weight:.1%}", f"{escape(str(entry.target))}\n[dim]{via}[/]"
        )
    # Why requests enter where they do: once per front door (docs/behaviour.md, entry points).
    # A component may be two doors (a traffic source's and a webhook's): each reason once.
    doors: dict[str, list[str]] = {}
    for entry in arch.behaviour.entries:
        said = doors.setdefault(entry.hops[0], [])
        if entry.reason and entry.reason not in said:
            said.append(entry.reason)
    doors = {door: said for door, said in doors.items() if said}
    if doors:
        table.caption = "\n".join(
            f"{escape(door)}: {escape('; '.join(said))}" for door, said in doors.items()
        )
        table.caption_justify = "left"
    return table


def _events(arch: Architecture) -> Table:
    table = Table(title=f"{len(arch.behaviour.events)} event flows", title_justify="left")
    for column in ("event", "broker", "published by", "consumed by"):
        table.add_column(column, overflow="fold")
    for flow in arch.behaviour.events:
        table.add_row(
            flow.event,
            flow.broker,
            escape("\n".join(map(str, flow.publishers))),
            escape("\n".join(map(str, flow.consumers))) or "[yellow]nobody[/]",
        )
    return table


def _lifecycle(arch: Architecture) -> RenderableType:
    if not arch.behaviour.lifecycles:  # an empty table says less than a line
        timings = _timings(arch)
        line = "start-up and background work (not per request): none"
        return Text(line + ("; the model's timings: " + "; ".join(timings) if timings else ""))
    table = Table(title="start-up and background work (not per request)", title_justify="left")
    for column in ("component", "at start-up", "periodically"):
        table.add_column(column)
    for lc in arch.behaviour.lifecycles:
        periodic = "\n".join(
            f"{task.name} every {format_duration(task.interval)} ({len(task.steps)} calls)"
            for task in lc.periodic
        )
        startup = "\n".join(s.describe() for s in lc.startup)
        table.add_row(escape(lc.component), escape(startup), escape(periodic))
    timings = _timings(arch)
    if timings:
        table.caption = "the model's timings the generated stack runs by: " + "; ".join(timings)
        table.caption_justify = "left"
    return table


def _timings(arch: Architecture) -> list[str]:
    """The model's runtime timings (``archsim.model.derive``) that this architecture's stack
    takes from its SPEC, for the parts it has."""
    out = []
    if arch.behaviour.events:
        out.append(f"events left unacknowledged {format_duration(REDELIVER_S)} are redelivered")
    if arch.of_kind(Kind.AUTH):
        out.append(f"tokens are valid {format_duration(TOKEN_TTL_S)}")
        out.append(
            f"a validated token is trusted {format_duration(TOKEN_CACHE_S)}"
            if TOKEN_CACHE_S
            else "every token is checked with the auth service (no token cache)"
        )
    return out


_SECTIONS: dict[str, Callable[[Architecture], RenderableType]] = {
    "components": _components,
    "links": _links,
    "operations": _operations,
    "entries": _entries,
    "events": _events,
    "lifecycle": _lifecycle,
}


def inspect_tables(arch: Architecture, section: str = "all") -> Iterator[RenderableType]:
    """The renderables of one section, or of all of them, in reading order."""
    for name, build in _SECTIONS.items():
        if section in ("all", name):
            yield Group(build(arch), Text(""))
