"""What-ifs and profiles: change attributes of a loaded model without editing its file.

An override names a component attribute (``payment_provider.service_time=exp(400ms)``), a link
attribute (``order_service->payment_service.timeout=1s``; where a pair has several links, with
the relation: ``order_service->message_broker[publishes to].p=0.5``) or a graph attribute
(``network_latency=1ms``). A profile file (YAML) holds the same as a mapping::

    components:
      payment_provider: {service_time: exp(400ms), replicas: 2}
    links:
      order_service->payment_service: {timeout: 1s, retries: 2}
    graph:
      network_latency: 0.5ms

Overrides are applied to the model's attributes as written (links addressed by their identity,
source, target and relation) and the edited model is checked and derived again by the loader's
own rules (``read_graph``, from the model's syntax tree: no DOT text is written or parsed), so a
value is checked exactly as it would be in the file and the behaviour is re-derived from it.
A component the rules imply (an auth service's private account store, rule auth.accounts:
``auth_service_accounts.connections=4``) is addressed by its id like a drawn one and takes the
attributes a drawn database honours (``accounts.STORE_ATTRIBUTES``); the loader builds it with
them, since no statement of the file could hold them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from archsim.errors import ArchsimError, Location, ScenarioError
from archsim.model import attributes as A
from archsim.model.accounts import STORE_ATTRIBUTES
from archsim.model.architecture import Architecture
from archsim.model.export import to_dot_graph
from archsim.model.link_address import LinkAddress, address_of, parse_address
from archsim.model.loader import read_graph

__all__ = [
    "LocatedOverride",
    "Override",
    "Profile",
    "apply_overrides",
    "parse_override",
    "parse_profile",
    "profile_overrides",
    "read_profile",
]

Override = tuple[
    str, str, str, str
]  # (scope, target, attribute, value); scope: component|link|graph


class LocatedOverride(tuple):
    """An Override that remembers where it was written (a profile's file:line:col), so a bad
    value is reported there; it unpacks like a plain 4-tuple."""

    location: Location

    def __new__(cls, override: Override, location: Location) -> LocatedOverride:
        self = super().__new__(cls, override)
        self.location = location
        return self


class Profile(dict):
    """A profile mapping (sections ``components``, ``links``, ``graph``) and, per key path
    such as ``("components", "cache", "replicas")``, where its value is written."""

    def __init__(self, data: Mapping[str, Any], source: str, locations: dict) -> None:
        super().__init__(data)
        self.source = source
        self.locations: dict[tuple[str, ...], Location] = locations

    def where(self, *path: str) -> Location:
        """The location of ``path``'s value (its parent's, else the file, when unknown)."""
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return Location(self.source)


def read_profile(path: Path) -> Profile:
    """Read and parse the profile file at ``path`` (``parse_profile``); ScenarioError (located)
    when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(
            f"cannot read profile: {exc.strerror}", Location(str(path)), code="bad-profile"
        ) from None
    return parse_profile(data, str(path))


def parse_profile(data: bytes | str, source: str = "profile") -> Profile:
    """Parse a profile file's YAML (UTF-8) into a ``Profile`` with line numbers; raise
    ScenarioError (located) for bytes that are not UTF-8, bad YAML or a wrong shape."""
    import yaml

    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            good = data[: exc.start].decode("utf-8", errors="replace")
            line = good.count("\n") + 1
            raise ScenarioError(
                f"profile is not valid UTF-8: byte 0x{data[exc.start]:02X} cannot be decoded",
                Location(source, line, len(good) - (good.rfind("\n") + 1) + 1),
                "re-save the profile as UTF-8",
                code="bad-profile",
            ) from None
    else:
        text = data
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
        raise ScenarioError(
            f"profile is not valid YAML: {getattr(exc, 'problem', None) or exc}",
            where,
            code="bad-profile",
        ) from None
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise ScenarioError(
            "a profile must be a mapping with sections components, links and graph",
            Location(source, 1, 1),
            "e.g.\ncomponents:\n  product_service: {replicas: 2}",
            code="bad-profile",
        )
    locations: dict[tuple[str, ...], Location] = {}
    if root is not None:
        _marks(root, (), source, locations)
    return Profile(value, source, locations)


