"""The Jinja environment of the code generator: templates live beside it, in ``templates/``."""

from __future__ import annotations

import json
import textwrap
from functools import cache
from typing import Any

import jinja2

__all__ = ["render_template"]


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("archsim.codegen", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty string
        autoescape=False,  # Python, YAML and Markdown, not HTML
    )
    env.filters["pyrepr"] = repr
    env.filters["tojson"] = json.dumps
    env.filters["docline"] = docline
    return env


def docline(text: str, indent: int = 0, width: int = 96) -> str:
    """A docstring's text wrapped to fit ``width`` columns at ``indent`` (continuation lines
    carry the indent; the first goes where the template puts it)."""
    lines = textwrap.wrap(text, width=max(40, width - indent), break_on_hyphens=False)
    return ("\n" + " " * indent).join(lines or [text])


def render_template(template: str, /, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context`` (which may itself hold a ``name``)."""
    return _environment().get_template(template).render(**context)
