"""Which kind each component is: what it does (its links) before what it is called.

The order of evidence, strongest first (docs/behaviour.md, "Kinds"):

1. ``kind="…"`` in the file;
2. a **traffic source**: nothing links to it and it only ``calls``/``uses`` others, or it is
   named like one (Browser, Mobile App, Users, Load generator) and only sends requests;
3. what its relations say (the target of ``stores in`` is a database, the source of ``routes
   to`` a gateway, …);
4. its id, label, ``type`` (when it is not a layer: ``type="broker"``) and shape —
   unless its links contradict the name: something named "Email
   Service" that ``subscribes to`` a broker is a service (a consumer), not an external system;
   something named like a load balancer (nginx) or a front end that only ``calls`` services is
   a gateway that forwards requests to them — but a front end nothing links to that calls only
   gateways or load balancers is a traffic source (a Web UI drawn into the Zuul edge).
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath

from archsim.errors import Severity
from archsim.model import attributes as A
from archsim.model.checks import Reader
from archsim.model.dot.ast import Attr, DotGraph, DotNode
from archsim.model.event_labels import event_phrase
from archsim.model.kinds import (
    CLIENT_WORDS,
    CLOUD_VENDOR_WORDS,
    DEVICE_APP_WORDS,
    FRONTEND_WORDS,
    NO_EVIDENCE,
    Kind,
    Layer,
    Relation,
    kind_from_names,
    kind_from_relations,
    name_has,
)

__all__ = [
    "explicit_kind",
    "node_names",
    "read_data_reads",
    "relation_for",
    "relation_for_label",
    "relation_for_target",
    "resolve_kinds",
]

# What a traffic source does: it sends requests and nothing else.
_CLIENT_RELATIONS = frozenset({Relation.CALLS, Relation.USES})
_REQUEST_RELATIONS = _CLIENT_RELATIONS | {Relation.ROUTES_TO, Relation.DISTRIBUTES_TO}
# Kinds that do no work of their own: a component that acts is not one of them.
_PASSIVE = frozenset({Kind.EXTERNAL, Kind.DATABASE, Kind.CACHE, Kind.BROKER})
_ACTS = frozenset(
    {
        Relation.STORES_IN,
        Relation.CACHES_IN,
        Relation.PUBLISHES_TO,
        Relation.SUBSCRIBES_TO,
        Relation.CALLS,
        Relation.USES,
        Relation.SENDS_VIA,
        Relation.INTEGRATES_WITH,
        Relation.VALIDATES_WITH,
    }
)
# What a proxy by name that forwards nothing may do: keep data, so it is a service.
_DATA_WORK = frozenset({Relation.STORES_IN, Relation.CACHES_IN, Relation.PUBLISHES_TO})
#: Front ends that forward requests on even to a gateway: the edge of the system, not an app.
_FORWARDER_WORDS = (
    "cdn", "cloudfront", "akamai", "fastly", "front door", "edge router", "bff", "web server",
    "webserver",
)  # fmt: skip
# What a front end may do besides calling the services it forwards to.
_FRONTEND_EXTRAS = frozenset(
    {Relation.VALIDATES_WITH, Relation.READS_FROM, Relation.REGISTERS_WITH, Relation.SENDS_VIA}
)


def relation_for_target(kind: Kind) -> Relation:
    """The relation an unlabelled edge to a component of ``kind`` is read as."""
    by_kind = {
        Kind.DATABASE: Relation.STORES_IN,
        Kind.CACHE: Relation.CACHES_IN,
        Kind.BROKER: Relation.PUBLISHES_TO,
        Kind.REGISTRY: Relation.REGISTERS_WITH,
        Kind.CONFIG: Relation.READS_FROM,
        Kind.EXTERNAL: Relation.INTEGRATES_WITH,
        Kind.AUTH: Relation.VALIDATES_WITH,
    }
    return by_kind.get(kind, Relation.CALLS)


#: First words of a label on an edge to a broker that say the source takes from it: a worker
#: drawn towards its queue (``sidekiq -> redis [label="fetch jobs"]``) consumes, not publishes.
_TAKING = frozenset(
    {"fetch", "fetches", "pull", "pulls", "poll", "polls", "dequeue", "dequeues", "receive",
     "receives"}
)  # fmt: skip


def relation_for_label(source: Kind, target: Kind, label: str) -> Relation:
    """``relation_for``, except that an edge to a broker whose label starts with a word of
    taking (``fetch jobs``, ``polls``, ``pull messages``) subscribes to it."""
    rel = relation_for(source, target)
    words = label.lower().split()
    if rel is Relation.PUBLISHES_TO and words and words[0] in _TAKING:
        return Relation.SUBSCRIBES_TO
    if rel is Relation.PUBLISHES_TO and event_phrase(label)[0] is Relation.SUBSCRIBES_TO:
        return Relation.SUBSCRIBES_TO  # "consumes OrderPaid", "handles order.paid events"
    return rel


def relation_for(source: Kind, target: Kind) -> Relation:
    """The relation an unlabelled edge between components of these kinds is read as: by the
    target's kind, except that a load balancer (a Kubernetes Service, an ALB) spreads its
    requests over what it points at."""
    if source is Kind.LOAD_BALANCER and target in (Kind.SERVICE, Kind.GATEWAY):
        return Relation.DISTRIBUTES_TO
    return relation_for_target(target)


def shown_label(attrs: Mapping[str, Attr]) -> Attr | None:
    """The attribute a node is shown by: its ``label``; an empty label (a node drawn as an
    icon) gives way to its ``xlabel``, else its ``image``'s file name (``icons/postgres.png``
    reads ``postgres``), else None (the id names it)."""
    label = attrs.get("label")
    if label is not None and (label.value.strip() or label.is_html):
        return label
    xlabel = attrs.get("xlabel")
    if xlabel is not None and xlabel.value.strip():
        return xlabel
    image = attrs.get("image") or attrs.get("icon")
    if image is not None:
        stem = PurePosixPath(image.value.replace("\\", "/")).stem
        words = _ICON_NOISE.sub(" ", stem).strip()
        if words:
            return dataclasses.replace(image, value=words)
    return label


# an icon's file name: "redis-logo", "aws_rds_icon@2x" say redis and aws rds
_ICON_NOISE = re.compile(r"(?:[-_ .]+|@\dx\b|\b(?:logo|icon)\b)+", re.IGNORECASE)


def node_names(graph: DotGraph, node_id: str) -> tuple[str | None, str | None]:
    """The words a node is called by (its label, and its ``type`` when that is not a layer:
    ``type="broker"``), and its shape."""
    attrs = graph.nodes[node_id].attrs
    shown = shown_label(attrs)
    label = shown.value if shown is not None else None
    kind_type = attrs["type"].value if "type" in attrs else None
    if kind_type is not None and kind_type.strip().lower() not in _LAYERS:
        label = f"{label or ''} {kind_type}"
    shape = attrs["shape"].value if "shape" in attrs else None
    return label, shape


_LAYERS = frozenset(layer.value for layer in Layer)


def explicit_kind(node: DotNode) -> Kind | None:
    """The kind a node's ``kind="…"`` names; None without one, or when it names no kind (the
    attribute checks report that)."""
    explicit = node.attrs.get("kind")
    if explicit is None:
        return None
    try:
        kind: Kind | None = A.NODE_ATTRIBUTES["kind"].parse(explicit.value)
    except ValueError:
        return None
    return kind


def read_data_reads(
    graph: DotGraph, labelled: list[tuple[Relation | None, str]], reader: Reader
) -> None:
    """Read a label ``reads from`` on an edge to a database as ``stores in`` (in place): in a
    drawing, ``ratings -> MongoDB [label="reads from"]`` is a service reading its data, not its
    configuration. A ``relation="reads from"`` written out, or a target named like config, stays."""
    data: dict[str, bool] = {}  # by target: a database not named like config
    for index, edge in enumerate(graph.edges):
        rel, label = labelled[index]
        if rel is not Relation.READS_FROM or "relation" in edge.attrs:
            continue
        if edge.target not in data:
            names = node_names(graph, edge.target)
            kind = (
                explicit_kind(graph.nodes[edge.target]) or kind_from_names(edge.target, *names)[0]
            )
            config = name_has(edge.target, names[0], _CONFIG_WORDS)
            data[edge.target] = kind is Kind.DATABASE and config is None
        if not data[edge.target]:
            continue
        labelled[index] = (Relation.STORES_IN, label)
        reader.report(
            Severity.INFO,
            f"{edge.source} -> {edge.target}: '{label}' on an edge to a database is read as "
            f"'stores in' ({edge.source} keeps its data in {edge.target})",
            edge.location,
            f'write [relation="reads from"] if {edge.target} holds configuration',
            "reads-data",
        )


_CONFIG_WORDS = ("config", "configuration", "settings")


def resolve_kinds(
    graph: DotGraph, relations: list[Relation | None], reader: Reader
) -> dict[str, tuple[Kind, str]]:
    """The kind of every node with the reason, by the order of evidence above."""
    outgoing: dict[str, list[tuple[Relation, str]]] = defaultdict(list)
    incoming: dict[str, list[Relation]] = defaultdict(list)
    linked_to: set[str] = set()
    counted: set[tuple[str, str, Relation]] = set()
    by_name: dict[str, Kind] = {}

    def kind_by_name(node_id: str) -> Kind:
        if node_id not in by_name:
            # kind= first: an unlabelled edge to a kind=broker "Redis" is a publish, as the
            # loader reads it, not a cache write voting against the kind the file gives
            node = graph.nodes.get(node_id)
            given = explicit_kind(node) if node is not None else None
            by_name[node_id] = given or kind_from_names(node_id, *node_names(graph, node_id))[0]
        return by_name[node_id]

    for node_id, users in _primary_stores(graph, relations, kind_by_name).items():
        by_name[node_id] = Kind.DATABASE  # its unlabelled edges store in it
        who = " and ".join(sorted(users))
        reader.report(
            Severity.INFO,
            f"'{node_id}' is named like a cache but drawn or written as a store (a cylinder, "
            f"a store's name, a data structure's commands: ZADD), and {who} keep"
            f"{'s' if len(users) == 1 else ''} data nowhere else: read as the database "
            f"{who} store{'s' if len(users) == 1 else ''} in",
            graph.nodes[node_id].location,
            f'write [relation="caches in"] on the edge, and draw the database behind '
            f"{node_id}, if it is a cache",
            "primary-store",
        )
    for index, edge in enumerate(graph.edges):
        linked_to.add(edge.target)
        rel = relations[index]
        if rel is None:  # unlabelled: what the names suggest (the loader says so)
            rel = relation_for(kind_by_name(edge.source), kind_by_name(edge.target))
        # A duplicated link counts once, as it does in the model (and after ``archsim fmt``).
        if (edge.source, edge.target, rel) not in counted:
            counted.add((edge.source, edge.target, rel))
            outgoing[edge.source].append((rel, edge.target))
            incoming[edge.target].append(rel)
    kinds: dict[str, tuple[Kind, str]] = {}
    fronts: dict[str, str] = {}  # front ends nothing links to: the front-end word
    for node in graph.nodes.values():
        out = outgoing.get(node.id, [])
        out_rels = [rel for rel, _ in out]
        by_rel = kind_from_relations(out_rels, incoming.get(node.id, []))
        kind = explicit_kind(node)
        if kind is not None:
            kinds[node.id] = (kind, "set by kind attribute")
            if by_rel and by_rel[0] is not kind:
                reader.warn(
                    f"'{node.id}' has kind={kind.value} but is the {by_rel[1]}, "
                    f"which usually means a {by_rel[0].value}",
                    node.attrs["kind"].location,
                    "check the kind, or the relation label",
                    "kind-conflict",
                )
            continue
        label, shape = node_names(graph, node.id)
        client = _client(node.id, label, out, node.id in linked_to)
        named = kind_from_names(node.id, label, shape)
        kinds[node.id] = client or by_rel or _by_deeds(node.id, label, named, out, incoming)
        if client is None and node.id not in linked_to:
            word = _user_front_end(node.id, label, out)
            if word is not None:
                fronts[node.id] = word
    _front_ends_before_doors(fronts, outgoing, kinds)
    return kinds


def _user_front_end(node_id: str, label: str | None, out: list[tuple[Relation, str]]) -> str | None:
    """The front-end word (``web ui``) of a component nothing links to that is named like a
    front end the user runs, not a forwarder (CDN, BFF), and only sends requests; else None."""
    if not out or not {rel for rel, _ in out} <= _CLIENT_RELATIONS:
        return None
    if kind_from_names(node_id, label, None)[0] is not Kind.SERVICE:
        return None  # named like a gateway or load balancer: the front door itself
    if name_has(node_id, label, _FORWARDER_WORDS):
        return None
    return name_has(node_id, label, FRONTEND_WORDS + DEVICE_APP_WORDS)


def _front_ends_before_doors(
    fronts: dict[str, str],
    outgoing: Mapping[str, list[tuple[Relation, str]]],
    kinds: dict[str, tuple[Kind, str]],
) -> None:
    """Make a traffic source (in place) of each of ``fronts`` whose targets are all gateways
    or load balancers: a Web UI drawn into the Zuul edge is where requests come from, as the
    Mobile App beside it, not a gateway in front of the gateway."""
    for node_id, word in fronts.items():
        targets = sorted({target for _, target in outgoing[node_id]})
        if all(kinds[t][0] in (Kind.GATEWAY, Kind.LOAD_BALANCER) for t in targets):
            kinds[node_id] = (
                Kind.CLIENT,
                f"named like a front end ('{word}'), nothing links to it and it only calls "
                f"the front door{'s' if len(targets) > 1 else ''} {', '.join(targets)}: "
                "a traffic source",
            )


#: Words of a label that say a component keeps data (besides ``shape=cylinder``).
_STORE_WORDS = ("store", "storage", "database", "db", "primary", "persistent", "persistence")
_CACHE_WORDS = ("cache", "caches", "caching", "memcached")
# Redis commands that keep a data structure (a sorted set, a hash, a list, a stream): data
# kept, not a copy in front of a database (a home timeline, a leaderboard). GET/SET are not.
_STRUCTURE_COMMANDS = frozenset({
    "zadd", "zrange", "zrevrange", "zrangebyscore", "zrevrangebyscore", "zincrby", "zrem",
    "zscore", "zrank", "hset", "hget", "hgetall", "hmset", "hincrby", "lpush", "rpush",
    "lrange", "ltrim", "sadd", "smembers", "srem", "xadd", "xrange", "xread",
})  # fmt: skip
_WORDS = re.compile(r"[a-z0-9]+")


def _primary_stores(
    graph: DotGraph, relations: list[Relation | None], kind_by_name: Callable[[str], Kind]
) -> dict[str, set[str]]:
    """Nodes named like a cache (Redis) but drawn as a store (a cylinder, "cart store") whose
    edges state no relation, and whose users keep data in no database: their primary store
    (Online Boutique's ``caches in`` a cylinder stays a cache). Id → the users."""
    users: dict[str, set[str]] = defaultdict(set)
    stated: set[str] = set()
    keep_data: set[str] = set()
    structures: set[str] = set()  # written with a data structure's commands (ZADD, HSET)
    for index, edge in enumerate(graph.edges):
        rel = relations[index]
        if rel is not None:
            stated.add(edge.target)
            if rel is Relation.STORES_IN:
                keep_data.add(edge.source)
            continue
        # only an edge that states no relation is read by its target's kind (a lookup of the
        # target's names per edge before, a million at the largest files, most of them labelled)
        target = kind_by_name(edge.target)
        if target is Kind.CACHE:
            users[edge.target].add(edge.source)
            written = edge.attrs.get("label")
            words = set(_WORDS.findall(written.value.lower())) if written is not None else set()
            if _STRUCTURE_COMMANDS & words:
                structures.add(edge.target)
        elif target is Kind.DATABASE:
            keep_data.add(edge.source)
    found: dict[str, set[str]] = {}
    for node_id, sources in users.items():
        node = graph.nodes[node_id]
        if node_id in stated or sources & keep_data or explicit_kind(node) is not None:
            continue
        label, shape = node_names(graph, node_id)
        if name_has(node_id, label, _CACHE_WORDS):
            continue  # "Cache (redis)": called a cache, whatever its shape
        drawn = (shape or "").lower() in ("cylinder", "database") or node_id in structures
        if drawn or name_has(node_id, label, _STORE_WORDS):
            found[node_id] = sources
    return found


def _client(
    node_id: str, label: str | None, out: list[tuple[Relation, str]], linked_to: bool
) -> tuple[Kind, str] | None:
    """A traffic source: nothing links to it, and it only sends requests."""
    if linked_to or not out:
        return None
    rels = {rel for rel, _ in out}
    word = name_has(node_id, label, CLIENT_WORDS)
    if word and rels <= _REQUEST_RELATIONS:
        reason = f"named like a client ('{word}'), nothing links to it: a traffic source"
        return Kind.CLIENT, reason
    if rels <= _CLIENT_RELATIONS:
        named = kind_from_names(node_id, label, None)[0]
        if named in (Kind.GATEWAY, Kind.LOAD_BALANCER) or name_has(node_id, label, FRONTEND_WORDS):
            return None  # a front end nothing links to is the front door, not a client
        verb = " and ".join(sorted(r.label for r in rels))
        return Kind.CLIENT, f"nothing links to it and it only {verb} others: a traffic source"
    return None


def _by_deeds(
    node_id: str,
    label: str | None,
    named: tuple[Kind, str],
    out: list[tuple[Relation, str]],
    incoming: dict[str, list[Relation]],
) -> tuple[Kind, str]:
    """The kind its name suggests, unless what it does says otherwise."""
    kind = named[0]
    rels = {rel for rel, _ in out}
    if kind in _PASSIVE:
        acting = next(((rel, target) for rel, target in out if rel in _ACTS), None)
        if acting is not None:
            rel, target = acting
            return Kind.SERVICE, (
                f"it {rel.label} '{target}', so it does work ({named[1]}, "
                f"which would make it a {kind.value})"
            )
    if kind in (Kind.LOAD_BALANCER, Kind.GATEWAY) and rels and rels <= _DATA_WORK:
        # forwards nothing and keeps data: an nginx serving files from GridFS is a service
        rel, target = out[0]
        return Kind.SERVICE, (
            f"it {rel.label} '{target}' and forwards to nothing, so it does its own work "
            f"({named[1]}, which would make it a {kind.value})"
        )
    vendor = (
        name_has(node_id, label, CLOUD_VENDOR_WORDS) if not out and kind is Kind.SERVICE else None
    )
    if vendor and named[1] == NO_EVIDENCE and incoming.get(node_id):
        return Kind.EXTERNAL, (
            f"named after a cloud provider ('{vendor}') and it links to nothing: a managed "
            "service the system calls"
        )
    if kind in (Kind.CONFIG, Kind.REGISTRY) and Relation.ROUTES_TO in incoming.get(node_id, ()):
        return Kind.SERVICE, f"a gateway routes requests to it ({named[1]})"
    calls = Relation.CALLS in rels
    if kind is Kind.LOAD_BALANCER and calls and Relation.DISTRIBUTES_TO not in rels:
        return Kind.GATEWAY, (
            f"{named[1]}, and it calls services rather than distributing to replicas: "
            "a front end that forwards requests"
        )
    if kind is Kind.SERVICE and calls and rels <= {Relation.CALLS} | _FRONTEND_EXTRAS:
        word = name_has(node_id, label, FRONTEND_WORDS + DEVICE_APP_WORDS)
        if word:
            return Kind.GATEWAY, (
                f"named like a front end ('{word}') and it only calls services: "
                "it forwards requests to them"
            )
    return named
