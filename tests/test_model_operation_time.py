"""Per-operation service times: ``operation_time`` in the file, in the model, in the simulator."""

from __future__ import annotations

import pytest

from archsim.errors import InvalidModelError
from archsim.model import StepAction, read_architecture
from archsim.model.attributes import parse_operation_times
from archsim.model.distributions import Constant, Gamma
from archsim.sim import SimConfig, Workload, simulate

# One service, no network delay: its two operations are served by one worker (an M/G/1 queue
# whose service time is the mixture of the two operations' times).
TWO_OPS = """
digraph shop {
    network_latency="0ms";
    svc [resource=item, mix="get_item:3,create_item:1", service_time="const(2ms)",
         operation_time="create_item=const(10ms)"];
    db [service_time="const(0ms)"];
    svc -> db [label="stores in"];
}
"""


def test_parse_operation_times():
    times = parse_operation_times("login=gamma(mean=20ms,cv=0.3); get_user=const(1ms)")
    assert times == {"login": Gamma(mean_s=0.02, cv=0.3), "get_user": Constant(value_s=0.001)}
    with pytest.raises(ValueError, match="needs a distribution"):
        parse_operation_times("login")
    with pytest.raises(ValueError, match="given twice"):
        parse_operation_times("a=1ms; a=2ms")


def test_compute_steps_carry_the_operations_own_time():
    arch = read_architecture(TWO_OPS).architecture
    create = arch.behaviour.operation("svc", "create_item").steps[0]
    get = arch.behaviour.operation("svc", "get_item").steps[0]
    assert create.action is StepAction.COMPUTE and create.service_time == Constant(value_s=0.01)
    assert get.service_time is None  # falls back to the component's service_time
    assert create.describe() == "compute const(10ms)"


def test_an_unknown_operation_is_an_error_with_a_suggestion():
    with pytest.raises(InvalidModelError) as info:
        read_architecture(TWO_OPS.replace("create_item=const", "create_itme=const"), "t.dot")
    (err,) = info.value.diagnostics
    assert "does not offer" in err.message and err.hint == "did you mean 'create_item'?"
    assert err.location.line == 5


def test_simulated_and_analytic_latency_follow_the_operation_times():
    arch = read_architecture(TWO_OPS).architecture
    # 3:1 mix of 2 ms and 10 ms: mean service 4 ms; at 100 req/s the worker is 40% busy.
    result = simulate(
        arch,
        Workload(rps=100.0),
        SimConfig(duration=200.0, warmup=10.0, replications=4, seed=5),
        jobs=1,
    ).to_dict()
    util = result["components"]["svc"]["utilisation"]
    assert util == pytest.approx(0.40, abs=0.02)
    get = result["entries"]["GET /items/{id}"]["latency"]["mean"]
    create = result["entries"]["POST /items"]["latency"]["mean"]
    # M/G/1 (Pollaczek-Khinchine): W = λ E[S²] / (2 (1 - ρ)); E[S²] = 0.75·2² + 0.25·10² ms².
    wait = 100.0 * (0.75 * 0.002**2 + 0.25 * 0.010**2) / (2 * (1 - 0.4))
    assert get == pytest.approx(wait + 0.002, rel=0.1)
    assert create == pytest.approx(wait + 0.010, rel=0.1)


def test_generated_handlers_and_emulation_use_the_operations_own_time():
    from archsim.codegen import render
    from archsim.runtime.emulation import Emulator

    arch = read_architecture(TWO_OPS).architecture
    app = render(arch)["services/svc/app.py"]
    assert "rt.compute('create_item')" in app  # its own time when emulating
    assert "rt.compute()" in app  # get_item uses the component's service_time
    emulator = Emulator(
        True,
        {"type": "const", "value_s": 0.0},
        {"create_item": {"type": "const", "value_s": 0.004}},
    )
    assert emulator.draws["create_item"]() == pytest.approx(0.004)
    assert emulator.draw() == 0.0
