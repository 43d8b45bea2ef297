"""Shared by the property test (tests/test_command_contract.py) and the long run
(benchmarks/bench_fuzz_commands.py): architectures generated or mutated from real files, and
``drive``, which runs every command's core on whatever ``validate`` accepts.

The contract (issue 18): a model ``read_architecture`` accepts runs through analyze, render
(scene and DOT), the analytic solver, a short simulation, tiny sweeps and plans and code
generation without an unhandled exception. An ``ArchsimError`` from a command is a clear
error (exit 2), which is allowed; anything else is a bug.
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass
from pathlib import Path

from archsim.analysis import analyze
from archsim.capacity.axis import parse_axis
from archsim.capacity.plan import Limits, plan
from archsim.capacity.slo import parse_slos
from archsim.capacity.sweep import sweep
from archsim.codegen.generator import render as render_stack
from archsim.errors import ArchsimError
from archsim.model import read_architecture
from archsim.model.dot import parse_dot
from archsim.render import build_scene
from archsim.render.writer import render as render_diagram
from archsim.sim import SimConfig, Workload, simulate, solve
from archsim.sim.analytic import saturation

__all__ = ["CORPUS", "Outcome", "drive", "generate", "mutate"]

ROOT = Path(__file__).resolve().parent.parent
CORPUS: tuple[str, ...] = tuple(
    p.read_text(encoding="utf-8")
    for p in [
        ROOT / "topology.dot",
        *sorted((ROOT / "tests" / "analysis_corpus").glob("*.dot")),
        *sorted((ROOT / "tests" / "sim_models").glob("*.dot")),
        *sorted((ROOT / "tests" / "stack_models").glob("*.dot")),
    ]
)

RELATIONS = (
    "calls", "uses", "routes to", "distributes to", "validates with", "publishes to",
    "subscribes to", "sends via", "integrates with", "stores in", "caches in", "reads from",
    "registers with",
)  # fmt: skip
KINDS = (
    "service", "gateway", "load_balancer", "database", "cache", "broker", "registry", "config",
    "auth", "external",
)  # fmt: skip
NAMES = ("svc", "api", "gateway", "db", "cache", "queue", "auth", "config", "registry", "lb",
         "users", "order", "product", "email", "payment")  # fmt: skip
# Attribute values near and past every documented bound; "!" marks values validate refuses
# (picked less often, so most cases get past validate and reach the commands).
NODE_VALUES = {
    "kind": KINDS,
    "workers": ("1", "4", "10000", "!10001", "!1e20", "!0"),
    "replicas": ("1", "3", "1000", "!100000000"),
    "queue_limit": ("0", "1", "100", "1000000", "!9999999999"),
    "connections": ("1", "10000", "!0"),
    "service_time": ("exp(1ms)", "0ms", "const(2ms)", "gamma(mean=5ms,cv=3)", "!1e999s",
                     "lognormal(mean=1ms,cv=10)", "erlang(3,2ms)", "uniform(0ms,0ms)"),
    "timeout": ("1ms", "5s", "!0s"),
    "retries": ("0", "3", "10", "!11"),
    "error_rate": ("0", "0.5", "1"),
    "hit_ratio": ("0", "1", "0.5"),
    "latency": ("0ms", "10ms"),
    "concurrency": ("async", "threads"),
    "mix": ("!get:1", "!nosuch:1,other:0"),
    "label": ('"database"', '"Cache"', "<<b>A</b> &amp; B>", '"Load Balancer"', '"x\\"y"'),
}  # fmt: skip
EDGE_VALUES = {
    "p": ("0", "0.5", "1", "0.99"),
    "operation": ("!nosuch", "get_user", "create"),
    "mode": ("lookup", "action"),
    "timeout": ("1ms", "2s"),
    "retries": ("0", "2"),
    "breaker": ("1", "5"),
    "weight": ("1", "0.001", "1000000000"),
    "hit_ratio": ("0", "1"),
    "error_rate": ("0", "1"),
    "latency": ("0ms", "1ms"),
    "event": ("Ev", "OrderPlaced"),
}


def _pick_attrs(rng: random.Random, pool: dict[str, tuple[str, ...]], most: int) -> str:
    parts = []
    for key in rng.sample(sorted(pool), rng.randint(0, most)):
        value = rng.choice(pool[key])
        if value.startswith("!"):
            if rng.random() < 0.8:
                continue
            value = value[1:]
        quoted = value if value.startswith(("<", '"')) else f'"{value}"'
        parts.append(f"{key}={quoted}")
    return ", ".join(parts)


def generate(rng: random.Random, most: int = 8) -> str:
    """A random architecture of up to ``most`` components and ~2 links each."""
    n = rng.randint(1, most)
    ids = [f"{rng.choice(NAMES)}_{i}" for i in range(n)]
    lines = ["digraph fuzz {"]
    for node in ids:
        attrs = _pick_attrs(rng, NODE_VALUES, 3)
        lines.append(f"  {node} [{attrs}];" if attrs else f"  {node};")
    for _ in range(rng.randint(0, 2 * n + 1)):
        a, b = rng.choice(ids), rng.choice(ids)
        attrs = _pick_attrs(rng, EDGE_VALUES, 2)
        rel = rng.choice(RELATIONS)
        lines.append(f'  {a} -> {b} [label="{rel}"{", " + attrs if attrs else ""}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


_EDGE = re.compile(r"^(\s*)([\w\"]+)\s*->\s*([\w\"]+)\s*\[(.*)\];\s*$")
_NODE = re.compile(r"^(\s*)(\w+)\s*\[(.*)\];\s*$")


def mutate(rng: random.Random, text: str, steps: int = 3) -> str:
    """``text`` with a few statement-level mutations: attributes added (from the pools),
    links added, reversed or relabelled, lines dropped or duplicated."""
    lines = text.splitlines()
    ids = sorted({m.group(2) for ln in lines if (m := _NODE.match(ln))} or {"x"})
    for _ in range(rng.randint(1, steps)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        line = lines[i]
        op = rng.randrange(7)
        edge, node = _EDGE.match(line), _NODE.match(line)
        if op == 0 and edge:
            extra = _pick_attrs(rng, EDGE_VALUES, 2)
            if extra:
                head = f"{edge.group(1)}{edge.group(2)} -> {edge.group(3)}"
                lines[i] = f"{head} [{edge.group(4)}, {extra}];"
        elif op == 1 and node:
            extra = _pick_attrs(rng, NODE_VALUES, 2)
            if extra:
                lines[i] = f"{node.group(1)}{node.group(2)} [{node.group(3)}, {extra}];"
        elif op == 2 and edge:  # reverse a link: cycles
            lines[i] = f"{edge.group(1)}{edge.group(3)} -> {edge.group(2)} [{edge.group(4)}];"
        elif op == 3 and edge:
            lines[i] = re.sub(r'label="[^"]*"', f'label="{rng.choice(RELATIONS)}"', line)
        elif op == 4 and (edge or node):
            del lines[i]
        elif op == 5:
            a, b = rng.choice(ids), rng.choice(ids)
            extra = _pick_attrs(rng, EDGE_VALUES, 1)
            link = f'  {a} -> {b} [label="{rng.choice(RELATIONS)}"{", " + extra if extra else ""}];'
            lines.insert(max(1, len(lines) - 1), link)
        elif edge or node:  # duplicate a statement (duplicate links, re-declarations)
            lines.insert(i, line)
    return "\n".join(lines) + "\n"


@dataclass
class Outcome:
    """What ``drive`` did: ``refused`` by validate, or the commands that ran (and the clear
    errors some of them gave)."""

    refused: bool = False
    ran: tuple[str, ...] = ()
    clear_errors: tuple[str, ...] = ()


def drive(text: str, *, seed: int = 1, heavy: bool = False) -> Outcome:
    """Validate ``text``; when accepted, run every command's core on it. Raises whatever a
    command raises that is not an ``ArchsimError`` (the bug the caller is looking for).
    ``heavy`` adds a tiny sweep and plan (a few short simulations each)."""
    try:
        arch = read_architecture(text, "case.dot").architecture
    except ArchsimError:
        return Outcome(refused=True)
    ran, clear = [], []

    def step(name: str, fn) -> None:  # type: ignore[no-untyped-def]
        try:
            fn()
            ran.append(name)
        except ArchsimError as exc:
            clear.append(f"{name}: {exc.diagnostics[0].message}")

    step("analyze", lambda: analyze(arch).to_dict())
    step("render", lambda: parse_dot(build_scene(arch), "scene.dot"))
    step("render-dot", lambda: render_diagram(arch, "dot"))
    step("analytic", lambda: (solve(arch, Workload(rps=2.0)), saturation(arch, Workload())))
    step("analytic-closed", lambda: solve(arch, Workload(rps=None, users=3)))
    cfg = SimConfig(duration=1.0, warmup=0.2, replications=1, seed=seed)
    step("simulate", lambda: simulate(arch, Workload(rps=5.0), cfg, jobs=1).to_dict())
    step(
        "simulate-closed",
        lambda: simulate(arch, Workload(rps=None, users=2), cfg, jobs=1, analytic=False),
    )

    def generate_code() -> None:
        files = render_stack(arch, source="case.dot")
        for name, body in files.items():
            if name.endswith(".py") and not name.startswith("archsim_runtime/"):
                ast.parse(body, name)

    step("generate", generate_code)
    if heavy:
        step(
            "sweep",
            lambda: sweep(arch, parse_axis("rps", "2,4"), Workload(rps=2.0), cfg),
        )
        step(
            "plan",
            lambda: plan(
                arch, 4.0, parse_slos("p99<2s"), config=cfg, limits=Limits(max_evaluations=3)
            ),
        )
    return Outcome(False, tuple(ran), tuple(clear))
