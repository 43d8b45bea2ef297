"""Critical path of each entry route, with its expected latency from the model's service times.

Expected latency here is the *unloaded* latency: mean service times plus network hops (there
and back), each step weighted by its probability ``p``, cache reads by their hit ratio (a miss
adds its fallback steps). Queueing is the simulator's job. The critical path descends, at each
operation, into the synchronous call that contributes the most time.
A call back into its own cycle counts only its network hop (cycles are reported by sync-cycle).
"""

from __future__ import annotations

from dataclasses import dataclass

from archsim.analysis.opgraph import OpGraph, OpKey
from archsim.model import Architecture, Step, StepVisitor, visit

__all__ = ["CriticalPath", "PathHop", "critical_paths"]


@dataclass(frozen=True, slots=True)
class PathHop:
    """One operation on a critical path: its expected time with callees and on its own (s)."""

    component: str
    operation: str
    expected: float
    own: float

    def to_dict(self) -> dict[str, object]:
        """JSON view (seconds)."""
        return {"component": self.component, "operation": self.operation,
                "expected_s": self.expected, "own_s": self.own}  # fmt: skip


@dataclass(frozen=True, slots=True)
class CriticalPath:
    """An entry route, its traffic share, its expected unloaded latency (s) and where it goes."""

    entry: str
    weight: float
    expected: float
    path: tuple[PathHop, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON view (seconds)."""
        return {"entry": self.entry, "weight": self.weight, "expected_s": self.expected,
                "path": [hop.to_dict() for hop in self.path]}  # fmt: skip


class _Timer:
    """Expected time of every operation, callees before callers (seconds)."""

    def __init__(self, arch: Architecture, ops: OpGraph) -> None:
        self.ops = ops
        self.mean = {c.id: c.service_time.mean for c in arch.components}
        self.expected: dict[OpKey, float] = {}
        self.calls: dict[OpKey, list[tuple[OpKey, float]]] = {}
        for group in ops.call_order:
            members = set(group)
            for key in group:
                op = ops.ops.get(key)
                calls: list[tuple[OpKey, float]] = []
                if op is None:  # a call to an operation the callee does not offer
                    self.expected[key] = self.mean.get(key[0], 0.0)
                else:
                    self.expected[key] = self._steps(op.component, op.steps, 1.0, members, calls)
                self.calls[key] = calls

    def _steps(self, comp: str, steps: tuple[Step, ...], weight: float, group: set[OpKey],
               calls: list[tuple[OpKey, float]]) -> float:  # fmt: skip
        """Sum of ``weight * p * time`` over the steps; calls are recorded with their share."""
        walk = _Expected(self, comp, weight, group, calls)
        checked: StepVisitor[None] = walk
        for step in steps:
            visit(step, checked)
        return walk.total


@dataclass
class _Expected:
    """Adds up the expected time of the steps run by ``comp`` at ``weight`` (``StepVisitor``):
    compute its mean service time, every other step its hop there and back and the target's
    mean (a call: the callee's expected time, unless it is in the caller's cycle ``group``)."""

    timer: _Timer
    comp: str
    weight: float
    group: set[OpKey]
    calls: list[tuple[OpKey, float]]
    total: float = 0.0

    def compute(self, step: Step) -> None:
        """The component's mean service time."""
        self.total += self.weight * step.p * self.timer.mean[self.comp]

    def call(self, step: Step) -> None:
        """The hops and the callee's expected time, recorded as a call with its share."""
        w, hop = self.weight * step.p, 2 * step.latency
        callee = (step.target or self.comp, step.operation or "")
        inner = 0.0 if callee in self.group else self.timer.expected.get(callee, 0.0)
        self.calls.append((callee, w * (hop + inner)))
        self.total += w * (hop + inner)

    def cache_get(self, step: Step) -> None:
        """The cache's visit, then the miss steps at the miss share."""
        w, hop, target = self.weight * step.p, 2 * step.latency, step.target or self.comp
        miss = 1.0 - (step.hit_ratio if step.hit_ratio is not None else 0.0)
        self.total += w * (hop + self.timer.mean[target])
        self.total += self.timer._steps(self.comp, step.on_miss, w * miss, self.group, self.calls)

    def _visit(self, step: Step) -> None:
        w, hop, target = self.weight * step.p, 2 * step.latency, step.target or self.comp
        self.total += w * (hop + self.timer.mean.get(target, 0.0))

    query = cache_set = cache_delete = publish = _visit


def critical_paths(arch: Architecture, ops: OpGraph) -> list[CriticalPath]:
    """The critical path of every entry route, in entry order."""
    timer = _Timer(arch, ops)
    # Paths of thousands of entries share their tails: each hop is worked out once.
    hops: dict[OpKey, tuple[PathHop, OpKey | None]] = {}
    out = []
    for entry in arch.behaviour.entries:
        key: OpKey | None = (entry.operation.component, entry.operation.operation)
        if key not in timer.expected:
            continue
        path, seen = [], set()
        # ``key in timer.calls``: a callee the walk never reached (a step with p=0) ends the path
        while key is not None and key not in seen and key in timer.calls:
            seen.add(key)
            if key not in hops:
                calls = [c for c in timer.calls[key] if c[1] > 0]  # p=0 steps never run
                total = timer.expected[key]
                own = max(total - sum(t for _, t in calls), 0.0)
                slowest = max(calls, key=lambda c: c[1])[0] if calls else None
                hops[key] = (PathHop(key[0], key[1], total, own), slowest)
            hop, key = hops[key]
            path.append(hop)
        first = (entry.operation.component, entry.operation.operation)
        out.append(CriticalPath(entry.id, entry.weight, timer.expected[first], tuple(path)))
    return out
