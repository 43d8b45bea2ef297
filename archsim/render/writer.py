"""Render to bytes in the format a file name asks for (svg, png, html, dot); writing is the
caller's job, so a failed layout never leaves a half-written file."""

from __future__ import annotations

from archsim.model import Architecture
from archsim.render.engine import Engine, layout
from archsim.render.html import html_page
from archsim.render.scene import SceneOptions, build_scene, node_details
from archsim.render.style import THEMES

__all__ = ["OUTPUT_FORMATS", "render"]

OUTPUT_FORMATS = ("svg", "png", "html", "dot")


def render(
    arch: Architecture, fmt: str, options: SceneOptions | None = None, engine: Engine | None = None
) -> bytes:
    """The diagram of ``arch`` as ``fmt`` (one of OUTPUT_FORMATS); dot needs no engine."""
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unsupported format {fmt!r}")
    options = options or SceneOptions()
    scene = build_scene(arch, options)
    if fmt == "dot":
        return scene.encode("utf-8")
    if fmt != "html":
        return layout(scene, fmt, engine)
    svg = layout(scene, "svg", engine).decode("utf-8")
    theme = THEMES[options.theme]
    page = html_page(svg, arch.name, node_details(arch, options.overlay),
                     (theme.background, theme.text, theme.muted))  # fmt: skip
    return page.encode("utf-8")
