"""The dashboard's pure core on polls recorded from the seed stack under a 20-user load
(tests/dashboard_data/seed_polls.json: three polls 4 s apart, then one after product_service
was killed): measure, predict, join, the JSON edge, the load-test progress file, and the
command's bad-input messages."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archsim.cli import app
from archsim.codegen import apply_writes, plan_writes, render
from archsim.dashboard import find_model
from archsim.dashboard.join import interval, join, judge
from archsim.dashboard.measure import Poll, link_visits, measure
from archsim.dashboard.predict import Predictor
from archsim.dashboard.readings import Measured, Predicted, State
from archsim.loadtest.metrics import parse_metrics
from archsim.loadtest.progress import Progress, read_progress
from archsim.loadtest.runner import LoadSpec
from archsim.sim.analytic import saturation
from archsim.sim.workload import Workload

DATA = Path(__file__).parent / "dashboard_data" / "seed_polls.json"


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(DATA.read_text())


@pytest.fixture(scope="module")
def polls(recorded: dict) -> list[Poll]:
    comps = {i["instance"]: i["component"] for i in recorded["instances"]}
    return [
        Poll(p["taken_at"], {k: parse_metrics(v) for k, v in p["metrics"].items()}, comps,
             frozenset(p["down"]))
        for p in recorded["polls"]
    ]  # fmt: skip


def _counter(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``, read with a regex (an
    independent reading of the exposition text, not the parser the dashboard uses)."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if m and all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()):
            total += float(m.group(2))
    return total


def _delta(recorded: dict, i: int, j: int, instance: str, name: str, **labels: str) -> float:
    a, b = recorded["polls"][i]["metrics"][instance], recorded["polls"][j]["metrics"][instance]
    return _counter(b, name, **labels) - _counter(a, name, **labels)


def _instance(recorded: dict, component: str) -> str:
    return next(i["instance"] for i in recorded["instances"] if i["component"] == component)


def test_component_rates_are_counter_deltas_over_the_window(seed, recorded, polls) -> None:
    m = measure(seed, polls[0], polls[2])
    window = polls[2].taken_at - polls[0].taken_at
    assert m.window_s == pytest.approx(window)
    for comp in ("api_gateway", "user_service", "product_service", "order_service"):
        inst = _instance(recorded, comp)
        count = _delta(recorded, 0, 2, inst, "archsim_requests_total")
        assert count > 0
        assert m.components[comp].count == pytest.approx(count)
        assert m.components[comp].throughput == pytest.approx(count / window)
        assert m.components[comp].source == "metrics"
        assert 0 < m.components[comp].p95 < 10
    assert not m.down


def test_links_from_call_cache_and_event_counters(seed, recorded, polls) -> None:
    m = measure(seed, polls[0], polls[2])
    gw, order = _instance(recorded, "api_gateway"), _instance(recorded, "order_service")
    validates = m.links[("api_gateway", "auth_service", "validates_with")]
    assert validates.source == "calls"
    assert validates.count == pytest.approx(
        _delta(recorded, 0, 2, gw, "archsim_calls_total", target="auth_service")
    )
    cache = m.links[("product_service", "cache", "caches_in")]
    prod = _instance(recorded, "product_service")
    assert cache.count == pytest.approx(
        _delta(recorded, 0, 2, prod, "archsim_cache_requests_total", cache="cache")
    )
    published = m.links[("order_service", "message_broker", "publishes_to")]
    assert published.count == pytest.approx(
        _delta(recorded, 0, 2, order, "archsim_events_total", outcome="published")
    )


def test_derived_links_follow_the_models_steps(seed, recorded, polls) -> None:
    """A gateway route has no call counter: it is the gateway's proxied requests of the
    operations routed there; SQL is the operations' query steps at their measured rates."""
    m = measure(seed, polls[0], polls[2])
    gw = _instance(recorded, "api_gateway")
    routed = sum(_delta(recorded, 0, 2, gw, "archsim_requests_total", operation=op)
                 for op in ("get_order", "list_orders", "create_order"))  # fmt: skip
    route = m.links[("api_gateway", "order_service", "routes_to")]
    assert route.source == "derived" and route.count == pytest.approx(routed)
    order = _instance(recorded, "order_service")
    queries = sum(_delta(recorded, 0, 2, order, "archsim_requests_total", operation=op)
                  for op in ("get_order", "list_orders", "create_order"))  # fmt: skip
    assert m.links[("order_service", "order_db", "stores_in")].count == pytest.approx(queries)
    assert m.components["order_db"].source == "links"


