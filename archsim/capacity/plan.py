"""``plan``: the cheapest replica (and worker) counts that meet service-level objectives at a
target load, found by simulation and verified by an independent re-simulation.

Search (docs/plan.md): size each scalable component from the analytic model to a utilisation
of at most ``headroom``; simulate; while objectives fail, grow the busiest components; then try
every single step down in parallel and keep the cheapest that still meets the objectives, until
none does; finally re-simulate the winner with more replications and other random numbers.
Cost: ``cost`` per replica of a component (file or default), scaled by workers / file workers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from archsim.capacity.results import Measurement, PlanResult, Sizing
from archsim.capacity.runner import Scenario, run_scenarios
from archsim.capacity.slo import Slo
from archsim.errors import ScenarioError
from archsim.model import Architecture, Kind, apply_overrides
from archsim.sim import SimConfig, Workload, solve
from archsim.sim.results import short_duration
from archsim.sim.workload import entry_weights

__all__ = ["Limits", "plan", "sizing_cost"]

PlanProgress = Callable[[str, int, int], None]
_HOT = 0.7  # a component this busy is worth growing when an objective fails
_PRUNE = 0.95  # the analytic model rules out steps down that load a component past this
_SCALES = ("replicas", "workers", "both")


@dataclass(frozen=True)
class Limits:
    """Search space: at most ``max_replicas``/``max_workers`` per component; ``scale`` says
    what may change (``replicas``, ``workers`` or ``both``); ``only`` (if given) names the
    components that may change, ``fixed`` those that may not (external ones never do)."""

    max_replicas: int = 10
    max_workers: int = 64
    scale: str = "replicas"
    only: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    max_evaluations: int = 60
    headroom: float = 0.8


def sizing_cost(arch: Architecture, sizing: Sizing) -> float:
    """Monthly cost: per component ``cost`` × replicas × workers / the file's workers (the
    components the rules imply too: an auth service's account store is a database to pay for)."""
    total = 0.0
    for c in arch.all_components:
        r, w = sizing.get(c.id, (c.replicas, c.workers))
        total += c.cost * r * w / c.workers
    return total


class _Search:
    """State of one plan: what was evaluated (memoised by sizing) and the log."""

    def __init__(
        self,
        arch: Architecture,
        workload: Workload,
        slos: Sequence[Slo],
        cfg: SimConfig,
        limits: Limits,
        executor: Executor | None,
        progress: PlanProgress | None,
    ) -> None:
        self.arch, self.workload, self.slos, self.cfg = arch, workload, slos, cfg
        self.limits, self.executor, self.progress = limits, executor, progress
        # drawn and implied alike: the implied account store is sized like a drawn database
        self.file: Sizing = {c.id: (c.replicas, c.workers) for c in arch.all_components}
        self.scalable = [
            c.id
            for c in arch.all_components
            if c.kind is not Kind.EXTERNAL
            and c.id not in limits.fixed
            and (not limits.only or c.id in limits.only)
        ]
        self.seen: dict[tuple[tuple[str, int, int], ...], Measurement] = {}
        self.evaluations = 0
        self.log: list[str] = []

    def apply(self, sizing: Sizing) -> Architecture:
        sets = []
        for cid, (r, w) in sorted(sizing.items()):
            r0, w0 = self.file[cid]
            sets += [f"{cid}.replicas={r}"] if r != r0 else []
            sets += [f"{cid}.workers={w}"] if w != w0 else []
        return apply_overrides(self.arch, sets)

    def loads(self, sizing: Sizing) -> dict[str, float]:
        """Analytic offered load (utilisation) per component."""
        return solve(self.apply(sizing), self.workload).offered_loads()

    def evaluate(
        self, sizings: Sequence[Sizing], phase: str, cfg: SimConfig | None = None
    ) -> list[Measurement]:
        """Simulate each sizing (memoised unless ``cfg`` differs); KeyboardInterrupt on Ctrl-C."""
        run_cfg = cfg or self.cfg
        keys = [_key(s) for s in sizings]
        todo = [i for i, k in enumerate(keys) if cfg is not None or k not in self.seen]
        out: dict[int, Measurement] = {}
        if todo:
            scenarios = [Scenario(self.apply(sizings[i]), self.workload) for i in todo]
            progress = self.progress

            def report(done: int, total: int) -> None:
                if progress:
                    progress(phase, done, total)

            outcome = run_scenarios(scenarios, run_cfg, self.executor, progress=report)
            if outcome.interrupted:
                raise KeyboardInterrupt
            self.evaluations += len(todo)
            for i, m in zip(todo, outcome.measurements, strict=True):
                assert m is not None
                out[i] = m
                if cfg is None:
                    self.seen[keys[i]] = m
        return [out[i] if i in out else self.seen[k] for i, k in enumerate(keys)]

    def feasible(self, m: Measurement) -> bool:
        """Objectives met, nothing falls behind, and the target rate gets through."""
        target = self.workload.peak_rate
        return m.stable and m.throughput >= 0.95 * target and all(s.met(m) for s in self.slos)

    def grow(self, sizing: Sizing, cid: str) -> Sizing | None:
        """One step up for ``cid`` (the finer of +1 replica and +1 worker for ``both``)."""
        r, w = sizing[cid]
        lim, scale = self.limits, self.limits.scale
        steps = []
        if scale in ("replicas", "both") and r < lim.max_replicas:
            steps.append((w, (r + 1, w)))  # cost grows by cost·w/w0
        if scale in ("workers", "both") and w < lim.max_workers:
            steps.append((r, (r, w + 1)))  # cost grows by cost·r/w0
        if not steps:
            return None
        return sizing | {cid: min(steps)[1]}

    def shrinks(self, sizing: Sizing) -> list[Sizing]:
        """Every single step down of a scalable component."""
        out = []
        for cid in self.scalable:
            r, w = sizing[cid]
            if self.limits.scale in ("replicas", "both") and r > 1:
                out.append(sizing | {cid: (r - 1, w)})
            if self.limits.scale in ("workers", "both") and w > 1:
                out.append(sizing | {cid: (r, w - 1)})
        return out