def _marks(node: Any, path: tuple[str, ...], source: str, out: dict) -> None:
    """Record the start of every mapping value under ``node`` by its key path."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return
    for key, val in node.value:
        name = str(getattr(key, "value", key))
        mark = val.start_mark
        out[(*path, name)] = Location(source, mark.line + 1, mark.column + 1)
        if len(path) < 2:
            _marks(val, (*path, name), source, out)


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
    if "->" not in target:
        return ("component", target.replace(" ", ""), attribute, value)
    return ("link", _link_target(target, f"--set {text}"), attribute, value)


def _link_target(text: str, origin: str, where: Location | None = None) -> str:
    """A link override's target in canonical form (``a->b`` or ``a->b[relation]``)."""
    address = parse_address(text)
    if address is None:
        raise ScenarioError(
            f"cannot read the link '{text}' in {origin}",
            where,
            hint="write source->target, or source->target[relation] where the pair has "
            "several links, e.g. order_service->message_broker[publishes to]",
            code="bad-override",
        )
    return str(address)


def profile_overrides(data: Mapping[str, Any], source: str = "profile") -> list[Override]:
    """Turn a loaded profile mapping (see module docstring) into overrides; with a ``Profile``
    (``parse_profile``) each override carries the file:line:col of its value."""
    where = data.where if isinstance(data, Profile) else (lambda *_: Location(source))
    unknown = {str(k) for k in data} - {"components", "links", "graph"}
    if unknown:
        first = sorted(unknown)[0]
        raise ScenarioError(
            f"{source}: unknown section(s) {', '.join(sorted(unknown))}",
            where(first),
            "a profile has the sections components, links and graph",
            code="bad-profile",
        )
    out: list[Override] = []
    for scope, key in (("component", "components"), ("link", "links")):
        section = data.get(key) or {}
        if not isinstance(section, Mapping):
            raise ScenarioError(
                f"{source}: {key} must map {scope} names to attributes",
                where(key),
                f"e.g. {key}:\n  {'cache' if scope == 'component' else 'a->b'}: {{replicas: 2}}",
                code="bad-profile",
            )
        for target, attrs in section.items():
            if not isinstance(attrs, Mapping):
                raise ScenarioError(
                    f"{source}: {key}.{target} must map attributes to values",
                    where(key, str(target)),
                    f"e.g. {target}: {{replicas: 2}}",
                    code="bad-profile",
                )
            name = str(target).replace(" ", "")
            if scope == "link":
                name = _link_target(str(target), source, where(key, str(target)))
            for k, v in attrs.items():
                item = (scope, name, str(k), _text(v))
                out.append(LocatedOverride(item, where(key, str(target), str(k))))
    graph = data.get("graph") or {}
    if not isinstance(graph, Mapping):
        raise ScenarioError(
            f"{source}: graph must map graph attributes to values",
            where("graph"),
            "e.g. graph:\n  network_latency: 0.5ms",
            code="bad-profile",
        )
    for k, v in graph.items():
        out.append(LocatedOverride(("graph", "", str(k), _text(v)), where("graph", str(k))))
    return out


