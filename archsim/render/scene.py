"""Model → styled DOT text: shapes and colours per kind, lines per interaction, clusters, a
legend and overlays. Pure: the layout engine (``archsim.render.engine``) turns it into pixels."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from archsim.model import Architecture, Component, Interaction, Kind, Link, Relation
from archsim.model.accounts import private_stores
from archsim.model.naming import plain_label
from archsim.render.overlay import Overlay
from archsim.render.style import KIND_STYLE, THEMES, Theme, ThemeName, utilisation_colour

__all__ = ["SceneOptions", "build_scene", "node_details", "visible"]

_FONT = "Helvetica"
_UNLABELLED = frozenset({Relation.DISTRIBUTES_TO, Relation.ROUTES_TO})


@dataclass(frozen=True)
class SceneOptions:
    """What to draw: direction (LR or TB), theme, interactions to hide, overlay, legend."""

    direction: str = "LR"
    theme: ThemeName = ThemeName.LIGHT
    hide: frozenset[Interaction] = frozenset()
    overlay: Overlay = field(default_factory=Overlay)
    legend: bool = True


class _Html(str):
    """An HTML-like DOT label, written as ``<…>``; every other value is quoted."""

    __slots__ = ()


# plain text of a label (HTML labels without their tags), as the model names it
plain = plain_label


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**attrs: object) -> str:
    parts = [f"{k}={v if isinstance(v, _Html) else _q(str(v))}"
             for k, v in attrs.items() if v is not None]  # fmt: skip
    return f" [{', '.join(parts)}]" if parts else ""


def visible(arch: Architecture, hide: frozenset[Interaction]) -> tuple[list[Component], list[Link]]:
    """Components and links left when the ``hide`` interactions are hidden: a component goes
    too when all of its links are hidden (e.g. config and registry under ``--hide infra``)."""
    links = [lk for lk in arch.links if lk.interaction not in hide]
    linked = {lk.source for lk in links} | {lk.target for lk in links}
    touched = {lk.source for lk in arch.links} | {lk.target for lk in arch.links}
    comps = [c for c in arch.components if c.id in linked or c.id not in touched]
    return comps, links


def _detail(comp: Component, overlay: Overlay) -> str:
    parts = []
    if comp.replicas > 1:
        parts.append(f"×{comp.replicas}")
    rho = overlay.utilisation.get(comp.id)
    if rho is not None:
        parts.append(f"ρ {rho:.0%}" + (" unstable" if comp.id in overlay.unstable else ""))
    found = overlay.findings.get(comp.id)
    if found:
        parts.append(f"{len(found)} finding{'s' * (len(found) != 1)}")
    return " · ".join(parts)


def _label(comp: Component, fill: str, border: str, detail: str, detail_colour: str) -> str:
    name = escape(plain(comp.label))
    small = (
        f'<BR/><FONT POINT-SIZE="9" COLOR="{detail_colour}">{escape(detail)}</FONT>'
        if detail
        else ""
    )
    if not KIND_STYLE[comp.kind].queue:
        return _Html(f"<{name}{small}>")
    slots = "".join(f'<TD WIDTH="7" BGCOLOR="{border}"> </TD>' for _ in range(3))
    return _Html(
        f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="5" COLOR="{border}" '
        f'BGCOLOR="{fill}" STYLE="rounded"><TR><TD>{name}{small}</TD>{slots}</TR></TABLE>>'
    )


def _node(comp: Component, theme: Theme, overlay: Overlay, implied: bool = False) -> str:
    style = KIND_STYLE[comp.kind]
    fill, border = theme.kinds[comp.kind]
    text_colour = theme.text
    rho = overlay.utilisation.get(comp.id)
    if rho is not None:
        unstable = comp.id in overlay.unstable
        fill = utilisation_colour(max(rho, 1.01) if unstable else rho)
        text_colour = "#ffffff" if unstable else "#0f172a"
    penwidth = 1.4
    worst = overlay.worst(comp.id)
    if worst is not None:
        border, penwidth = theme.finding[worst.value], 3.2
    tooltip = f"{plain(comp.label)} ({comp.kind.value}{', implied' if implied else ''})"
    # On a utilisation fill the detail takes the text colour: grey is unreadable on red.
    detail_colour = theme.muted if rho is None else text_colour
    attrs = {
        "id": f"node-{comp.id}",
        # On a utilisation fill the detail takes the text colour: grey is unreadable on red.
        "label": _label(comp, fill, border, _detail(comp, overlay), detail_colour),
        "shape": style.shape,
        # dashed: no statement draws it, the rules imply it (rule auth.accounts)
        "style": (style.style + ",dashed" * implied) if not style.queue else None,
        "fillcolor": fill if not style.queue else None,
        "color": border,
        "fontcolor": text_colour,
        "penwidth": f"{penwidth:g}",
        "peripheries": style.peripheries if style.peripheries != 1 else None,
        "tooltip": tooltip,
    }
    return f"{_q(comp.id)}{_attrs(**attrs)};"


def _seconds(value: float) -> str:
    """Three significant digits with a readable unit: 0.0072713 → 7.27ms."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{unit}"
    return "0ms"