def _key(sizing: Sizing) -> tuple[tuple[str, int, int], ...]:
    return tuple(sorted((c, r, w) for c, (r, w) in sizing.items()))


def _start(search: _Search) -> tuple[Sizing, str | None]:
    """Analytic sizing at ``headroom``, and why no sizing can work (None when one may)."""
    lim = search.limits
    sizing = dict(search.file)
    loads = search.loads(sizing)
    for cid in search.scalable:
        r0, w0 = sizing[cid]
        need = loads.get(cid, 0.0) * r0 * w0 / lim.headroom  # worker-slots at headroom
        if lim.scale == "workers":
            r, w = r0, min(lim.max_workers, max(1, math.ceil(need / r0)))
        else:
            r = min(lim.max_replicas, max(1, math.ceil(need / w0)))
            w = w0
            if lim.scale == "both" and r * w < need:
                w = min(lim.max_workers, max(1, math.ceil(need / r)))
        sizing[cid] = (r, w)
    loads = search.loads(sizing)
    for cid, rho in sorted(loads.items(), key=lambda kv: -kv[1]):
        if rho < 1.0:
            break
        if cid not in search.scalable:
            why = "external" if search.arch.component(cid).kind is Kind.EXTERNAL else "fixed"
            return sizing, (
                f"{cid} ({why}, not scaled) is overloaded at {search.workload.peak_rate:g} "
                f"req/s (analytic utilisation {rho:.0%})"
            )
        return sizing, (
            f"{cid} stays overloaded at the limits ({_describe(sizing[cid])}, analytic "
            f"utilisation {rho:.0%}); raise --max-replicas/--max-workers"
        )
    return sizing, None


def _describe(rw: tuple[int, int]) -> str:
    r, w = rw
    return f"{r} replica{'s' * (r != 1)} × {w} worker{'s' * (w != 1)}"


def plan(
    arch: Architecture,
    target_rps: float,
    slos: Sequence[Slo],
    *,
    workload: Workload | None = None,
    config: SimConfig | None = None,
    limits: Limits | None = None,
    executor: Executor | None = None,
    progress: PlanProgress | None = None,
) -> PlanResult:
    """The cheapest sizing meeting ``slos`` at ``target_rps`` (requests/s), verified by an
    independent re-simulation; ``feasible`` is False (with a ``reason``) when none within
    ``limits`` can. ``workload`` gives the mix and arrival process (its rate is replaced)."""
    lim = limits or Limits()
    cfg = config or SimConfig(duration=5.0, warmup=1.0, replications=3)
    _check(arch, target_rps, slos, lim, cfg)
    load = dataclasses.replace(workload or Workload(), rps=target_rps, ramp=(), users=None)
    load.check()
    entry_weights(arch, load)
    search = _Search(arch, load, slos, cfg, lim, executor, progress)
    start, impossible = _start(search)
    search.log.append(f"analytic start: every scalable component at <= {lim.headroom:.0%}")
    baseline = search.evaluate([search.file], "baseline")[0]
    if impossible:
        return _result(search, search.file, baseline, None, None, impossible)
    current, m = start, search.evaluate([start], "start")[0]
    reason = None
    while not search.feasible(m):
        if search.evaluations >= lim.max_evaluations:
            reason = f"no configuration met the objectives within {lim.max_evaluations} evaluations"
            break
        grown, names = _grow_hot(search, current, m)
        if grown is None:
            reason = _stuck(search, current, m)
            break
        search.log.append(f"grow {', '.join(names)}: {_violations(search, m)}")
        current, m = grown, search.evaluate([grown], "grow")[0]
    if reason:
        return _result(search, current, baseline, m, None, reason)
    current, m = _trim(search, current, m)
    verify_cfg = dataclasses.replace(
        cfg, replications=max(6, 2 * cfg.replications), seed=cfg.seed + 1
    )
    for _ in range(3):
        verified = search.evaluate([current], "verify", verify_cfg)[0]
        if search.feasible(verified):
            search.log.append(f"verified with {verify_cfg.replications} new replications")
            return _result(search, current, baseline, m, verified, None)
        grown, names = _grow_hot(search, current, verified)
        if grown is None or search.evaluations >= lim.max_evaluations:
            break
        why = _violations(search, verified)
        search.log.append(f"verification failed ({why}); grow {', '.join(names)}")
        current = grown
        m = search.evaluate([current], "grow")[0]
    return _result(
        search, current, baseline, m, verified, "the best configuration found failed verification"
    )