def _text(value: Any) -> str:
    """A YAML scalar as the text a DOT attribute would hold (``true`` stays lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def apply_overrides(arch: Architecture, overrides: Iterable[Override | str]) -> Architecture:
    """A new Architecture with the overrides applied and behaviour re-derived.

    Raises ScenarioError naming the unknown component, link or attribute, or the bad value.
    """
    parsed = [parse_override(o) if isinstance(o, str) else o for o in overrides]
    if not parsed:
        return arch
    for override in parsed:
        _check_value(override)
    comps = {c.id: dict(c.attrs) for c in arch.components}
    stores = {c.id: dict(c.attrs) for c in arch.implied}  # rule auth.accounts: no statement
    # one dict per link, not per pair: a pair can be joined by several links
    links = [dict(lk.attrs) for lk in arch.links]
    graph = dict(arch.attrs)
    for override in parsed:
        scope, target, attribute, value = override
        where = getattr(override, "location", None)
        if scope == "graph":
            _check_attribute(attribute, A.GRAPH_ATTRIBUTES, "the graph")
            graph[attribute] = value
        elif scope == "component" and target in stores:
            _check_store_attribute(override)
            stores[target][attribute] = value
        elif scope == "component":
            if target not in comps:
                known = [*comps, *stores]
                raise ScenarioError(
                    f"unknown component '{target}' in override {target}.{attribute}={value}",
                    where,
                    hint=_closest(target, known) or f"components: {', '.join(sorted(known))}",
                    code="unknown-component",
                )
            _check_attribute(attribute, A.NODE_ATTRIBUTES, f"component '{target}'")
            comps[target][attribute] = value
        else:
            _check_attribute(attribute, A.EDGE_ATTRIBUTES, f"link '{target}'")
            for i in _links_named(arch, target, override, where):
                links[i][attribute] = value
    updated = arch.model_copy(
        update={
            "attrs": graph,
            "components": tuple(
                c.model_copy(update={"attrs": comps[c.id]}) for c in arch.components
            ),
            "links": tuple(
                lk.model_copy(update={"attrs": attrs})
                for lk, attrs in zip(arch.links, links, strict=True)
            ),
        }
    )
    given = {store: attrs for store, attrs in stores.items() if attrs}
    try:
        result = read_graph(to_dot_graph(updated), arch.file, given).architecture
    except ArchsimError as exc:
        raise ScenarioError(
            "override rejected: " + "; ".join(d.message for d in exc.diagnostics),
            hint=exc.diagnostics[0].hint,
            code="bad-override",
        ) from None
    lost = sorted(set(given) - {c.id for c in result.implied})
    if lost:
        raise ScenarioError(
            f"override of '{lost[0]}' rejected: with the other overrides the rules no longer "
            "imply that store",
            hint='draw the store (… -> store [label="stores in"]) to keep it in every case',
            code="bad-override",
        )
    return result


def _check_store_attribute(override: Override) -> None:
    """An implied store (rule auth.accounts) takes the attributes a drawn database honours."""
    _, target, attribute, _ = override
    if attribute not in STORE_ATTRIBUTES:
        raise ScenarioError(
            f"'{attribute}' cannot be set on '{target}', the account store the model implies "
            f"(rule auth.accounts): it takes {', '.join(STORE_ATTRIBUTES)}",
            getattr(override, "location", None),
            hint=f"to change its {attribute}, draw the store in the file and link its auth "
            'service to it with [label="stores in"]',
            code="bad-override",
        )


def _links_named(
    arch: Architecture, target: str, override: Override, where: Location | None
) -> list[int]:
    """The indexes of the links an override's target names; raise ScenarioError when it names
    none, or several without saying which relation."""
    address = parse_address(target)
    assert address is not None  # targets are canonical by the time they get here
    chosen = address.select(arch.links)
    if not chosen:
        known = sorted({str(address_of(lk, arch.links)) for lk in arch.links})
        raise ScenarioError(
            f"unknown link '{target}' in override {_written(override)}",
            where,
            hint=_closest(target, known) or "write source->target, as in the file",
            code="unknown-link",
        )
    if len(chosen) > 1:
        named = ", ".join(str(LinkAddress(*arch.links[i].key)) for i in chosen)
        raise ScenarioError(
            f"link '{target}' in override {_written(override)} is ambiguous: the file joins "
            f"that pair {len(chosen)} times",
            where,
            hint=f"name the relation: {named}",
            code="ambiguous-link",
        )
    return chosen


_SPECS = {"graph": A.GRAPH_ATTRIBUTES, "component": A.NODE_ATTRIBUTES, "link": A.EDGE_ATTRIBUTES}


def _check_attribute(
    name: str, specs: Mapping[str, A.AttributeSpec], what: str, where: Location | None = None
) -> None:
    if name not in specs:
        hint = _closest(name, specs) or f"known attributes: {', '.join(sorted(specs))}"
        raise ScenarioError(
            f"'{name}' is not an attribute of {what}", where, hint=hint, code="bad-override"
        )


def _check_value(override: Override) -> None:
    """Parse the value as the DOT attribute would be: a bad one is reported where it was
    written (the profile's file:line:col, or the ``--set`` option), before the model is read."""
    scope, target, attribute, value = override
    where = getattr(override, "location", None)
    what = "the graph" if scope == "graph" else f"{scope} '{target}'"
    specs = _SPECS[scope]
    _check_attribute(attribute, specs, what, where)
    try:
        specs[attribute].parse(value)
    except ValueError as exc:
        origin = "" if where is not None else f" in --set {_written(override)}"
        raise ScenarioError(
            f"invalid {attribute} on {what}{origin}: {exc}",
            where,
            f"e.g. {attribute}={specs[attribute].example}",
            code="bad-override",
        ) from None


def _written(override: Override) -> str:
    scope, target, attribute, value = override
    return f"{attribute}={value}" if scope == "graph" else f"{target}.{attribute}={value}"
