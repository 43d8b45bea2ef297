"""Waiting for a core on a shared host (``host_wait``): the simulator against the analytic
solver and against the formula, the model's rules for the attribute, and no change without it."""

from __future__ import annotations

import pytest

from archsim.errors import InvalidModelError
from archsim.model import apply_overrides, read_architecture
from archsim.sim import SimConfig, Workload, simulate
from archsim.sim.analytic import solve
from archsim.sim.contention import host_wait_mean, host_wait_probability
from archsim.sim.erlang import erlang_c

DOT = """digraph shop {
  host_cores=2; host_cpu="2ms"; %s
  client [kind=client];
  api [kind=service, service_time="exp(1ms)", workers=4];
  client -> api [label="calls"];
}"""


def _arch(extra: str = 'host_wait="4ms";'):
    return read_architecture(DOT % extra, "shop.dot").architecture


def test_wait_follows_erlang_c_of_the_host_load() -> None:
    host = _arch().host
    assert host is not None
    # 300 req/s × 2 ms on 2 cores: u = 0.3, offered load 0.6 cores
    assert host_wait_probability(host, 300) == pytest.approx(erlang_c(2, 0.6))
    assert host_wait_mean(host, 300) == pytest.approx(erlang_c(2, 0.6) * 0.004 / 2)
    assert host_wait_mean(host, 0) == 0.0


@pytest.mark.parametrize("rps", [100, 300, 500])
def test_simulated_latency_agrees_with_the_analytic_solver(rps: int) -> None:
    arch = _arch()
    result = simulate(arch, Workload(rps=rps), SimConfig(duration=30, replications=4, seed=3))
    sim = next(iter(result.entries.values())).latency
    predicted = next(iter(solve(arch, Workload(rps=rps)).entries.values())).latency_mean
    # the simulator's confidence half-width plus 3% for the analytic approximation
    assert abs(sim.mean - predicted) <= sim.mean_ci + 0.03 * predicted


def test_the_wait_grows_with_the_load() -> None:
    arch, base = _arch(), _arch("")
    cfg = SimConfig(duration=20, replications=2, seed=5)

    def mean(a, rps):
        return next(iter(simulate(a, Workload(rps=rps), cfg).entries.values())).latency.mean

    low = mean(arch, 50) - mean(base, 50)
    high = mean(arch, 600) - mean(base, 600)
    assert high > 5 * max(low, 1e-6)
    assert high == pytest.approx(host_wait_mean(arch.host, 600), rel=0.25)


def test_without_host_wait_nothing_changes() -> None:
    arch = _arch("")
    zero = apply_overrides(arch, ["host_wait=0ms"])
    cfg = SimConfig(duration=10, replications=2, seed=7)
    a = simulate(arch, Workload(rps=400), cfg).to_dict()
    b = simulate(zero, Workload(rps=400), cfg).to_dict()
    assert a["entries"] == b["entries"]


def test_host_wait_needs_host_cpu() -> None:
    dot = DOT.replace('host_cpu="2ms";', "") % 'host_wait="4ms";'
    with pytest.raises(InvalidModelError) as err:
        read_architecture(dot, "shop.dot")
    assert "host_wait needs host_cpu" in str(err.value)