def test_the_load_balancer_gets_what_no_instrumented_caller_explains(seed, polls) -> None:
    m = measure(seed, polls[0], polls[2])
    lb_to_gw = m.links[("load_balancer", "api_gateway", "distributes_to")]
    assert lb_to_gw.count == pytest.approx(m.components["api_gateway"].count)
    lb_to_users = m.links[("load_balancer", "user_service", "distributes_to")]
    from_gateway = m.links[("api_gateway", "user_service", "routes_to")].count
    from_orders = m.links[("order_service", "user_service", "calls")].count
    # user_service's login also counts; the balancer does not route to issue-token calls
    served = m.components["user_service"].count
    assert 0 < lb_to_users.count <= served - from_gateway - from_orders + 1e-9
    lb = m.components["load_balancer"]
    assert lb.source == "links" and lb.count == pytest.approx(
        sum(v.count for (s, _, _), v in m.links.items() if s == "load_balancer")
    )


def test_one_poll_says_only_what_is_down(seed, polls) -> None:
    m = measure(seed, None, polls[3])
    assert m.window_s is None and not m.components
    assert m.down == {"product_service"}


def test_fit_recovers_the_arrival_rate_and_prediction_scales(seed) -> None:
    predictor = Predictor(seed)
    measured = {k: 17.0 * v for k, v in predictor.unit_rates.items()}
    assert predictor.fit_rate(measured) == pytest.approx(17.0)
    assert predictor.fit_rate({}) is None
    p = predictor.predict(17.0)
    assert p.method.startswith("analytic")
    lb = sum(v.throughput for (s, _, _), v in p.links.items() if s == "load_balancer")
    assert lb == pytest.approx(17.0)
    assert p.components["order_service"].throughput > 0
    assert p.components["order_service"].p95_approx
    entry = p.links[("load_balancer", "api_gateway", "distributes_to")]
    assert entry.mean is not None and entry.mean > 0


def test_an_overloaded_model_falls_back_to_a_simulation(seed) -> None:
    knee, _ = saturation(seed, Workload(rps=1.0))
    p = Predictor(seed).predict(knee * 1.5, sim_budget_s=1.0)
    assert p.method.startswith("simulation") and "overloaded" in (p.note or "")
    assert not p.components["load_balancer"].p95_approx
    assert p.links[("load_balancer", "api_gateway", "distributes_to")].throughput > 0


def test_the_seed_under_load_is_measured_beside_a_prediction(seed, polls) -> None:
    m = measure(seed, polls[0], polls[2])
    predictor = Predictor(seed)
    rate = predictor.fit_rate(m.operations)
    assert rate is not None and rate > 5
    frame = join(seed, m, predictor.predict(rate), taken_at=polls[2].taken_at)
    carrying = [r for r in frame.links if r.predicted and r.predicted.throughput > 0.1]
    assert len(carrying) >= 15
    for r in carrying:  # every link the model expects traffic on was measured busy
        assert r.measured is not None and r.measured.throughput > 0, r.id
        assert r.state in (State.OK, State.DEPARTS), r.id
    assert not [r.id for r in frame.components if r.state is State.ERROR]


def test_a_killed_service_and_its_callers_links_turn_error(seed, polls) -> None:
    predictor = Predictor(seed)
    m = measure(seed, polls[2], polls[3])
    frame = join(seed, m, predictor.predict(20.0), taken_at=polls[3].taken_at)
    states = {r.id: r for r in frame.components + frame.links}
    assert states["product_service"].state is State.ERROR
    assert states["product_service"].up is False
    for link in ("api_gateway->product_service:routes_to", "order_service->product_service:calls",
                 "load_balancer->product_service:distributes_to"):  # fmt: skip
        assert states[link].state is State.ERROR and states[link].reasons == ("target down",)
    assert states["payment_service"].state is not State.ERROR


