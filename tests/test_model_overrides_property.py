"""Property (issue 11, item 3): on generated architectures where pairs are joined by several
links (a service that publishes to and subscribes to one broker, a service that both calls and
uses another), a no-op override leaves components, links with their relations, operations and
steps as they were. Overrides edit the model, not DOT text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archsim.model import apply_overrides
from archsim.model.link_address import address_of
from archsim.model.loader import read_architecture


@st.composite
def architectures(draw) -> str:
    """DOT text of a gateway, 1-4 services (some with a database, calls only to earlier ones)
    and one broker, with at least one service that publishes to and subscribes to it."""
    n = draw(st.integers(1, 4))
    lines = ["digraph generated {", "  gw [kind=gateway]", "  broker [kind=broker]"]
    # subscribers consume what only ``source`` publishes, and nothing calls it: no event loop
    lines += ["  source [kind=service]", '  gw -> source [label="routes to"]']
    lines += ['  source -> broker [label="publishes to", event="Tick"]']
    routed = draw(st.sets(st.integers(0, n - 1), min_size=1))
    both = draw(st.integers(0, n - 1))  # joined to the broker twice
    for i in range(n):
        workers = draw(st.sampled_from(["", " workers=2", " workers=4"]))
        lines.append(f"  s{i} [kind=service{workers}]")
        if i in routed:
            lines.append(f'  gw -> s{i} [label="routes to"]')
        if draw(st.booleans()):
            lines.append(f"  s{i}_db [kind=database]")
            lines.append(f'  s{i} -> s{i}_db [label="stores in"]')
        for j in range(i):
            if draw(st.booleans()):
                p = draw(st.sampled_from(["", ", p=0.5"]))
                lines.append(f'  s{i} -> s{j} [label="calls"{p}]')
        if i == both or draw(st.booleans()):
            lines.append(f'  s{i} -> broker [label="publishes to", event="E{i}"]')
        if i == both or draw(st.booleans()):
            lines.append(f'  s{i} -> broker [label="subscribes to", events="Tick"]')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _no_ops(arch) -> list[list[str]]:
    """Override lists that change nothing: none at all; a written attribute set to its text; a
    typed field set to its value; a link's ``p``, addressed by relation where a pair is joined
    more than once."""
    out: list[list[str]] = [[]]
    for comp in arch.components:
        out.append([f"{comp.id}.replicas={comp.replicas}"])
        if "workers" in comp.attrs:
            out.append([f"{comp.id}.workers={comp.attrs['workers']}"])
    for link in arch.links:
        address = address_of(link, arch.links)
        out.append([f"{address}.p={link.p:g}"])
        if link.event:
            out.append([f"{address}.event={link.event}"])
    return out


def _shape(arch) -> tuple:
    """Components, links (with relations, in file order), operations with their steps."""
    data = arch.structure()
    for item in (*data["components"], *data["links"]):
        item.pop("attrs")  # a no-op still writes the value down
        item.pop("explicit")
    return data, [lk.key for lk in arch.links]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=architectures(), pick=st.integers(0, 10_000))
def test_a_no_op_override_leaves_a_multi_link_model_unchanged(text, pick):
    arch = read_architecture(text, "generated.dot").architecture
    pairs = [(lk.source, lk.target) for lk in arch.links]
    assert len(pairs) > len(set(pairs)), "the generator joins some pair twice"
    options = _no_ops(arch)
    overrides = options[pick % len(options)]
    changed = apply_overrides(arch, overrides)
    assert _shape(changed) == _shape(arch)
    ops = [(o.component, o.name, o.steps) for o in arch.behaviour.operations]
    assert [(o.component, o.name, o.steps) for o in changed.behaviour.operations] == ops


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=architectures())
def test_rewriting_a_written_attribute_changes_nothing_at_all(text):
    arch = read_architecture(text, "generated.dot").architecture
    same = [
        f"{address_of(lk, arch.links)}.{key}={value}"
        for lk in arch.links
        for key, value in lk.attrs.items()
        if key in ("p", "event", "events")
    ]
    changed = apply_overrides(arch, same)
    assert changed.structure() == arch.structure()
    assert [c.source for c in changed.components] == [c.source for c in arch.components]
