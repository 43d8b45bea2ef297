"""Axis and SLO parsing: ranges, lists, units, the one swept --set, and clear errors."""

from __future__ import annotations

import pytest

from archsim.capacity import parse_axis, parse_slos
from archsim.capacity.axis import is_range, parse_values
from archsim.errors import ScenarioError


def test_step_range_is_inclusive_and_free_of_float_noise() -> None:
    axis = parse_axis("rps", "100..3000:step=100")
    assert len(axis.values) == 30
    assert axis.values[0] == 100 and axis.values[-1] == 3000
    assert parse_values("0.1..0.5:step=0.1", "--x")[0] == (0.1, 0.2, 0.3, 0.4, 0.5)


def test_points_range_and_default_points() -> None:
    assert parse_axis("rps", "100..200:points=3").values == (100, 150, 200)
    assert len(parse_axis("rps", "100..1000").values) == 10
    assert parse_axis("set", "1..4", "s.replicas").values == (1, 2, 3, 4)


def test_lists_and_units_for_set_axes() -> None:
    axis = parse_axis("set", "10ms..30ms:step=10ms", "payment_provider.latency")
    assert axis.values == (10, 20, 30) and axis.unit == "ms"
    assert axis.override(1) == "payment_provider.latency=20ms"
    assert parse_axis("set", "1,2,4", "svc.replicas").texts == ("1", "2", "4")
    assert parse_axis("users", "10,20").values == (10, 20)


def test_what_counts_as_a_range() -> None:
    assert is_range("1..6") and is_range("1,2,4")
    assert not is_range("3") and not is_range("exp(10ms)")
    assert not is_range("uniform(1ms,2ms)")


@pytest.mark.parametrize(
    ("kind", "text", "fragment"),
    [
        ("rps", "3000..100", "low to high"),
        ("rps", "100..200:step=0", "step must be > 0"),
        ("rps", "100..200:stride=5", "unknown option"),
        ("rps", "a..b", "not a number"),
        ("rps", "0..100:step=50", "> 0"),
        ("users", "1.5..3", "whole numbers"),
        ("rps", "1..1000000:step=1", "more than"),
    ],
)
def test_bad_axes_say_what_and_how(kind: str, text: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_axis(kind, text)
    assert fragment in err.value.message
    assert err.value.hint and "step=" in err.value.hint


def test_slos() -> None:
    slos = parse_slos("p99<300ms, error_rate<=1%,mean<1s")
    assert [(s.metric, s.limit, s.inclusive) for s in slos] == [
        ("p99", 0.3, False),
        ("error_rate", 0.01, True),
        ("mean", 1.0, False),
    ]
    assert [str(s) for s in slos] == ["p99<300ms", "error_rate<=1%", "mean<1s"]
    assert parse_slos("p99.9<2s")[0].metric == "p999"


@pytest.mark.parametrize("text", ["p99>300ms", "latency<1s", "p99<fast", ""])
def test_bad_slos(text: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_slos(text)
    assert err.value.hint
