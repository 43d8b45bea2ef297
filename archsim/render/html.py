"""One self-contained HTML page: the SVG inline, zoom and pan, details on hover; no network."""

from __future__ import annotations

import json
import re
from functools import cache
from html import escape
from importlib import resources

__all__ = ["html_page"]

_PROLOG = re.compile(r"^\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?", re.DOTALL)


@cache
def _asset(name: str) -> str:
    # Shipped inside the package (package-data), so the page never fetches anything.
    return resources.files("archsim.render").joinpath(name).read_text("utf-8")


def html_page(
    svg: str, title: str, details: dict[str, dict[str, object]],
    colours: tuple[str, str, str] = ("#ffffff", "#0f172a", "#64748b"),
) -> str:  # fmt: skip
    """Wrap an SVG (text) into one HTML page; ``details`` per component id show on hover;
    ``colours`` are (background, text, muted)."""
    body = _PROLOG.sub("", svg, count=1)
    data = json.dumps(details, ensure_ascii=False).replace("</", "<\\/")
    bg, fg, muted = colours
    css = _asset("viewer.css").replace("BG", bg).replace("FG", fg).replace("MUTED", muted)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{css}</style></head><body>\n"
        f'<div id="bar"><b>{escape(title)}</b> — scroll to zoom, drag to pan, hover for '
        'details<button id="in">+</button><button id="out">−</button>'
        '<button id="fit">fit</button></div>\n'
        f'<div id="view">{body}</div><div id="tip"></div>\n'
        f'<script type="application/json" id="details">{data}</script>\n'
        f"<script>{_asset('viewer.js')}</script>\n</body></html>\n"
    )