def _grow_hot(search: _Search, sizing: Sizing, m: Measurement) -> tuple[Sizing | None, list[str]]:
    """Grow every unstable scalable component, or else the busiest one that can still grow."""
    hot = [c for c in m.unstable if c in search.scalable]
    busy = [c for c, u in m.utilisation.items() if u >= _HOT and c in search.scalable]
    names: list[str] = []
    for cid in hot or busy:
        grown = search.grow(sizing, cid)
        if grown is not None:
            sizing, names = grown, [*names, cid]
            if not hot:
                break
    return (sizing, names) if names else (None, [])


def _stuck(search: _Search, sizing: Sizing, m: Measurement) -> str:
    blocked = [c for c in m.unstable if c not in search.scalable]
    if blocked:
        return f"{', '.join(blocked)} cannot keep up and may not be scaled"
    at_limit = [c for c, u in m.utilisation.items() if u >= _HOT and c in search.scalable]
    if at_limit:
        return (
            f"{', '.join(at_limit)} are at the limits and still busy; raise "
            "--max-replicas/--max-workers"
        )
    return (
        f"objectives fail ({_violations(search, m)}) with no component busier than "
        f"{_HOT:.0%}: the latency comes from service times and network hops, not queueing, "
        "so more replicas cannot help"
    )


def _violations(search: _Search, m: Measurement) -> str:
    parts = []
    for s in search.slos:
        if not s.met(m):
            x = s.value(m)
            shown = f"{x:.2%}" if s.metric == "error_rate" else short_duration(x)
            parts.append(f"{s.metric} {shown} vs {s}")
    if m.unstable:
        parts.append(f"{m.unstable[0]} cannot keep up")
    return "; ".join(parts) or "throughput below target"


def _trim(search: _Search, current: Sizing, m: Measurement) -> tuple[Sizing, Measurement]:
    """Take single steps down while one keeps the objectives: the biggest saving first."""
    while search.evaluations < search.limits.max_evaluations:
        options = [s for s in search.shrinks(current) if max(search.loads(s).values()) < _PRUNE]
        if not options:
            break
        room = search.limits.max_evaluations - search.evaluations
        options.sort(key=lambda s: sizing_cost(search.arch, s))
        results = search.evaluate(options[: max(1, room)], "trim")
        ok = [(s, r) for s, r in zip(options, results, strict=False) if search.feasible(r)]
        if not ok:
            break
        best, best_m = ok[0]
        changed = next(c for c in best if best[c] != current[c])
        before, after = _describe(current[changed]), _describe(best[changed])
        search.log.append(f"trim {changed}: {before} -> {after}")
        current, m = best, best_m
    return current, m


def _check(
    arch: Architecture, rps: float, slos: Sequence[Slo], lim: Limits, cfg: SimConfig
) -> None:
    def bad(message: str, hint: str) -> ScenarioError:
        return ScenarioError(message, hint=hint, code="bad-plan")

    if not rps > 0:
        raise bad(f"--target-rps must be > 0, got {rps:g}", "e.g. --target-rps 2000")
    if not slos:
        raise bad("plan needs at least one objective", "e.g. --slo 'p99<300ms'")
    if lim.scale not in _SCALES:
        raise bad(f"unknown --scale '{lim.scale}'", "use replicas, workers or both")
    if lim.max_replicas < 1 or lim.max_workers < 1 or lim.max_evaluations < 2:
        raise bad("limits must be >= 1 (evaluations >= 2)", "e.g. --max-replicas 10")
    if not 0 < lim.headroom < 1:
        raise bad(f"--headroom must be between 0 and 1, got {lim.headroom:g}", "e.g. 0.8")
    known = [c.id for c in arch.all_components]  # an implied store may be fixed or named too
    for cid in (*lim.only, *lim.fixed):
        if cid not in known:
            import difflib

            close = difflib.get_close_matches(cid, known, n=1)
            raise bad(
                f"unknown component '{cid}'",
                f"did you mean '{close[0]}'?" if close else "use a component id of the file",
            )
    cfg.check(arch)


def _result(
    search: _Search,
    sizing: Sizing,
    baseline: Measurement,
    found: Measurement | None,
    verified: Measurement | None,
    reason: str | None,
) -> PlanResult:
    arch = search.arch
    return PlanResult(
        architecture=arch.name,
        target_rps=search.workload.peak_rate,
        slos=tuple(str(s) for s in search.slos),
        feasible=reason is None,
        reason=reason,
        file_sizing=dict(search.file),
        sizing=dict(sizing),
        cost_before=sizing_cost(arch, search.file),
        cost_after=sizing_cost(arch, sizing),
        baseline=baseline,
        found=found,
        verified=verified,
        evaluations=search.evaluations,
        log=tuple(search.log),
        config=search.cfg.describe(),
    )
