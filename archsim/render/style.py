"""How things look: a style per component kind and per interaction, in light and dark themes.

Colours are (fill, border) pairs chosen to stay readable on both backgrounds; shapes say what a
thing is before its label does (database cylinder, broker queue, external dashed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from archsim.model import Interaction, Kind

__all__ = [
    "KIND_STYLE",
    "THEMES",
    "EdgeStyle",
    "KindStyle",
    "Theme",
    "ThemeName",
    "utilisation_colour",
]


class ThemeName(StrEnum):
    """The themes ``archsim render --theme`` offers."""

    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True, slots=True)
class KindStyle:
    """Shape and Graphviz style of one kind; ``queue`` draws the broker as a row of slots."""

    shape: str
    style: str = "filled"
    peripheries: int = 1
    queue: bool = False
    description: str = ""


KIND_STYLE: dict[Kind, KindStyle] = {
    Kind.LOAD_BALANCER: KindStyle("hexagon", description="hexagon"),
    Kind.GATEWAY: KindStyle("box", "filled,rounded", peripheries=2, description="double box"),
    Kind.SERVICE: KindStyle("box", "filled,rounded", description="rounded box"),
    Kind.AUTH: KindStyle("octagon", description="octagon"),
    Kind.CONFIG: KindStyle("note", description="note"),
    Kind.REGISTRY: KindStyle("tab", description="tab"),
    Kind.DATABASE: KindStyle("cylinder", description="cylinder"),
    Kind.CACHE: KindStyle("box3d", description="3-d box"),
    Kind.BROKER: KindStyle("plain", queue=True, description="queue"),
    Kind.EXTERNAL: KindStyle("box", "filled,rounded,dashed", description="dashed box"),
    Kind.CLIENT: KindStyle("ellipse", "filled,dashed", description="dashed ellipse"),
}


@dataclass(frozen=True, slots=True)
class EdgeStyle:
    """Line style of one interaction (Graphviz ``style``, colour, pen width)."""

    style: str
    color: str
    penwidth: float = 1.2
    label: bool = True  # draw the relation as a label


@dataclass(frozen=True)
class Theme:
    """Colours of one theme: background, text, clusters, kinds (fill, border), interactions."""

    name: str
    background: str
    text: str
    muted: str
    cluster_fill: str
    cluster_border: str
    kinds: dict[Kind, tuple[str, str]]
    edges: dict[Interaction, EdgeStyle]
    finding: dict[str, str] = field(default_factory=dict)  # severity -> outline colour


_LIGHT_KINDS = {
    Kind.LOAD_BALANCER: ("#ede9fe", "#7c3aed"),
    Kind.GATEWAY: ("#dbeafe", "#2563eb"),
    Kind.SERVICE: ("#dcfce7", "#16a34a"),
    Kind.AUTH: ("#fef3c7", "#d97706"),
    Kind.CONFIG: ("#f1f5f9", "#64748b"),
    Kind.REGISTRY: ("#f1f5f9", "#64748b"),
    Kind.DATABASE: ("#ffedd5", "#ea580c"),
    Kind.CACHE: ("#fce7f3", "#db2777"),
    Kind.BROKER: ("#ccfbf1", "#0d9488"),
    Kind.EXTERNAL: ("#ffffff", "#6b7280"),
    Kind.CLIENT: ("#ffffff", "#475569"),
}
_DARK_KINDS = {
    Kind.LOAD_BALANCER: ("#2e1065", "#a78bfa"),
    Kind.GATEWAY: ("#172554", "#60a5fa"),
    Kind.SERVICE: ("#052e16", "#4ade80"),
    Kind.AUTH: ("#451a03", "#fbbf24"),
    Kind.CONFIG: ("#1e293b", "#94a3b8"),
    Kind.REGISTRY: ("#1e293b", "#94a3b8"),
    Kind.DATABASE: ("#431407", "#fb923c"),
    Kind.CACHE: ("#500724", "#f472b6"),
    Kind.BROKER: ("#042f2e", "#2dd4bf"),
    Kind.EXTERNAL: ("#0f172a", "#9ca3af"),
    Kind.CLIENT: ("#0f172a", "#cbd5e1"),
}

THEMES: dict[ThemeName, Theme] = {
    ThemeName.LIGHT: Theme(
        name="light",
        background="#ffffff",
        text="#0f172a",
        muted="#64748b",
        cluster_fill="#f8fafc",
        cluster_border="#cbd5e1",
        kinds=_LIGHT_KINDS,
        edges={
            Interaction.SYNC: EdgeStyle("solid", "#334155", 1.3),
            Interaction.ASYNC: EdgeStyle("dashed", "#0d9488", 1.3),
            Interaction.DATA: EdgeStyle("dotted", "#c2410c", 1.4, label=False),
            Interaction.INFRA: EdgeStyle("solid", "#cbd5e1", 0.8, label=False),
        },
        finding={"error": "#dc2626", "warning": "#f59e0b", "info": "#0ea5e9"},
    ),
    ThemeName.DARK: Theme(
        name="dark",
        background="#0f172a",
        text="#e2e8f0",
        muted="#94a3b8",
        cluster_fill="#111c33",
        cluster_border="#334155",
        kinds=_DARK_KINDS,
        edges={
            Interaction.SYNC: EdgeStyle("solid", "#cbd5e1", 1.3),
            Interaction.ASYNC: EdgeStyle("dashed", "#2dd4bf", 1.3),
            Interaction.DATA: EdgeStyle("dotted", "#fb923c", 1.4, label=False),
            Interaction.INFRA: EdgeStyle("solid", "#334155", 0.8, label=False),
        },
        finding={"error": "#f87171", "warning": "#fbbf24", "info": "#38bdf8"},
    ),
}

# Utilisation scale: (upper bound, fill) — green under 50 %, amber to 80 %, red to 100 %,
# dark red past it (the queue grows without bound).
_UTILISATION = ((0.5, "#86efac"), (0.7, "#fde047"), (0.85, "#fdba74"), (1.0, "#f87171"))
_UNSTABLE = "#991b1b"


def utilisation_colour(rho: float) -> str:
    """Fill colour for a utilisation (0..1; above 1 means the component cannot keep up)."""
    for bound, colour in _UTILISATION:
        if rho <= bound:
            return colour
    return _UNSTABLE