def _implied(arch: Architecture, shown: set[str], options: SceneOptions) -> list[str]:
    """The stores the rules imply (rule auth.accounts), each a dashed node beside the auth
    service that keeps it and a ``stores in`` line to it: drawn when their owner is shown
    and data links are not hidden."""
    if Interaction.DATA in options.hide or not arch.implied:
        return []
    theme = THEMES[options.theme]
    out = []
    for owner, store in private_stores(arch).items():
        if owner not in shown:
            continue
        comp = arch.component(store)
        link = Link(source=owner, target=store, relation=Relation.STORES_IN, label="stores in")
        out.append("  " + _node(comp, theme, options.overlay, implied=True))
        out.append("  " + _edge(link, theme, options.overlay))
    return out


def _edge(link: Link, theme: Theme, overlay: Overlay) -> str:
    es = theme.edges[link.interaction]
    metrics = overlay.links.get((link.source, link.target, link.relation.value))
    # A balancer distributes and a gateway routes: saying so on every arrow is noise.
    label = link.relation.label if es.label and link.relation not in _UNLABELLED else None
    fontcolor = theme.muted
    # Background traffic (heartbeats, config) is not what an overlay is for: keep it quiet.
    if (
        metrics is not None
        and link.interaction is not Interaction.INFRA
        and metrics.throughput != 0
    ):
        parts = []
        if metrics.throughput is not None:
            parts.append(f"{metrics.throughput:.3g}/s")
        if metrics.p99 is not None:
            parts.append(f"p99 {_seconds(metrics.p99)}")
        label, fontcolor = " · ".join(parts) or label, theme.text
    attrs = {
        "id": f"edge-{link.source}-{link.target}-{link.relation.value}",
        "style": es.style,
        "color": es.color,
        "penwidth": f"{es.penwidth:g}",
        "arrowsize": "0.7",
        "label": label,
        "fontsize": "9",
        "fontcolor": fontcolor,
        "tooltip": f"{link.source} {link.relation.label} {link.target}",
        # Start-up/background links should not pull the request flow out of shape.
        "weight": "0" if link.interaction is Interaction.INFRA else None,
    }
    return f"{_q(link.source)} -> {_q(link.target)}{_attrs(**attrs)};"


def _row(left: str, right: str, **cell: str) -> str:
    attrs = "".join(f' {k.upper()}="{v}"' for k, v in cell.items())
    return f'<TR><TD{attrs}>{left}</TD><TD ALIGN="LEFT">{right}</TD></TR>'


_LINES = {"solid": "────→", "dashed": "─ ─ ─→", "dotted": "·······→"}


def _legend(comps: list[Component], links: list[Link], theme: Theme, overlay: Overlay) -> str:
    rows = ['<TR><TD COLSPAN="2" ALIGN="LEFT"><B>Legend</B></TD></TR>']
    for kind in Kind:
        if any(c.kind is kind for c in comps):
            fill, border = theme.kinds[kind]
            what = f'{kind.value.replace("_", " ")} <FONT COLOR="{theme.muted}">'
            what += f"({KIND_STYLE[kind].description})</FONT>"
            rows.append(_row(" ", what, bgcolor=fill, color=border, border="1", width="28"))
    for interaction in Interaction:
        if any(lk.interaction is interaction for lk in links):
            es = theme.edges[interaction]
            line = f'<FONT COLOR="{es.color}">{_LINES[es.style]}</FONT>'
            rows.append(_row(line, interaction.value))
    if overlay.utilisation:
        scale = (0.3, 0.6, 0.8, 0.95, 1.2)
        cells = "".join(f'<FONT COLOR="{utilisation_colour(r)}">█</FONT>' for r in scale)
        rows.append(_row(cells, "utilisation 0 → &gt;100%"))
    if overlay.findings:
        for sev in ("error", "warning", "info"):
            rows.append(_row(" ", f"{sev} finding", border="2", color=theme.finding[sev]))
    table = (
        '<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2" STYLE="rounded" '
        f'COLOR="{theme.cluster_border}" BGCOLOR="{theme.cluster_fill}">{"".join(rows)}</TABLE>>'
    )
    attrs = _attrs(
        id="legend", shape="plain", fontsize="10", fontcolor=theme.text, label=_Html(table)
    )
    return f'"__legend"{attrs};'


