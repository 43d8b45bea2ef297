"""Pure parts of the load-test harness: locustfile rendering, histograms, thresholds,
Prometheus parsing and deltas, CPU accounting from a fake /proc."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archsim.codegen.locustfile import TASK_SCALE, render_locustfile, task_weights
from archsim.errors import ScenarioError
from archsim.loadtest.metrics import (
    Snapshot,
    component_deltas,
    cpu_seconds,
    histogram_quantile,
    parse_metrics,
)
from archsim.loadtest.summary import (
    BUCKET_RATIO,
    bucket_seconds,
    merge_histograms,
    quantile,
    summarise_entries,
)
from archsim.loadtest.thresholds import evaluate, parse_threshold
from archsim.model import Architecture


def _bucket(seconds: float) -> int:
    # the same formula as the generated locustfile's recorder
    return int(math.log(seconds / 1e-6) / math.log(BUCKET_RATIO))


def test_locustfile_has_one_task_per_entry_and_passes_ruff(seed: Architecture, tmp_path: Path):
    text = render_locustfile(seed)
    path = tmp_path / "locustfile.py"
    path.write_text(text)
    compile(text, str(path), "exec")
    assert text.count("@task(") == len(seed.behaviour.entries)
    for entry in seed.behaviour.entries:
        assert f'self._send("{entry.id}")' in text
    assert "class ArchitectureUser(FastHttpUser)" in text
    assert 'self._create("user", name="POST /users")' in text  # sign up first
    assert '"/users/login"' in text  # then log in for a token
    assert '"order": {"user_id": "ref:user", "product_id": "ref:product"}' in text
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff not installed")
    for args in (["check"], ["format", "--check"]):
        done = subprocess.run([ruff, *args, str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_task_weights_follow_the_mix(seed: Architecture):
    weights = task_weights(seed)
    assert set(weights) == {e.id for e in seed.behaviour.entries}
    assert abs(sum(weights.values()) - TASK_SCALE) <= len(weights)
    biggest = max(seed.behaviour.entries, key=lambda e: e.weight)
    assert max(weights, key=weights.__getitem__) == biggest.id


def test_locustfile_is_not_imported_into_archsim():
    # Locust patches the interpreter with gevent: archsim must never import it itself
    code = "import archsim.cli.app, archsim.loadtest.runner, sys; print('locust' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_histogram_quantiles_are_within_one_percent():
    samples = [0.001 * (1 + i / 1000) for i in range(1000)]  # 1 ms .. 2 ms, uniform
    hist: dict[int, int] = {}
    for s in samples:
        hist[_bucket(s)] = hist.get(_bucket(s), 0) + 1
    for q, exact in ((0.5, 0.0015), (0.95, 0.00195), (0.99, 0.00199)):
        assert quantile(hist, q) == pytest.approx(exact, rel=0.012)
    assert quantile({}, 0.5) is None
    assert bucket_seconds(_bucket(0.25)) == pytest.approx(0.25, rel=0.011)


def test_merge_and_summarise_per_process_histograms():
    a = {"GET /x": {"count": 2, "failures": 1, "sum_s": 0.3, "max_s": 0.2, "hist": {"10": 2}}}
    b = {
        "GET /x": {"count": 1, "failures": 0, "sum_s": 0.1, "max_s": 0.1, "hist": {"10": 1}},
        "GET /y": {"count": 4, "failures": 0, "sum_s": 0.4, "max_s": 0.1, "hist": {"12": 4}},
    }
    merged = merge_histograms([a, b])
    assert merged["GET /x"]["count"] == 3 and merged["GET /x"]["hist"] == {10: 3}
    endpoints, total = summarise_entries(merged, window_s=2.0)
    assert endpoints["GET /x"]["fail_ratio"] == pytest.approx(1 / 3)
    assert endpoints["GET /x"]["throughput"] == pytest.approx(1.5)
    assert endpoints["GET /x"]["mean"] == pytest.approx(0.4 / 3)
    assert total["requests"] == 7 and total["failures"] == 1
    assert total["max"] == pytest.approx(0.2)
    assert total["cdf"][-1][1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "metric", "op", "value", "scope"),
    [
        ("p99<300ms", "p99", "<", 0.3, None),
        ("fail_ratio<1%", "fail_ratio", "<", 0.01, None),
        ("GET /api/products/{id}:p95<=50ms", "p95", "<=", 0.05, "GET /api/products/{id}"),
        ("rps>100", "throughput", ">", 100.0, None),
        ("p99.9 < 1s", "p999", "<", 1.0, None),
    ],
)
def test_parse_thresholds(text, metric, op, value, scope):
    t = parse_threshold(text)
    assert (t.metric, t.op, t.scope) == (metric, op, scope)
    assert t.value == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("p98<1s", "unknown metric"), ("p99<fast", "cannot read 'fast'"), ("p99", "cannot read")],
)
def test_bad_thresholds_say_what_is_wrong(text, fragment):
    with pytest.raises(ScenarioError) as err:
        parse_threshold(text)
    assert fragment in str(err.value)


def test_thresholds_flip_on_the_measured_values():
    endpoints = {"GET /x": {"p95": 0.04, "fail_ratio": 0.0}}
    total = {"p99": 0.2, "fail_ratio": 0.02, "throughput": 50.0}
    checks = ["p99<300ms", "fail_ratio<1%", "GET /x:p95<50ms", "rps>=60"]
    results = evaluate([parse_threshold(c) for c in checks], endpoints, total)
    assert [r.ok for r in results] == [True, False, True, False]
    assert results[1].describe() == "2.00%"
    with pytest.raises(ScenarioError, match="no requests named"):
        evaluate([parse_threshold("GET /z:p95<1s")], endpoints, total)


_METRICS_BEFORE = """
archsim_requests_total{operation="get",service="ps",status="200"} 10.0
archsim_request_duration_seconds_bucket{le="0.001",operation="get",service="ps"} 5.0
archsim_request_duration_seconds_bucket{le="0.01",operation="get",service="ps"} 10.0
archsim_request_duration_seconds_bucket{le="+Inf",operation="get",service="ps"} 10.0
archsim_request_duration_seconds_count{operation="get",service="ps"} 10.0
archsim_request_duration_seconds_sum{operation="get",service="ps"} 0.02
archsim_cache_requests_total{cache="cache",result="hit",service="ps"} 8.0
other_metric 3.0
"""
_METRICS_AFTER = """
archsim_requests_total{operation="get",service="ps",status="200"} 110.0
archsim_requests_total{operation="get",service="ps",status="404"} 2.0
archsim_request_duration_seconds_bucket{le="0.001",operation="get",service="ps"} 55.0
archsim_request_duration_seconds_bucket{le="0.01",operation="get",service="ps"} 112.0
archsim_request_duration_seconds_bucket{le="+Inf",operation="get",service="ps"} 112.0
archsim_request_duration_seconds_count{operation="get",service="ps"} 112.0
archsim_request_duration_seconds_sum{operation="get",service="ps"} 0.222
archsim_cache_requests_total{cache="cache",result="hit",service="ps"} 88.0
archsim_cache_requests_total{cache="cache",result="miss",service="ps"} 20.0
"""


def test_component_deltas_from_two_scrapes():
    comps = {"product_service-1": "product_service", "load_balancer-1": "load_balancer"}
    before = Snapshot(
        100.0,
        {"product_service-1": parse_metrics(_METRICS_BEFORE)},
        {"product_service-1": 5.0, "load_balancer-1": 1.0},
        comps,
    )
    after = Snapshot(
        110.0,
        {"product_service-1": parse_metrics(_METRICS_AFTER)},
        {"product_service-1": 5.5, "load_balancer-1": 1.2},
        comps,
    )
    assert all(name.startswith("archsim_") for name, _, _ in parse_metrics(_METRICS_BEFORE))
    deltas = component_deltas(before, after)
    ps = deltas["product_service"]
    assert ps["requests"] == 102 and ps["errors"] == 2
    assert ps["throughput"] == pytest.approx(10.2)
    assert ps["latency"]["mean"] == pytest.approx(0.202 / 102)
    assert ps["cpu_s"] == pytest.approx(0.5) and ps["cpu_utilisation"] == pytest.approx(0.05)
    assert ps["cpu_per_request_s"] == pytest.approx(0.5 / 102)
    assert ps["caches"]["cache"] == {"hits": 80, "misses": 20, "hit_ratio": 0.8}
    assert deltas["load_balancer"]["cpu_s"] == pytest.approx(0.2)
    assert deltas["load_balancer"]["requests"] == 0


def test_histogram_quantile_interpolates_like_prometheus():
    buckets = {0.001: 50.0, 0.01: 100.0, math.inf: 100.0}
    assert histogram_quantile(buckets, 0.5) == pytest.approx(0.001)
    assert histogram_quantile(buckets, 0.75) == pytest.approx(0.0055)
    assert histogram_quantile({}, 0.5) is None


def test_cpu_seconds_adds_up_a_process_group(tmp_path: Path):
    def proc(pid: int, pgrp: int, utime: int, stime: int) -> None:
        d = tmp_path / str(pid)
        d.mkdir()
        fields = ["S", "1", str(pgrp)] + ["0"] * 8 + [str(utime), str(stime)] + ["0"] * 10
        (d / "stat").write_text(f"{pid} (python -m x) " + " ".join(fields))

    proc(100, 100, 150, 50)  # leader: 2 s at 100 ticks/s
    proc(101, 100, 100, 0)  # its child (a valkey server): 1 s
    proc(200, 200, 10, 10)
    (tmp_path / "self").mkdir()
    got = cpu_seconds([100, 200, 300], proc=tmp_path)
    tick = 100.0
    import os

    if hasattr(os, "sysconf"):
        tick = float(os.sysconf("SC_CLK_TCK"))
    assert got[100] == pytest.approx(300 / tick)
    assert got[200] == pytest.approx(20 / tick)
    assert got[300] == 0.0


def test_cpu_seconds_keeps_the_time_of_exited_threads(tmp_path: Path):
    """A service whose threads come and go (aiosqlite's) has more CPU in ``stat`` than its
    live threads' ``schedstat`` adds up to: the count keeps the larger; with no thread gone,
    the nanosecond figure."""
    import os

    tick = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0

    def proc(pid: int, ticks: int, live_ns: list[int]) -> None:
        d = tmp_path / str(pid)
        (d / "task").mkdir(parents=True)
        fields = ["S", "1", str(pid)] + ["0"] * 8 + [str(ticks), "0"] + ["0"] * 10
        (d / "stat").write_text(f"{pid} (python3) " + " ".join(fields))
        for i, ns in enumerate(live_ns):
            (d / "task" / str(pid + i)).mkdir()
            (d / "task" / str(pid + i) / "schedstat").write_text(f"{ns} 0 0\n")

    proc(100, int(10 * tick), [6_000_000_000, 1_500_000_000])  # 2.5 s in exited threads
    proc(200, int(1 * tick), [1_004_000_000])  # all live: the nanoseconds, not the ticks
    got = cpu_seconds([100, 200], proc=tmp_path)
    assert got[100] == pytest.approx(10.0)
    assert got[200] == pytest.approx(1.004)
