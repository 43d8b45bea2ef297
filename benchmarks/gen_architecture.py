"""Generate big architectures in the seed's style (typed nodes, relation-labelled edges).

Usage: ``python benchmarks/gen_architecture.py 2000 10000 [--seed N] > big.dot``
Deterministic for a given seed; reusable from Python as ``generate(n_components, n_links, seed)``.
"""

from __future__ import annotations

import argparse
import random
import sys

__all__ = ["KINDS", "RELATIONS", "generate", "generate_compact"]

# kind -> (id stem, label stem, type, shape)
KINDS: dict[str, tuple[str, str, str, str]] = {
    "gateway": ("api_gateway", "API Gateway", "application", "box"),
    "service": ("service", "Service", "application", "box"),
    "database": ("db", "Database", "technology", "box"),
    "cache": ("cache", "Redis Cache", "technology", "box"),
    "broker": ("message_broker", "Message Broker", "technology", "diamond"),
    "registry": ("service_registry", "Service Registry", "technology", "diamond"),
    "lb": ("load_balancer", "Load Balancer", "technology", "diamond"),
    "config": ("config_service", "Configuration Service", "application", "box"),
    "auth": ("auth_service", "Authentication Service", "application", "box"),
    "external": ("external_api", "External Provider", "application", "box"),
}

# (source kind, target kind) -> relation label, as in DESIGN.md
RELATIONS: dict[tuple[str, str], str] = {
    ("lb", "gateway"): "distributes to",
    ("lb", "service"): "distributes to",
    ("gateway", "service"): "routes to",
    ("gateway", "auth"): "validates with",
    ("service", "auth"): "uses",
    ("service", "service"): "calls",
    ("service", "broker"): "publishes to",
    ("service", "external"): "integrates with",
    ("service", "database"): "stores in",
    ("service", "cache"): "caches in",
    ("service", "config"): "reads from",
    ("service", "registry"): "registers with",
}
_SUBSCRIBE = "subscribes to"
_SECTIONS = {
    "lb": "Load Balancing",
    "gateway": "API Gateway",
    "service": "Microservices",
    "database": "Data Stores",
    "cache": "Caching",
    "broker": "Messaging",
    "registry": "Infrastructure",
    "config": "Shared Services",
    "auth": "Shared Services",
    "external": "External Services",
}


def _mix(n: int) -> list[str]:
    """How many components of each kind: mostly services, each with some data stores."""
    fixed = ["lb", "gateway", "registry", "config", "auth", "broker"]
    rest = max(n - len(fixed), 0)
    shares = [("service", 0.55), ("database", 0.25), ("cache", 0.1), ("external", 0.1)]
    kinds = [*fixed[: n - 1], "service"] if n <= len(fixed) else list(fixed)
    for kind, share in shares:
        kinds += [kind] * int(rest * share)
    kinds += ["service"] * (n - len(kinds))
    return kinds