def test_judge_rules() -> None:
    lo, hi = interval(10.0, 10.0)
    assert lo < 10.0 < hi and hi - 10.0 == pytest.approx(1.96 * math.sqrt(100) / 10 + 2.5)
    p = Predicted(10.0, mean=0.01)
    assert judge(Measured(10.0, 100, mean=0.012), p, 10.0)[0] is State.OK
    assert judge(Measured(30.0, 300, mean=0.012), p, 10.0)[1] == ("throughput",)
    assert judge(Measured(10.0, 100, mean=0.05), p, 10.0)[1] == ("latency",)
    assert judge(Measured(10.0, 100, errors=10), p, 10.0)[0] is State.ERROR
    assert judge(Measured(10.0, 100, errors=2), p, 10.0)[0] is State.OK  # too few to tell
    assert judge(Measured(0.0, 0), Predicted(0.01), 10.0)[0] is State.IDLE
    assert judge(None, p, None)[0] is State.UNKNOWN
    assert judge(None, p, 10.0, "down")[:2] == (State.ERROR, ("down",))


def test_frame_json_is_plain_data(seed, polls) -> None:
    m = measure(seed, polls[0], polls[2])
    data = join(seed, m, Predictor(seed).predict(15.0), taken_at=1.0, sequence=3).to_dict()
    text = json.dumps(data, allow_nan=False)  # no inf/nan: browsers' JSON.parse rejects them
    back = json.loads(text)
    assert back["schema"] == "archsim.dashboard/1" and back["sequence"] == 3
    row = next(r for r in back["components"] if r["id"] == "api_gateway")
    assert row["measured"]["error_ratio"] == 0.0 and row["state"] in ("ok", "departs")


def test_link_visits_weights_cache_misses(seed) -> None:
    op = next(o for o in seed.behaviour.operations
              if o.component == "product_service" and o.name == "get_product")  # fmt: skip
    db = next(lk for lk in seed.links
              if lk.source == "product_service" and lk.target == "product_db")  # fmt: skip
    assert link_visits(op.steps, db, {"cache": 0.75}) == pytest.approx(0.25)
    assert link_visits(op.steps, db, {"cache": 1.0}) == 0.0


def test_progress_file_accumulates_steps(tmp_path: Path) -> None:
    stack, out = tmp_path / "stack", tmp_path / "results"
    spec = LoadSpec(users=10, duration=10.0, warmup=1.0, rps=50.0)
    for rate in (50.0, 100.0):
        run = Progress(stack, spec, out / f"step-{rate:g}")
        assert read_progress(stack)["phase"] == "running"
        run.update(3.0, {"rps": rate * 0.9, "requests": 100.0, "failures": 1.0})
        summary = {"workload": {"rps": rate}, "total": {"requests": 500, "failures": 2,
                   "throughput": rate * 0.95, "fail_ratio": 0.004, "p95": 0.02}}  # fmt: skip
        run.finish(summary, out / f"step-{rate:g}")
    doc = read_progress(stack)
    assert doc["phase"] == "done" and [s["offered_rps"] for s in doc["steps"]] == [50.0, 100.0]
    assert doc["reports"]["html"] == "step-100/report.html"
    single = Progress(stack, spec, out)
    single.finish(None, out)
    assert read_progress(stack)["phase"] == "failed" and read_progress(stack)["steps"] == []


def test_find_model_and_cli_errors(seed, seed_path: Path, tmp_path: Path, monkeypatch) -> None:
    stack = tmp_path / "shop"
    apply_writes(plan_writes(stack, render(seed, source=seed_path.name)))
    assert find_model(stack, cwd=seed_path.parent) == seed_path.parent / seed_path.name
    assert find_model(stack, cwd=tmp_path) is None
    runner = CliRunner()
    result = runner.invoke(app, ["dashboard", str(tmp_path)])
    assert result.exit_code == 2 and "not a generated stack" in result.output
    monkeypatch.chdir(tmp_path)  # nowhere near a topology.dot
    result = runner.invoke(app, ["dashboard", str(stack)])
    assert result.exit_code == 2 and "--model" in result.output
    other = tmp_path / "other.dot"
    other.write_text(
        'digraph Other { a [label="A Service"]; b [label="B DB"]; a -> b [label="stores in"]; }\n'
    )
    result = runner.invoke(app, ["dashboard", str(stack), "--model", str(other)])
    assert result.exit_code == 2 and "generated from" in result.output
    result = runner.invoke(app, ["dashboard", str(stack), "--model", str(seed_path),
                                 "--refresh", "0s"])  # fmt: skip
    assert result.exit_code == 2 and "--refresh" in result.output
