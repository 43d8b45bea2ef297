"""The simulator knows what a saga costs (issue 10, item 3): when the order's write fails after
the charge, the model's compensation (payment_service.cancel_payment → payment_provider.cancel)
runs, so the undo work shows up at the payment service and the provider, as in the stack."""

from __future__ import annotations

from pathlib import Path

from archsim.model import load
from archsim.sim import SimConfig, Workload, simulate

SEED = Path(__file__).resolve().parent.parent / "topology.dot"
CFG = SimConfig(duration=20.0, warmup=2.0, replications=2, seed=5)


def _with_failing_order_db(tmp_path: Path, error_rate: float) -> Path:
    text = SEED.read_text().replace(
        'order_service -> order_db [label="stores in"];',
        f'order_service -> order_db [label="stores in", error_rate="{error_rate}"];',
    )
    path = tmp_path / f"seed-{error_rate}.dot"
    path.write_text(text)
    return path


def _run(path: Path) -> dict:
    return simulate(load(path).architecture, Workload(rps=100), CFG, jobs=1).to_dict()


def test_the_model_says_which_step_compensates_which() -> None:
    arch = load(SEED).architecture
    create = arch.behaviour.operation("order_service", "create_order")
    charge = next(s for s in create.steps if s.operation == "create_payment")
    assert charge.compensation is not None
    assert (charge.compensation.target, charge.compensation.operation) == (
        "payment_service",
        "cancel_payment",
    )
    cancel = arch.behaviour.operation("payment_service", "cancel_payment")
    assert cancel.rule == "saga.cancel" and cancel.weight == 0
    assert [s.describe() for s in cancel.steps][-1] == "call payment_provider.cancel"
    assert not any(e.target.operation == "cancel_payment" for e in arch.behaviour.entries)


def test_failed_writes_after_a_charge_cost_a_refund(tmp_path: Path) -> None:
    healthy = _run(_with_failing_order_db(tmp_path, 0.0))
    failing = _run(_with_failing_order_db(tmp_path, 0.3))
    assert healthy["compensations"] == 0
    orders = failing["entries"]["POST /api/orders"]
    # about 30% of the orders that reached the write were undone, each with one cancel
    assert failing["compensations"] > 0
    share = failing["compensations"] / (orders["throughput"] * (20.0 - 2.0) * 2)
    assert 0.15 < share < 0.45, share
    # the undo is work at the provider that the healthy run does not have
    provider = "payment_provider"
    assert (
        failing["components"][provider]["throughput"]
        > healthy["components"][provider]["throughput"]
    )