def generate(n_components: int, n_links: int, seed: int = 0) -> str:
    """A DOT digraph with ``n_components`` nodes and ``n_links`` relation-labelled edges (plus a
    gateway route to each service nothing else reaches) that ``archsim validate`` accepts at every
    size and seed: services are ordered, and a service only calls later ones (no call cycles) and
    only consumes events of earlier ones (no event loops; each publisher names its event, each
    subscription names up to three of them)."""
    rng = random.Random(seed)
    lines, by_kind = _nodes(_mix(n_components))
    pairs = [p for p in RELATIONS if p[0] in by_kind and p[1] in by_kind]
    if len(by_kind.get("service", [])) < 2 and ("service", "service") in pairs:
        pairs.remove(("service", "service"))  # one service cannot call a later one
    if not pairs or n_links <= 0:
        return "\n".join([*lines, "}"]) + "\n"
    order = {s: i for i, s in enumerate(by_kind.get("service", []))}
    weights = [20 if p == ("service", "service") else 5 for p in pairs]
    links: list[list[str]] = []  # [src, dst, label, events or ""]
    for _ in range(n_links):
        src_kind, dst_kind = rng.choices(pairs, weights)[0]
        src, dst = rng.choice(by_kind[src_kind]), rng.choice(by_kind[dst_kind])
        if (src_kind, dst_kind) == ("service", "service"):
            src, dst = sorted(rng.sample(by_kind["service"], 2), key=order.__getitem__)
        label = RELATIONS[(src_kind, dst_kind)]
        if dst_kind == "broker" and rng.random() < 0.5:
            label = _SUBSCRIBE  # consumers point at the broker too, as in the seed
        links.append([src, dst, label, ""])
    _name_events(links, order, rng)
    links += _front_door(by_kind, {link[1] for link in links})
    lines.append("    // Relations")
    for src, dst, label, events in links:
        attr = f'label="{label}"'
        if events:
            attr += f', {"event" if label != _SUBSCRIBE else "events"}="{events}"'
        lines.append(f"    {src} -> {dst} [{attr}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _nodes(kinds: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """The digraph's opening and node statements, and the node ids of each kind."""
    counters: dict[str, int] = {}
    by_kind: dict[str, list[str]] = {}
    lines = ["digraph GeneratedArchitecture {"]
    for kind in sorted(set(kinds), key=kinds.index):
        lines.append(f"    // {_SECTIONS[kind]}")
        stem, label, typ, shape = KINDS[kind]
        for _ in range(kinds.count(kind)):
            counters[kind] = counters.get(kind, 0) + 1
            n = counters[kind]
            node_id = stem if n == 1 and kind not in ("service", "database") else f"{stem}_{n}"
            by_kind.setdefault(kind, []).append(node_id)
            lines.append(f'    {node_id} [label="{label} {n}", type="{typ}", shape="{shape}"];')
    return lines, by_kind


def _front_door(by_kind: dict[str, list[str]], reached: set[str]) -> list[list[str]]:
    """A route from the gateway (else the load balancer) to each service no link reaches: such a
    service, calling only later ones, would otherwise read as a traffic source (a client)."""
    for kind in ("gateway", "lb"):
        if kind in by_kind:
            door = by_kind[kind][0]
            return [[door, s, RELATIONS[(kind, "service")], ""]
                    for s in by_kind.get("service", []) if s not in reached]  # fmt: skip
    return []


def _name_events(links: list[list[str]], order: dict[str, int], rng: random.Random) -> None:
    """Name each publisher's event (``<service>.changed``) on its ``publishes to`` links, and give
    each subscription up to three events of earlier publishers on its broker; a subscriber with
    no earlier publisher publishes instead. Along any chain of events the services' order rises,
    so no event comes back to a consumer upstream of it."""
    publishers: dict[str, set[str]] = {}  # broker -> publishing services
    for link in links:
        if link[2] == "publishes to":
            publishers.setdefault(link[1], set()).add(link[0])
    subscriptions = [link for link in links if link[2] == _SUBSCRIBE]
    for link in sorted(subscriptions, key=lambda lk: order[lk[0]]):
        src, broker = link[0], link[1]
        earlier = sorted((p for p in publishers.get(broker, ()) if order[p] < order[src]),
                         key=order.__getitem__)  # fmt: skip
        if earlier:
            chosen = rng.sample(earlier, min(3, len(earlier)))
            link[3] = ",".join(f"{p}.changed" for p in sorted(chosen, key=order.__getitem__))
        else:
            link[2] = "publishes to"
            publishers.setdefault(broker, set()).add(src)
    for link in links:
        if link[2] == "publishes to":
            link[3] = f"{link[0]}.changed"


def generate_compact(n_services: int, n_links: int, seed: int = 0, chain: int = 40) -> str:
    """A DAG of ``n_services`` services, each storing in its own database, with ``n_links``
    links in all, written compactly so that a million links fit archsim's 10 MB input limit:
    ``edge [label=…]`` defaults instead of a label per edge, and ``calls`` written as chains
    ``s3 -> s17 -> s250`` of up to ``chain`` services in increasing order (so no call cycles).
    """
    rng = random.Random(seed)
    lines = ["digraph Compact {", '  node [type="application", shape="box"];']
    lines += [f"  s{i} [kind=service]; d{i} [kind=database];" for i in range(n_services)]
    lines.append('  edge [label="stores in"];')
    lines += [f"  s{i} -> d{i};" for i in range(n_services)]
    lines.append('  edge [label="calls"];')
    left = n_links - n_services
    while left > 0:
        k = min(chain, left + 1, n_services)
        nodes = sorted(rng.sample(range(n_services), k))
        lines.append("  " + "->".join(f"s{i}" for i in nodes) + ";")
        left -= k - 1
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """CLI: print a generated architecture to stdout."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("components", type=int)
    ap.add_argument("links", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compact", action="store_true", help="generate_compact: services only")
    args = ap.parse_args(argv)
    gen = generate_compact if args.compact else generate
    sys.stdout.write(gen(args.components, args.links, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
