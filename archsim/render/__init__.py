"""Diagrams of an architecture: styled DOT (``scene``), a Graphviz engine (``engine``),
overlays of results (``overlay``) and a self-contained HTML view (``html``)."""

from archsim.render.engine import Engine, find_engine, layout
from archsim.render.html import html_page
from archsim.render.overlay import LinkMetrics, Overlay, parse_overlay
from archsim.render.scene import SceneOptions, build_scene, node_details, visible
from archsim.render.style import THEMES, Theme, ThemeName, utilisation_colour
from archsim.render.writer import OUTPUT_FORMATS, render

__all__ = [
    "OUTPUT_FORMATS",
    "THEMES",
    "Engine",
    "LinkMetrics",
    "Overlay",
    "SceneOptions",
    "Theme",
    "ThemeName",
    "build_scene",
    "find_engine",
    "html_page",
    "layout",
    "node_details",
    "parse_overlay",
    "render",
    "utilisation_colour",
    "visible",
]
