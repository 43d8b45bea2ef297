"""What-ifs and profiles: change attributes of a loaded model without editing its file.

An override names a component attribute (``payment_provider.service_time=exp(400ms)``), a link
attribute (``order_service->payment_service.timeout=1s``) or a graph attribute
(``network_latency=1ms``). A profile file (YAML) holds the same as a mapping::

    components:
      payment_provider: {service_time: exp(400ms), replicas: 2}
    links:
      order_service->payment_service: {timeout: 1s, retries: 2}
    graph:
      network_latency: 0.5ms

Overrides are applied to the attributes as written and the model is read again, so a value is
checked exactly as it would be in the file and the behaviour is re-derived from it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from archsim.errors import ArchsimError, Location, ScenarioError
from archsim.model import attributes as A
from archsim.model.architecture import Architecture
from archsim.model.export import to_dot
from archsim.model.loader import read_architecture

__all__ = ["Override", "apply_overrides", "parse_override", "profile_overrides"]

Override = tuple[
    str, str, str, str
]  # (scope, target, attribute, value); scope: component|link|graph


def _closest(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'?" if close else ""


def parse_override(text: str) -> Override:
    """Parse ``target.attribute=value`` (``a->b.attribute=value`` for links, ``attr=value``
    for the graph) into an Override."""
    lhs, sep, value = text.partition("=")
    if not sep or not lhs.strip() or not value.strip():
        raise ScenarioError(
            f"cannot read override '{text}'",
            hint="write component.attribute=value, e.g. payment_provider.service_time=exp(400ms)",
            code="bad-override",
        )
    lhs, value = lhs.strip(), value.strip()
    target, dot, attribute = lhs.rpartition(".")
    if not dot:
        return ("graph", "", lhs, value)
    scope = "link" if "->" in target else "component"
    return (scope, target.replace(" ", ""), attribute, value)


def profile_overrides(data: Mapping[str, Any], source: str = "profile") -> list[Override]:
    """Turn a loaded profile mapping (see module docstring) into overrides."""
    unknown = set(data) - {"components", "links", "graph"}
    if unknown:
        raise ScenarioError(
            f"{source}: unknown section(s) {', '.join(sorted(unknown))}",
            Location(source),
            "a profile has the sections components, links and graph",
            code="bad-profile",
        )
    out: list[Override] = []
    for scope, key in (("component", "components"), ("link", "links")):
        for target, attrs in (data.get(key) or {}).items():
            if not isinstance(attrs, Mapping):
                raise ScenarioError(
                    f"{source}: {key}.{target} must map attributes to values",
                    Location(source),
                    f"e.g. {target}: {{replicas: 2}}",
                    code="bad-profile",
                )
            out += [(scope, str(target).replace(" ", ""), str(k), str(v)) for k, v in attrs.items()]
    out += [("graph", "", str(k), str(v)) for k, v in (data.get("graph") or {}).items()]
    return out


def apply_overrides(arch: Architecture, overrides: Iterable[Override | str]) -> Architecture:
    """A new Architecture with the overrides applied and behaviour re-derived.

    Raises ScenarioError naming the unknown component, link or attribute, or the bad value.
    """
    parsed = [parse_override(o) if isinstance(o, str) else o for o in overrides]
    if not parsed:
        return arch
    comps = {c.id: dict(c.attrs) for c in arch.components}
    links = {f"{lk.source}->{lk.target}": dict(lk.attrs) for lk in arch.links}
    graph = dict(arch.attrs)
    for scope, target, attribute, value in parsed:
        if scope == "graph":
            _check_attribute(attribute, A.GRAPH_ATTRIBUTES, "the graph")
            graph[attribute] = value
        elif scope == "component":
            if target not in comps:
                raise ScenarioError(
                    f"unknown component '{target}' in override {target}.{attribute}={value}",
                    hint=_closest(target, comps) or f"components: {', '.join(sorted(comps))}",
                    code="unknown-component",
                )
            _check_attribute(attribute, A.NODE_ATTRIBUTES, f"component '{target}'")
            comps[target][attribute] = value
        else:
            if target not in links:
                raise ScenarioError(
                    f"unknown link '{target}' in override {target}.{attribute}={value}",
                    hint=_closest(target, links) or "write source->target, as in the file",
                    code="unknown-link",
                )
            _check_attribute(attribute, A.EDGE_ATTRIBUTES, f"link '{target}'")
            links[target][attribute] = value
    updated = arch.model_copy(
        update={
            "attrs": graph,
            "components": tuple(
                c.model_copy(update={"attrs": comps[c.id]}) for c in arch.components
            ),
            "links": tuple(
                lk.model_copy(update={"attrs": links[f"{lk.source}->{lk.target}"]})
                for lk in arch.links
            ),
        }
    )
    try:
        return read_architecture(to_dot(updated), arch.file).architecture
    except ArchsimError as exc:
        raise ScenarioError(
            "override rejected: " + "; ".join(d.message for d in exc.diagnostics),
            hint=exc.diagnostics[0].hint,
            code="bad-override",
        ) from None


def _check_attribute(name: str, specs: Mapping[str, A.AttributeSpec], what: str) -> None:
    if name not in specs:
        hint = _closest(name, specs) or f"known attributes: {', '.join(sorted(specs))}"
        raise ScenarioError(
            f"'{name}' is not an attribute of {what}", hint=hint, code="bad-override"
        )
