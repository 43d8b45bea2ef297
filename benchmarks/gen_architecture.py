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
    kinds = fixed[:n]
    for kind, share in shares:
        kinds += [kind] * int(rest * share)
    kinds += ["service"] * (n - len(kinds))
    return kinds


def generate(n_components: int, n_links: int, seed: int = 0) -> str:
    """A DOT digraph with ``n_components`` nodes and ``n_links`` relation-labelled edges."""
    rng = random.Random(seed)
    kinds = _mix(n_components)
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
    pairs = [p for p in RELATIONS if p[0] in by_kind and p[1] in by_kind]
    if not pairs or n_links <= 0:
        lines.append("}")
        return "\n".join(lines) + "\n"
    weights = [20 if p == ("service", "service") else 5 for p in pairs]
    lines.append("    // Relations")
    for _ in range(n_links):
        src_kind, dst_kind = rng.choices(pairs, weights)[0]
        src = rng.choice(by_kind[src_kind])
        dst = rng.choice(by_kind[dst_kind])
        label = RELATIONS[(src_kind, dst_kind)]
        if dst_kind == "broker" and rng.random() < 0.5:
            label = _SUBSCRIBE  # consumers point at the broker too, as in the seed
        lines.append(f'    {src} -> {dst} [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


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