def _graph_attrs(options: SceneOptions, theme: Theme) -> str:
    return _attrs(
        rankdir=options.direction,
        bgcolor=theme.background,
        pad="0.3",
        nodesep="0.45",
        ranksep="0.9",
        fontname=_FONT,
        fontcolor=theme.text,
        newrank="true",
        splines="spline",
        outputorder="edgesfirst",
    )


def _cluster_attrs(label: str, theme: Theme) -> str:
    return _attrs(
        label=plain(label),
        style="rounded,filled",
        fillcolor=theme.cluster_fill,
        color=theme.cluster_border,
        fontcolor=theme.muted,
        fontsize="11",
        labeljust="l",
    )


def build_scene(arch: Architecture, options: SceneOptions | None = None) -> str:
    """The architecture as styled DOT text, ready for a layout engine."""
    options = options or SceneOptions()
    theme = THEMES[options.theme]
    comps, links = visible(arch, options.hide)
    shown = {c.id for c in comps}
    out = [f"digraph {_q(arch.name)} {{"]
    out.append(f"  graph{_graph_attrs(options, theme)};")
    out.append(f"  node{_attrs(fontname=_FONT, fontsize='12', margin='0.18,0.08', height='0.5')};")
    out.append(f"  edge{_attrs(fontname=_FONT)};")
    children: dict[str | None, list[str]] = {}
    for group in arch.groups:
        children.setdefault(group.parent, []).append(group.id)
    groups = {g.id: g for g in arch.groups}
    members: dict[str | None, list[Component]] = {}
    for comp in comps:
        members.setdefault(comp.group if comp.group in groups else None, []).append(comp)

    def emit(group_id: str | None, indent: str) -> None:
        for comp in members.get(group_id, []):
            out.append(indent + _node(comp, theme, options.overlay))
        for child in children.get(group_id, []):
            g = groups[child]
            # Graphviz draws a box only around subgraphs whose name starts with "cluster".
            name = g.id if g.id.startswith("cluster") else f"cluster_{g.id}"
            out.append(f"{indent}subgraph {_q(name)} {{")
            out.append(f"{indent}  graph{_cluster_attrs(g.label, theme)};")
            emit(child, indent + "  ")
            out.append(f"{indent}}}")

    emit(None, "  ")
    for link in links:
        if link.source in shown and link.target in shown:
            out.append("  " + _edge(link, theme, options.overlay))
    out += _implied(arch, shown, options)
    if options.legend:
        drawn = comps if Interaction.DATA in options.hide else [*comps, *arch.implied]
        out.append("  " + _legend(drawn, links, theme, options.overlay))
    out.append("}")
    return "\n".join(out) + "\n"


def node_details(
    arch: Architecture, overlay: Overlay | None = None
) -> dict[str, dict[str, object]]:
    """Per component, what hovering over it in the HTML view shows (plain data)."""
    overlay = overlay or Overlay()
    out: dict[str, dict[str, object]] = {}
    for comp in arch.all_components:
        ops = [op.name for op in arch.behaviour.operations_of(comp.id)]
        info: dict[str, object] = {
            "label": plain(comp.label),
            "kind": comp.kind.value,
            "service time": str(comp.service_time),
            "workers": comp.workers,
            "replicas": comp.replicas,
            "operations": ", ".join(ops[:8]) + (" …" if len(ops) > 8 else ""),
            "calls": ", ".join(
                f"{lk.relation.label} {lk.target}" for lk in arch.links_from(comp.id)
            ),
        }
        if comp in arch.implied:
            info["implied"] = comp.kind_reason
        if comp.id in overlay.utilisation:
            info["utilisation"] = f"{overlay.utilisation[comp.id]:.1%}"
        if comp.id in overlay.findings:
            info["findings"] = [f"{sev.value}: {text}" for sev, text in overlay.findings[comp.id]]
        out[comp.id] = info
    return out
