"""The model's prediction at the arrival rate the stack is measured to receive.

The arrival rate is fitted, not guessed: every operation's predicted rate is proportional to
the front door's rate λ (the traffic equations are linear), so λ is the least-squares fit of
the measured operation rates to the predicted ones per unit of λ. At that λ the analytic solver
(``archsim.sim.analytic``, milliseconds) gives each component's throughput, utilisation and
mean response time; the p95 beside it is the exponential-response estimate (ln 20 × mean),
flagged as approximate. When the solver cannot answer (an overloaded station has no steady
state) a short simulation does, with its own p95. The server runs this within one refresh.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import cached_property

from archsim.dashboard.measure import CALL_RELATIONS, LinkKey, link_visits
from archsim.dashboard.readings import Predicted
from archsim.errors import ArchsimError
from archsim.model import Architecture, Link, OpKind, Relation, StepAction
from archsim.sim import SimConfig, Workload, simulate
from archsim.sim.analytic import operations, solve

__all__ = ["Prediction", "Predictor"]

_P95_OF_EXP = math.log(20.0)  # p95 of an exponential distribution, in units of its mean
_SIM_EVENTS = 4000.0  # requests a fallback simulation aims for: enough for a p95, fast


@dataclass(frozen=True)
class Prediction:
    """Predicted figures per component (its own operations) and per link, at ``arrival_rate``."""

    method: str
    arrival_rate: float
    components: dict[str, Predicted]
    links: dict[LinkKey, Predicted]
    elapsed_ms: float = 0.0
    note: str | None = None
    through_links: dict[str, Predicted] = field(default_factory=dict)


class Predictor:
    """Predictions for one architecture (what does not depend on λ is computed once)."""

    def __init__(self, arch: Architecture) -> None:
        self.arch = arch

    @cached_property
    def unit_rates(self) -> dict[tuple[str, str], float]:
        """Executions per second of every operation per request/s at the front door."""
        return {k: v["rate"] for k, v in operations(self.arch, Workload(rps=1.0)).items()}

    def fit_rate(self, measured: dict[tuple[str, str], float]) -> float | None:
        """The front-door rate (requests/s) that best explains the measured operation rates
        (least squares over the operations both sides know); None when nothing is comparable."""
        num = den = 0.0
        for key, rate in measured.items():
            v = self.unit_rates.get(key, 0.0)
            num, den = num + rate * v, den + v * v
        return max(0.0, num / den) if den > 0 else None

    def predict(self, rate: float, sim_budget_s: float = 1.5) -> Prediction:
        """The prediction at ``rate`` requests/s: analytic, else a short simulation."""
        started = time.perf_counter()
        note: str | None
        try:
            out = self._analytic(rate)
        except (ArchsimError, ArithmeticError, ValueError) as exc:
            out = None
            note = f"analytic solver: {exc}"
        else:
            note = None if out is not None else "analytic solver: a station is overloaded"
        if out is None:
            out = self._simulated(rate, sim_budget_s)
        ms = (time.perf_counter() - started) * 1000
        return Prediction(out.method, rate, out.components, out.links, ms, note, out.through_links)

    def _analytic(self, rate: float) -> Prediction | None:
        workload = Workload(rps=rate)
        solved = solve(self.arch, workload)
        ops = operations(self.arch, workload, solved)
        if any(not math.isfinite(v["response"]) for v in ops.values() if v["rate"] > 0):
            return None
        comps: dict[str, Predicted] = {}
        for comp in self.arch.components:
            mine = [v for (c, _), v in ops.items() if c == comp.id]
            thr = sum(v["rate"] for v in mine)
            mean = sum(v["rate"] * v["response"] for v in mine) / thr if thr > 0 else None
            station = solved.components.get(comp.id)
            util = station.utilisation if station is not None else None
            comps[comp.id] = Predicted(thr, mean, _p95(mean), util, p95_approx=True)
        links = {}
        for link in self.arch.links:
            thr = 0.0
            callees: dict[str, float] = {}
            for op in self.arch.behaviour.operations_of(link.source):
                r = ops[(link.source, op.name)]["rate"]
                thr += r * (1.0 if _consumes(link, op.kind) else link_visits(op.steps, link))
                for s in op.steps:
                    if s.action is StepAction.CALL and s.target == link.target and \
                            s.relation is link.relation:  # fmt: skip
                        callees[s.operation or ""] = callees.get(s.operation or "", 0.0) + r * s.p
            mean = None
            if link.relation in CALL_RELATIONS and sum(callees.values()) > 0:
                total = sum(callees.values())
                mean = sum(r * ops[(link.target, o)]["response"] for o, r in callees.items()
                           if (link.target, o) in ops) / total  # fmt: skip
            links[_key(link)] = Predicted(thr, mean, _p95(mean), p95_approx=True)
        return Prediction("analytic (open network, M/M/c per station)", rate, comps, links,
                          through_links=self._through(links))  # fmt: skip

    def _simulated(self, rate: float, budget_s: float) -> Prediction:
        # long enough for a few thousand requests, never longer than the budget allows
        duration = max(2.0, min(30.0, _SIM_EVENTS / max(rate, 1e-9), budget_s * 20))
        result = simulate(self.arch, Workload(rps=max(rate, 1e-6)),
                          SimConfig(duration=duration, warmup=duration / 10, replications=1),
                          jobs=1, analytic=False)  # fmt: skip
        comps = {}
        for cid, c in result.components.items():
            comps[cid] = Predicted(c.throughput, c.latency.mean, c.latency.p95, c.utilisation)
        links = {}
        for lk in result.links:
            links[lk.key] = Predicted(lk.throughput, lk.latency.mean, lk.latency.p95)
        for link in self.arch.links:
            links.setdefault(_key(link), Predicted(0.0))
        return Prediction(f"simulation ({duration:.0f} s simulated)", rate, comps, links,
                          through_links=self._through(links))  # fmt: skip

    def _through(self, links: dict[LinkKey, Predicted]) -> dict[str, Predicted]:
        """Per component, the traffic of its links the way ``measure`` counts an
        uninstrumented component: inbound when it has any, else outbound."""
        out = {}
        for comp in self.arch.components:
            inbound = [p for (s, t, _), p in links.items() if t == comp.id]
            chosen = inbound or [p for (s, _, _), p in links.items() if s == comp.id]
            out[comp.id] = Predicted(sum(p.throughput for p in chosen))
        return out


def _consumes(link: Link, kind: OpKind) -> bool:
    """A subscription link carries one delivery per execution of the consumer's handler."""
    return link.relation is Relation.SUBSCRIBES_TO and kind is OpKind.CONSUME


def _p95(mean: float | None) -> float | None:
    return None if mean is None else mean * _P95_OF_EXP


def _key(link: Link) -> LinkKey:
    return (link.source, link.target, link.relation.value)
