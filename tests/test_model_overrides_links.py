"""Overrides address links by identity (source, target, relation): a pair joined twice keeps
both links whatever is overridden (issue 11's regression), and a no-op changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.errors import ArchsimError, ScenarioError
from archsim.model import apply_overrides, parse_override, profile_overrides
from archsim.model.link_address import address_of
from archsim.model.loader import load, read_architecture

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [*sorted((ROOT / "examples" / "architectures").glob("*.dot")), ROOT / "topology.dot"]

# a service that both publishes to and subscribes to one broker: two links, one pair
BOTH_WAYS = """digraph shop {
  api [kind=gateway]
  svc [kind=service]
  svc_db [kind=database]
  broker [kind=broker]
  api -> svc [label="routes to"]
  svc -> svc_db [label="stores in"]
  svc -> broker [label="publishes to", event="SvcChanged"]
  svc -> broker [label="subscribes to"]
  other [kind=service]
  other -> broker [label="publishes to", event="OtherChanged"]
}
"""


@pytest.fixture
def both_ways():
    return read_architecture(BOTH_WAYS, "both_ways.dot").architecture


def _publishes(arch) -> list[str]:
    return [
        f"{op.component}.{op.name}"
        for op in arch.behaviour.operations
        for s in op.steps
        if s.action.value == "publish"
    ]


def test_a_component_override_keeps_both_links_of_a_pair(both_ways):
    changed = apply_overrides(both_ways, ["svc.workers=4"])
    assert [lk.key for lk in changed.links] == [lk.key for lk in both_ways.links]
    assert _publishes(changed) == _publishes(both_ways) != []
    assert len(changed.behaviour.events) == len(both_ways.behaviour.events) >= 1
    assert changed.component("svc").workers == 4


def test_the_relation_names_one_link_of_a_pair(both_ways):
    changed = apply_overrides(both_ways, ["svc->broker[publishes to].p=0.5"])
    pub, sub = (lk for lk in changed.links if (lk.source, lk.target) == ("svc", "broker"))
    assert pub.relation.value == "publishes_to" and pub.attrs["p"] == "0.5"
    assert "p" not in sub.attrs
    assert parse_override("svc -> broker[publishes_to].p=0.5") == parse_override(
        "svc->broker[publishes to].p=0.5"
    )


def test_a_pair_with_several_links_needs_the_relation(both_ways):
    with pytest.raises(ScenarioError) as info:
        apply_overrides(both_ways, ["svc->broker.p=0.5"])
    assert info.value.code == "ambiguous-link"
    assert "svc->broker[publishes to]" in info.value.hint
    assert "svc->broker[subscribes to]" in info.value.hint


def test_profiles_name_the_relation_too(both_ways):
    overrides = profile_overrides({"links": {"svc->broker[publishes to]": {"p": 0.25}}})
    changed = apply_overrides(both_ways, overrides)
    assert [lk.attrs.get("p") for lk in changed.links if lk.target == "broker"][:1] == ["0.25"]


@pytest.mark.parametrize("bad", ["svc->broker[sends].p=1", "svc->broker[publishes to.p=1"])
def test_a_bad_relation_is_a_clear_error(both_ways, bad):
    with pytest.raises(ScenarioError) as info:
        apply_overrides(both_ways, [bad])
    assert info.value.code in {"bad-override", "unknown-link"}


def _structure_and_steps(arch):
    """The model as typed fields and derived steps: without the raw attributes, which an
    override writes to even when it changes nothing."""
    data = arch.structure()
    for item in (*data["components"], *data["links"]):
        item.pop("attrs")
        item.pop("explicit")
    data.pop("attrs")
    # in a set order: a round trip through the DOT writer may list a cluster's nodes elsewhere
    ops = sorted(
        (o.component, o.name, [s.action for s in o.steps]) for o in arch.behaviour.operations
    )
    return data, ops, sorted(e.id for e in arch.behaviour.entries)


def _loadable(paths):
    # files the model cannot read yet are the corpus test's business, not this one's
    out = []
    for path in paths:
        try:
            out.append(load(path).architecture)
        except ArchsimError:
            continue
    return out


def _no_ops(arch) -> list[str]:
    """Overrides that write down what the model already holds (replicas, workers, a link's p)."""
    out = [f"{c.id}.{name}={getattr(c, name)}" for c in arch.components for name in _SAME]
    out += [f"{address_of(lk, arch.links)}.p={lk.p}" for lk in arch.links]
    return out


_SAME = ("replicas", "workers")


# files that load, each with the no-op overrides it admits
ARCHS = [(arch, ops) for arch in _loadable(EXAMPLES) if (ops := _no_ops(arch))]


@settings(max_examples=40, deadline=None)
@given(which=st.integers(min_value=0, max_value=10_000), pick=st.integers(0, 10_000))
def test_a_no_op_override_leaves_the_model_unchanged(which, pick):
    arch, options = ARCHS[which % len(ARCHS)]
    changed = apply_overrides(arch, [options[pick % len(options)]])
    assert _structure_and_steps(changed) == _structure_and_steps(arch)


def test_a_no_op_link_override_on_a_multi_link_pair_changes_nothing(both_ways):
    changed = apply_overrides(both_ways, ["svc->broker[publishes to].event=SvcChanged"])
    assert _structure_and_steps(changed) == _structure_and_steps(both_ways)
    assert len(ARCHS) >= 2  # the seed and at least one more file are exercised


def test_a_token_check_is_never_left_to_chance(seed):
    """Issue 11: ``p`` on ``validates with`` once generated a gateway that skipped the token
    check on half the requests; it is the token cache's miss share instead."""
    from archsim.codegen import render

    changed = apply_overrides(seed, ["api_gateway->auth_service.p=0.5"])
    app = render(changed)["services/api_gateway/app.py"]
    checks = [i for i, line in enumerate(app.splitlines()) if "rt.authorize(" in line]
    assert checks, "the gateway checks tokens"
    lines = app.splitlines()
    for i in checks:
        assert "rt.chance" not in lines[i - 1], lines[i - 1]
    step = next(
        s
        for op in changed.behaviour.operations_of("api_gateway")
        for s in op.steps
        if s.checks_token
    )
    assert step.p == 0.5 and "token cache misses 50%" in step.describe()
