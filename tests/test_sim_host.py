"""The shared host (graph attributes host_cores, host_cpu, host_background): read from DOT,
a throughput bound for the analytic solver, the simulator's results and the sweep's knee."""

from __future__ import annotations

from pathlib import Path

import pytest

from archsim.capacity import parse_axis, sweep
from archsim.errors import InvalidModelError
from archsim.model import read_architecture
from archsim.sim import SimConfig, Workload, simulate
from archsim.sim.analytic import saturation

MMC = (Path(__file__).parent / "sim_models" / "mmc.dot").read_text()
CFG = SimConfig(duration=60.0, warmup=5.0, replications=3, seed=11, lifecycle=False)


def _with(attrs: str):
    """The M/M/c model (3 workers of exp(30 ms): 100 req/s) with graph attributes added."""
    text = MMC.replace("{", "{\n  " + attrs + "\n", 1)
    return read_architecture(text, "mmc.dot").architecture


def test_host_attributes_are_read_and_checked():
    arch = _with('host_cores=2; host_cpu="25ms"; host_background=0.5;')
    assert arch.host is not None
    assert (arch.host.cores, arch.host.cpu_per_request, arch.host.background) == (2, 0.025, 0.5)
    with pytest.raises(InvalidModelError) as err:
        _with("host_cores=2; host_background=2;")
    assert "leaves none of the 2 host_cores" in str(err.value)
    loose = read_architecture(MMC.replace("{", '{ host_cpu="1ms";', 1), "mmc.dot")
    assert loose.architecture.host is None
    assert any("ignored without host_cores" in d.message for d in loose.diagnostics)


def test_the_host_bounds_saturation_when_it_is_the_tighter_limit():
    # host: (2 − 0.5) cores / 25 ms = 60 req/s, below the server's 100 req/s
    assert saturation(_with('host_cores=2; host_cpu="25ms"; host_background=0.5;'), Workload()) == (
        pytest.approx(60.0),
        "host",
    )
    # a roomy host leaves the server as the bound
    assert saturation(_with('host_cores=8; host_cpu="25ms";'), Workload())[1] == "server"
    # without host_cpu the model's own compute per request is the host's: 30 ms on 2 cores
    assert saturation(_with("host_cores=2;"), Workload()) == (pytest.approx(2 / 0.030), "host")


def test_cpu_per_request_that_falls_with_the_rate_moves_the_host_knee():
    # 25 ms at 40 req/s, busy cores ∝ rate^0.5: 1 core at 40 req/s, 2 cores at 160 req/s
    curve = 'host_cores=2; host_cpu="25ms"; host_cpu_at=40; host_cpu_power=0.5;'
    arch = _with(curve)
    assert arch.host is not None
    assert arch.host.busy(40.0) == pytest.approx(1.0)
    assert arch.host.busy(160.0) == pytest.approx(2.0)
    assert arch.host.cpu_at(160.0) == pytest.approx(0.0125)  # half the CPU per request
    # the server (100 req/s) is now the bound; a straight line at 25 ms would say 80 req/s
    assert saturation(arch, Workload()) == (pytest.approx(100.0), "server")
    result = simulate(arch, Workload(rps=40.0), CFG, jobs=1).host
    assert result is not None and result.saturation_rps == pytest.approx(160.0)
    x = 40.0
    assert result.utilisation == pytest.approx(arch.host.busy(x) / 2, rel=0.05)
    with pytest.raises(InvalidModelError) as err:
        _with('host_cores=2; host_cpu="25ms"; host_cpu_power=0.5;')
    assert "host_cpu_power needs host_cpu_at" in str(err.value)
    with pytest.raises(InvalidModelError) as err:
        _with("host_cores=2; host_cpu_at=40;")
    assert "host_cpu_at needs host_cpu" in str(err.value)


def test_simulated_host_load_follows_the_utilisation_law():
    arch = _with('host_cores=2; host_cpu="25ms"; host_background=0.5;')
    result = simulate(arch, Workload(rps=40.0), CFG, jobs=1)
    host = result.host
    assert host is not None
    x = sum(e.throughput for e in result.entries.values())
    assert abs(x - 40.0) < 2.0
    assert host.utilisation == pytest.approx((0.5 + x * 0.025) / 2)
    assert not host.unstable and host.saturation_rps == pytest.approx(60.0)
    # derived CPU per request: what the stations were busy, ~30 ms for the M/M/c server
    derived = simulate(_with("host_cores=2;"), Workload(rps=40.0), CFG, jobs=1).host
    assert derived is not None
    assert derived.cpu_per_request_s == pytest.approx(0.030, rel=0.05)
    assert "host" in result.to_dict() and result.to_dict()["host"]["cores"] == 2


def test_a_sweep_finds_the_host_knee():
    arch = _with('host_cores=2; host_cpu="25ms"; host_background=0.5;')
    result = sweep(arch, parse_axis("rps", "30..90:step=10"), Workload(), CFG)
    knee = result.knee
    assert knee.reached and knee.component == "host"
    assert abs(knee.capacity_rps - 60.0) / 60.0 < 0.05, knee


def test_an_overloaded_host_is_flagged_in_the_results_and_the_report():
    from archsim.sim.report import render_report

    arch = _with('host_cores=2; host_cpu="25ms"; host_background=0.5;')
    result = simulate(arch, Workload(rps=80.0), SimConfig(duration=20.0, warmup=2.0), jobs=1)
    assert result.host is not None and result.host.unstable  # 80 req/s > 60 req/s
    assert result.host.utilisation > 1.0
    assert not result.unstable  # the server alone (100 req/s) keeps up: only the host is over
    html = render_report(result)
    assert "host (shared)" in html and "shared host cannot keep up" in html
