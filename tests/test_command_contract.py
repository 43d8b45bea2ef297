"""Whatever ``validate`` accepts, every command runs (issue 18): property tests over generated
architectures and mutations of real ones (tests/command_fuzz.py), plus one test per case the
issue lists: a clear error with exit 2 (or a successful run), no traceback, nothing written.

The long run (>= 20,000 cases) is benchmarks/bench_fuzz_commands.py.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from types import SimpleNamespace

import pytest
from command_fuzz import CORPUS, drive, generate, mutate
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from archsim.cli.app import app
from archsim.errors import ArchsimError
from archsim.model import read_architecture
from archsim.sim import Workload, solve

ROOT = Path(__file__).resolve().parent.parent
_RUNNER = CliRunner()
_SETTINGS = settings(
    max_examples=60,
    deadline=10_000,  # ms per case: the "no case over 10 s" bound of the issue
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


def _case(r: random.Random, kind: int) -> str:
    return generate(r, most=10) if kind == 0 else mutate(r, r.choice(CORPUS), steps=4)


@seed(18)
@_SETTINGS
@given(st.randoms(use_true_random=False), st.integers(0, 1), st.integers(0, 9))
def test_every_command_runs_on_what_validate_accepts_fixed_seed(r, kind, heavy) -> None:
    drive(_case(r, kind), seed=1, heavy=heavy == 0)


@_SETTINGS
@given(st.randoms(use_true_random=False), st.integers(0, 1), st.integers(0, 9))
def test_every_command_runs_on_what_validate_accepts_random_seed(r, kind, heavy) -> None:
    drive(_case(r, kind), seed=2, heavy=heavy == 0)


# -- the cases issue 18 lists ------------------------------------------------------------------

SEED_TEXT = (ROOT / "topology.dot").read_text(encoding="utf-8")


def _seed_with(old: str, new: str) -> str:
    assert old in SEED_TEXT
    return SEED_TEXT.replace(old, new, 1)


PAYMENT = 'payment_service [label="Payment Service"'
CALL = 'order_service -> user_service [label="calls"]'


def _cli(tmp: Path, *args: str) -> SimpleNamespace:
    """Run ``archsim`` in-process (the Typer app, as the console script does) in ``tmp``; an
    unhandled exception is re-raised: that is the traceback a user would see."""
    here = os.getcwd()
    os.chdir(tmp)
    try:
        result = _RUNNER.invoke(app, list(args))
    finally:
        os.chdir(here)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return SimpleNamespace(returncode=result.exit_code, stderr=result.stderr.encode("utf-8"))


def _refused(proc: SimpleNamespace, *words: str) -> str:
    err = proc.stderr.decode("utf-8", errors="replace")
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            (PAYMENT, 'payment_service [workers="1e20", label="Payment Service"'),
            ("workers", "not a whole number"),
        ),
        (
            (PAYMENT, 'payment_service [workers="10001", label="Payment Service"'),
            ("workers", "maximum of 10,000"),
        ),
        (
            (PAYMENT, 'payment_service [replicas="100000000", label="Payment Service"'),
            ("replicas", "maximum of 1,000"),
        ),
        (
            (PAYMENT, 'payment_service [queue_limit="9999999999", label="Payment Service"'),
            ("queue_limit", "maximum of 1,000,000"),
        ),
        (
            (CALL, 'order_service -> user_service [label="calls", operation="nosuch"]'),
            ('operation="nosuch"', "get_user"),
        ),
        (
            # named like a database, but it stores, caches and is routed to: a service (its
            # deeds win); only kind= makes it a database, which offers nothing to call
            (PAYMENT, 'payment_service [kind="database", label="Payment Service"'),
            ("is a database", 'kind="service"'),
        ),
        (
            (
                CALL,
                CALL + '; order_service -> order_service [label="calls", mode="action", '
                'operation="create_order"]',
            ),
            ("synchronous call cycle", "order_service.create_order → order_service.create_order"),
        ),
    ],
)
def test_listed_model_cases_are_located_validate_errors(tmp_path, edit, words) -> None:
    (tmp_path / "a.dot").write_text(_seed_with(*edit), encoding="utf-8")
    for command in (["validate", "a.dot"], ["simulate", "a.dot", "--rps", "2"]):
        err = _refused(_cli(tmp_path, *command), *words)
        assert "a.dot:" in err  # located: file:line:col
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dot"]  # nothing written


def test_queue_limit_and_workers_at_their_bounds_simulate_quickly(tmp_path) -> None:
    text = _seed_with(
        PAYMENT, 'payment_service [queue_limit="1000000", workers="10000", label="Payment Service"'
    )
    (tmp_path / "a.dot").write_text(text, encoding="utf-8")
    proc = _cli(
        tmp_path, "simulate", "a.dot", "--rps", "2", "--duration", "10s", "--method", "analytic"
    )
    assert proc.returncode == 0, proc.stderr.decode()


@pytest.mark.parametrize("rate", ["inf", "nan", "1e9", "-1"])
def test_impossible_rates_are_refused(tmp_path, rate) -> None:
    (tmp_path / "a.dot").write_text(SEED_TEXT, encoding="utf-8")
    _refused(
        _cli(tmp_path, "simulate", "a.dot", f"--rps={rate}", "--method", "analytic"), "arrival rate"
    )


def test_p_zero_on_every_link_does_not_break_analyze(tmp_path) -> None:
    lines = SEED_TEXT.splitlines()
    for i, line in enumerate(lines):
        if "->" not in line:
            continue
        edited = lines.copy()
        edited[i] = line.replace("];", ', p="0"];')
        arch = read_architecture("\n".join(edited), "a.dot").architecture
        from archsim.analysis import analyze

        analyze(arch).to_dict()


def test_html_labels_render(tmp_path) -> None:
    text = _seed_with(
        'user_service [label="User Service"', "user_service [label=<<b>User</b> Service>"
    )
    (tmp_path / "a.dot").write_text(text, encoding="utf-8")
    proc = _cli(tmp_path, "render", "a.dot", "-o", "a.svg")
    assert proc.returncode == 0, proc.stderr.decode()
    svg = (tmp_path / "a.svg").read_text(encoding="utf-8")
    assert "User Service (service)" in svg  # the tooltip, as plain text
    assert ">User Service<" in svg or "User Service</text>" in svg


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\0" * 1_000_000, ("NUL bytes",)),
        (SEED_TEXT.encode("utf-16"), ("UTF-16",)),
        (SEED_TEXT.encode("utf-16-le"), ("UTF-16",)),
        (SEED_TEXT.encode("utf-16-be"), ("UTF-16",)),
        (b"digraph g { a -> b; }" + b" " * (10 * 1024 * 1024), ("larger than 10 MB",)),
        ('digraph g { a [label="caf\u00e9"]; }'.encode("latin-1"), ("not valid UTF-8",)),
    ],
    ids=["nul", "utf16-bom", "utf16-le", "utf16-be", "over-10mb", "latin1"],
)
def test_bad_input_bytes_are_one_clear_error(tmp_path, data, words) -> None:
    (tmp_path / "a.dot").write_bytes(data)
    err = _refused(_cli(tmp_path, "validate", "a.dot"), *words)
    assert err.count("error:") <= 2


def test_dev_zero_is_refused_by_size(tmp_path) -> None:
    _refused(_cli(tmp_path, "validate", "/dev/zero"), "larger than 10 MB")


def test_every_error_family_is_capped() -> None:
    for text in (
        "\x01" * 1_000_000,
        "digraph{" + "1a " * 300_000 + "}",
        "digraph{" + "a->;" * 300_000 + "}",
    ):
        with pytest.raises(ArchsimError) as err:
            read_architecture(text)
        assert len(err.value.diagnostics) <= 52


@pytest.mark.parametrize(
    ("profile", "words"),
    [
        (b"components: [1]\n", ("p.yaml:1:13", "components must map")),
        (b"components:\n  payment_service: {replicas: \xff}\n", ("p.yaml:2:", "not valid UTF-8")),
        (
            b"components:\n  payment_service:\n    replicas: 100000000\n",
            ("p.yaml:3:15", "invalid replicas", "maximum of 1,000"),
        ),
        (b"graph: [1]\n", ("p.yaml:1:8", "graph must map")),
        (b"- 1\n", ("a profile must be a mapping",)),
        (b"links:\n  order_service->user_service: {p: 2}\n", ("p.yaml:2:", "invalid p")),
    ],
)
def test_bad_profiles_are_located_errors(tmp_path, profile, words) -> None:
    (tmp_path / "a.dot").write_text(SEED_TEXT, encoding="utf-8")
    (tmp_path / "p.yaml").write_bytes(profile)
    _refused(
        _cli(tmp_path, "simulate", "a.dot", "--profile", "p.yaml", "--method", "analytic"), *words
    )


def test_set_values_are_checked_like_attributes(tmp_path) -> None:
    (tmp_path / "a.dot").write_text(SEED_TEXT, encoding="utf-8")
    _refused(
        _cli(
            tmp_path,
            "simulate",
            "a.dot",
            "--set",
            "payment_service.queue_limit=9999999999",
            "--method",
            "analytic",
        ),
        "--set payment_service.queue_limit",
        "maximum",
    )


LOOP = """digraph loop {
  gw [label="Gateway", kind="gateway", service_time="exp(0.1ms)"];
  a [label="A", kind="service", service_time="exp(1ms)"];
  b [label="B", kind="service", service_time="exp(1ms)"];
  gw -> a [label="routes to"];
  a -> b [label="calls", mode="action"];
  b -> a [label="calls", mode="action"P];
}
"""


def test_probability_one_cycles_and_event_loops_are_validate_errors() -> None:
    with pytest.raises(ArchsimError) as err:
        read_architecture(LOOP.replace("P", ""), "loop.dot")
    d = err.value.diagnostics[0]
    assert d.code == "call-cycle" and "a.create_a → b.create_b → a.create_a" in d.message
    assert (d.location.line, d.location.col) == (6, 3)
    selfcall = (
        'digraph s { gw [kind="gateway"]; a [kind="service"]; gw -> a [label="routes to"];\n'
        ' a -> a [label="calls", mode="action"]; }'
    )
    with pytest.raises(ArchsimError) as err:
        read_architecture(selfcall, "s.dot")
    assert any(x.code == "call-cycle" and x.location.line == 2 for x in err.value.diagnostics)
    events = """digraph e {
  gw [kind="gateway"]; a [kind="service"]; w [kind="service"]; q [kind="broker"];
  gw -> a [label="routes to"]; a -> q [label="publishes to"];
  w -> q [label="subscribes to"]; w -> a [label="calls", mode="action"];
}"""
    with pytest.raises(ArchsimError) as err:
        read_architecture(events, "e.dot")
    assert any(x.code == "event-loop" for x in err.value.diagnostics), err.value


def test_cycles_below_probability_one_solve_the_traffic_equations() -> None:
    # a -> b always, b -> a with p: a runs 1/(1-p) times per request, b as often
    for p in (0.5, 0.9):
        arch = read_architecture(LOOP.replace("P", f', p="{p}"'), "loop.dot").architecture
        out = solve(arch, Workload(rps=10.0)).components
        assert out["a"].throughput == pytest.approx(10.0 / (1 - p))
        assert out["b"].throughput == pytest.approx(10.0 / (1 - p))
        assert out["gw"].throughput == pytest.approx(10.0)


def test_a_cycle_below_probability_one_simulates_like_the_analytic_solution() -> None:
    from archsim.sim import SimConfig, simulate

    arch = read_architecture(LOOP.replace("P", ', p="0.5"'), "loop.dot").architecture
    res = simulate(
        arch,
        Workload(rps=20.0),
        SimConfig(duration=200.0, warmup=10.0, replications=3, seed=18),
        jobs=1,
    )
    a = res.components["a"]
    assert a.throughput == pytest.approx(40.0, rel=0.08)  # 20 requests/s × 2 visits
    entry = next(iter(res.entries.values()))
    analytic = next(iter(solve(arch, Workload(rps=20.0)).entries.values())).latency_mean
    assert entry.latency.mean == pytest.approx(analytic, rel=0.1)
    assert res.truncated == 0
