"""Typed attributes: durations, distributions, probabilities, counts, mixes and defaults."""

from __future__ import annotations

import contextlib
import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.model import read_architecture
from archsim.model.attributes import parse_mix
from archsim.model.distributions import (
    Constant,
    Erlang,
    Exponential,
    Gamma,
    LogNormal,
    Uniform,
    parse_distribution,
)
from archsim.model.quantities import (
    format_duration,
    parse_duration,
    parse_probability,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5ms", 0.005),
        ("1.5s", 1.5),
        ("200us", 2e-4),
        ("2min", 120.0),
        ("0ms", 0.0),
        ("3e2ms", 0.3),
    ],
)
def test_durations_need_and_honour_units(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("5", "no unit"),
        ("5 parsecs", "unknown time unit"),
        ("-1ms", ">= 0"),
        ("fast", "not a duration"),
    ],
)
def test_bad_durations_say_why(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_duration(text)


@given(st.floats(min_value=1e-7, max_value=1e4, allow_nan=False))
def test_format_then_parse_duration_is_identity_to_six_digits(seconds):
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, rel=1e-5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5ms", Exponential(mean_s=0.005)),
        ("exp(5ms)", Exponential(mean_s=0.005)),
        ("const(1ms)", Constant(value_s=0.001)),
        ("uniform(1ms, 3ms)", Uniform(low_s=0.001, high_s=0.003)),
        ("lognormal(mean=5ms,cv=1.5)", LogNormal(mean_s=0.005, cv=1.5)),
        ("gamma(mean=5ms, cv=0.5)", Gamma(mean_s=0.005, cv=0.5)),
        ("erlang(k=3,mean=6ms)", Erlang(k=3, mean_s=0.006)),
    ],
)
def test_distribution_language(text, expected):
    dist = parse_distribution(text)
    assert dist == expected
    assert parse_distribution(str(dist)) == dist  # printing gives the same language back


@pytest.mark.parametrize(
    "text",
    [
        "exp(5ms)",
        "const(2ms)",
        "uniform(1ms,3ms)",
        "lognormal(mean=5ms,cv=1.5)",
        "gamma(mean=5ms,cv=0.5)",
        "erlang(k=4,mean=8ms)",
    ],
)
def test_samplers_match_the_declared_mean_and_scv(text):
    dist = parse_distribution(text)
    draw = dist.sampler(random.Random(7))
    values = [draw() for _ in range(40_000)]
    mean = statistics.fmean(values)
    assert mean == pytest.approx(dist.mean, rel=0.03)
    scv = statistics.pvariance(values) / mean**2
    assert scv == pytest.approx(dist.scv, abs=0.12 * max(1.0, dist.scv))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("foo(1ms)", "unknown distribution"),
        ("uniform(3ms,1ms)", "low <= high"),
        ("lognormal(5ms)", "needs 'cv'"),
        ("gamma(mean=5ms,cv=0)", "cv must be > 0"),
        ("erlang(k=0,mean=1ms)", "k must be between 1 and 1000"),
        ("exp(5ms, shape=2)", "does not take"),
    ],
)
def test_bad_distributions_say_why(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_distribution(text)


def test_probabilities_accept_percent_and_refuse_out_of_range():
    assert parse_probability("95%") == pytest.approx(0.95)
    with pytest.raises(ValueError, match="outside"):
        parse_probability("1.2")


def test_mix_parsing():
    assert parse_mix("get_product:6, list_products:3") == {"get_product": 6.0, "list_products": 3.0}
    with pytest.raises(ValueError, match="needs a weight"):
        parse_mix("get_product")
    with pytest.raises(ValueError, match="add up to 0"):
        parse_mix("a:0")


def test_per_kind_defaults_and_explicit_values_are_told_apart():
    arch = read_architecture(
        'digraph g { svc [workers=4]; db [label="Orders DB"]; svc -> db [label="stores in"]; }'
    ).architecture
    svc, db = arch.component("svc"), arch.component("db")
    assert (svc.workers, svc.explicit) == (4, ("workers",))
    assert svc.service_time == Exponential(mean_s=0.002) and svc.concurrency == "async"
    assert db.workers == 4 and db.concurrency == "threads" and db.explicit == ()


def test_mix_attribute_sets_entry_weights():
    arch = read_architecture(
        'digraph g { svc [mix="get_item:1,list_items:0,create_item:1", resource=item];'
        ' db [label="DB"]; svc -> db [label="stores in"]; }'
    ).architecture
    weights = {e.target.operation: e.weight for e in arch.behaviour.entries}
    assert weights == {"get_item": 0.5, "create_item": 0.5}


@settings(max_examples=50)
@given(st.text(max_size=30))
def test_distribution_parser_only_ever_raises_value_error(text):
    with contextlib.suppress(ValueError):
        parse_distribution(text)
