"""Service times that depend on the rate (node attributes cpu_power, cpu_at): read and checked,
evaluated once in the model (``at_rate``), and the same in the simulator, the analytic solver,
the saturation bound and what calibration fits from runs at two rates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archsim.errors import InvalidModelError
from archsim.loadtest.calibrate import calibrate, service_demands
from archsim.loadtest.measured import MeasuredRun
from archsim.model import load, read_architecture
from archsim.model.rate_curve import at_rate, has_curves
from archsim.sim import SimConfig, Workload, simulate, solve
from archsim.sim.analytic import saturation
from archsim.sim.erlang import erlang_c

ROOT = Path(__file__).resolve().parent.parent
MMC = (Path(__file__).parent / "sim_models" / "mmc.dot").read_text()  # 3 × exp(30 ms)
RUNS = ROOT / "examples" / "runs"


def _server(attrs: str):
    """The M/M/3 model with the server's attributes extended by ``attrs``."""
    text = MMC.replace("workers=3", f"workers=3, {attrs}", 1)
    return read_architecture(text, "mmc.dot").architecture


def test_at_rate_scales_the_times_once_and_spends_the_curve():
    arch = _server('cpu_power=0.5, cpu_at=40, operation_time="create_server=20ms"')
    assert has_curves(arch)
    fast = at_rate(arch, 160.0)  # 4x the rate: times × 4 ** -0.5 = ½
    server = fast.component("server")
    assert server.service_time.mean == pytest.approx(0.015)
    assert server.operation_time is not None
    assert server.operation_time["create_server"].mean == pytest.approx(0.010)
    (op,) = [o for o in fast.behaviour.operations if o.component == "server"]
    timed = [s.service_time.mean for s in op.steps if s.service_time is not None]
    assert timed == [pytest.approx(0.010)]
    assert not has_curves(fast) and at_rate(fast, 10.0) is fast  # spent: no second scaling
    assert at_rate(arch, 40.0).component("server").service_time.mean == pytest.approx(0.030)
    plain = _server("")
    assert at_rate(plain, 500.0) is plain


def test_a_power_without_its_rate_is_an_error_and_a_rate_alone_is_ignored():
    with pytest.raises(InvalidModelError) as err:
        _server("cpu_power=0.7")
    assert "cpu_power of 'server' needs cpu_at" in str(err.value)
    loose = read_architecture(MMC.replace("workers=3", "workers=3, cpu_at=40", 1), "mmc.dot")
    assert any("cpu_at of 'server' is ignored" in d.message for d in loose.diagnostics)
    with pytest.raises(InvalidModelError):
        _server("cpu_power=3, cpu_at=40")  # outside 0.1–2


def test_the_knee_moves_to_where_the_falling_time_meets_the_rate():
    # 3 workers of 30 ms at 40 req/s, busy ∝ rate^0.5: utilisation 0.4 · sqrt(X / 40), so 1 at
    # X = 40 · 2.5² = 250 req/s (the time as written would say 100)
    arch = _server("cpu_power=0.5, cpu_at=40")
    rate, bottleneck = saturation(arch, Workload())
    assert (rate, bottleneck) == (pytest.approx(250.0, rel=1e-5), "server")
    solved = solve(arch, Workload(rps=160.0)).components["server"]
    assert solved.utilisation == pytest.approx(0.4 * 2.0)


def test_the_simulator_runs_the_times_of_its_rate():
    arch = _server("cpu_power=0.5, cpu_at=40")
    cfg = SimConfig(duration=200.0, warmup=10.0, replications=4, seed=5, lifecycle=False)
    server = simulate(arch, Workload(rps=160.0), cfg, jobs=2).components["server"]
    # the service time at 160 req/s is 15 ms: utilisation 160 · 0.015 / 3 = 0.8
    assert abs(server.utilisation - 0.8) <= server.utilisation_ci
    closed = simulate(arch, Workload(rps=None, users=2), cfg, jobs=2).components["server"]
    assert closed.utilisation < 0.4  # closed: times as written (30 ms), not a guessed rate


def test_the_time_a_busier_process_saves_is_still_waited_by_the_request():
    # 4x the rate: the server is held 15 ms (utilisation 0.8), and the 15 ms it saves by
    # serving several requests per wake-up is a wait beside the step that holds no worker
    arch = _server("cpu_power=0.5, cpu_at=40")
    (op,) = [o for o in at_rate(arch, 160.0).behaviour.operations if o.component == "server"]
    (compute,) = op.steps
    assert compute.latency == pytest.approx(0.015)
    # below cpu_at the process costs more per request, and the request takes all of it
    (slow,) = [o for o in at_rate(arch, 20.0).behaviour.operations if o.component == "server"]
    assert slow.steps[0].latency == 0.0
    # M/M/3 at λ = 160/s, 1/μ = 15 ms: W = Wq + 15 ms held + 15 ms beside
    lam, service, c = 160.0, 0.015, 3
    wq = erlang_c(c, lam * service) * service / (c - lam * service)
    theory = wq + 2 * service
    cfg = SimConfig(duration=200.0, warmup=10.0, replications=4, seed=5, lifecycle=False)
    (entry,) = simulate(arch, Workload(rps=lam), cfg, jobs=2).entries.values()
    assert abs(entry.latency.mean - theory) <= max(entry.latency.mean_ci, 0.02 * theory)
    (solved,) = solve(arch, Workload(rps=lam)).entries.values()
    assert solved.latency_mean == pytest.approx(theory, rel=1e-6)


def test_calibration_fits_each_process_curve_through_both_runs():
    seed = load(ROOT / "topology.dot").architecture
    low, high = (json.loads((RUNS / f"{n}.json").read_text()) for n in ("low", "high"))
    fit = calibrate(seed, low, more=[high], fit_network=False, fit_spread=False)
    runs = [MeasuredRun.from_dict(m) for m in (low, high)]
    per_front = [service_demands(seed, m)[1] for m in runs]
    rates = [m.front_requests * m.span_ratio / (m.metrics_window_s or m.window_s) for m in runs]
    curved = {cid: c for cid, c in fit.components.items() if c.cpu_power is not None}
    assert "load_balancer" in curved  # its CPU per request halves from 80 to 400 req/s
    for cid, comp in curved.items():
        assert comp.cpu_at == 80.0  # the calibration level, which the simulation is given
        assert comp.cpu_power is not None and 0.5 <= comp.cpu_power < 1.0
        measured = per_front[1][cid] / per_front[0][cid]
        predicted = (rates[1] / rates[0]) ** (comp.cpu_power - 1.0)
        if comp.cpu_power > 0.5:  # not clamped: through both runs
            assert predicted == pytest.approx(measured, rel=1e-6)
    assert fit.profile()["components"]["load_balancer"]["cpu_at"] == "80"
    flat = calibrate(seed, low, more=[high], fit_network=False, fit_spread=False, fit_curves=False)
    assert all(c.cpu_power is None for c in flat.components.values())
