"""A component from its DOT node: the node's attributes typed and checked (``write_time`` only
on a database, ``type`` a layer or a kind), the kind's defaults filled in, and the label and
attributes as written kept for ``inspect`` and ``archsim fmt``."""

from __future__ import annotations

from archsim.model import attributes as A
from archsim.model.architecture import Component
from archsim.model.checks import Reader
from archsim.model.dot.ast import Attr, DotNode
from archsim.model.kinds import Kind, Layer, kind_from_names
from archsim.model.rate_curve import check_curve
from archsim.model.resolve import shown_label

__all__ = ["attrs_as_written", "label_as_written", "read_component"]


def label_as_written(attrs: dict[str, Attr], default: str) -> str:
    """The label as written: an HTML label keeps its outer ``<…>`` so readers can tell."""
    attr = shown_label(attrs)  # an icon's xlabel or image name when its label is empty
    if attr is None:
        return default
    return f"<{attr.value}>" if attr.is_html else attr.value


def attrs_as_written(attrs: dict[str, Attr]) -> dict[str, str]:
    """Each attribute's value as written (strings), by name."""
    return {k: a.value for k, a in attrs.items()}


def _names_kind(text: str) -> bool:
    """True when a ``type`` value names a kind (``broker``, ``database``, ``service``)."""
    if text.strip().lower().replace(" ", "_") in {k.value for k in Kind}:
        return True
    return kind_from_names("", text, None)[0] is not Kind.SERVICE


def read_component(
    node: DotNode, kind: tuple[Kind, str], group: str | None, reader: Reader
) -> Component | None:
    """The component a node says (``kind``: its kind and why; ``group``: its innermost
    cluster); None when it is invalid, reported."""
    values = reader.typed(node.attrs, A.NODE_ATTRIBUTES, f"'{node.id}'")
    check_curve(node, values, reader)
    if "write_time" in values and kind[0] is not Kind.DATABASE:
        reader.warn(f"write_time of '{node.id}' is ignored: only a database has writes",
                    node.attrs["write_time"].location, "give the time to service_time",
                    "ignored-attribute")  # fmt: skip
    defaults = A.KIND_DEFAULTS[kind[0]]
    layer = None
    if "type" in node.attrs:
        try:
            layer = Layer(node.attrs["type"].value.strip().lower())
        except ValueError:
            if not _names_kind(node.attrs["type"].value):
                reader.warn(
                    f"type '{node.attrs['type'].value}' of '{node.id}' is neither a layer "
                    "('application', 'technology') nor a kind; the layer is left unset",
                    node.attrs["type"].location,
                    f"use kind= for the kind ({', '.join(k.value for k in Kind)})",
                    code="unknown-type",
                )
    label = label_as_written(node.attrs, node.id)
    explicit = tuple(k for k in node.attrs if k in A.NODE_ATTRIBUTES)
    try:
        return Component(
            id=node.id,
            label=label,
            kind=kind[0],
            kind_reason=kind[1],
            layer=layer,
            group=group,
            service_time=values.get("service_time", defaults.service_time),
            workers=values.get("workers", defaults.workers),
            replicas=values.get("replicas", A.DEFAULT_REPLICAS),
            concurrency=values.get("concurrency", defaults.concurrency),
            connections=values.get("connections", A.DEFAULT_CONNECTIONS),
            queue_limit=values.get("queue_limit"),
            timeout=values.get("timeout"),
            retries=values.get("retries"),
            error_rate=values.get("error_rate", 0.0),
            hit_ratio=values.get("hit_ratio"),
            latency=values.get("latency", 0.0),
            cost=values.get("cost", defaults.cost),
            mix=values.get("mix"),
            operation_time=values.get("operation_time"),
            write_time=values.get("write_time"),
            cpu_power=values.get("cpu_power", 1.0),
            cpu_at=values.get("cpu_at"),
            resource=values.get("resource"),
            explicit=explicit,
            attrs=attrs_as_written(node.attrs),
            comments=node.comments,
            source={"line": node.location.line, "col": node.location.col},
        )
    except ValueError as exc:  # pydantic range checks the parsers above already mostly cover
        reader.error(f"'{node.id}': {exc}", node.location, code="bad-attribute")
        return None
