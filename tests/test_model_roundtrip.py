"""model → DOT → model is the identity (``archsim fmt`` loses nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archsim.model import read_architecture, to_dot
from archsim.model.kinds import Relation


def _roundtrip(text: str) -> None:
    first = read_architecture(text).architecture
    written = to_dot(first)
    second = read_architecture(written).architecture
    assert second.structure() == first.structure()
    assert to_dot(second) == written  # canonical: formatting twice changes nothing


def test_seed_roundtrips(seed_path):
    _roundtrip(seed_path.read_text())


SHAPES = sorted((Path(__file__).parent / "model_shapes").glob("*.dot"))
CORPUS = sorted((Path(__file__).parent.parent / "examples" / "architectures").glob("*.dot"))


@pytest.mark.parametrize("path", SHAPES + CORPUS, ids=lambda p: p.name)
def test_drawings_read_turned_round_roundtrip(path: Path) -> None:
    # arrows read the other way (a broker's flow arrow, dir=back from a store) keep that
    # reading when the model is written back: the relation is written out, dir=back dropped
    _roundtrip(path.read_text(encoding="utf-8"))


def test_a_back_arrow_from_a_store_is_read_the_way_it_points():
    text = """digraph g {
  gw -> orders [label="routes to"];
  db -> orders [dir=back, label="stores in"];
  orders -> cache [dir=back, label="caches in"];
  db [shape=cylinder]; cache [label="Redis"];
}"""
    result = read_architecture(text)
    links = {(lk.source, lk.target): lk.relation for lk in result.architecture.links}
    assert links[("orders", "db")] is Relation.STORES_IN  # turned: the arrow points at db
    assert links[("orders", "cache")] is Relation.CACHES_IN  # written right: stays
    (said,) = [d for d in result.diagnostics if d.code == "back-arrow"]
    assert said.location.line == 3
    _roundtrip(text)


def test_clusters_comments_html_labels_and_attributes_roundtrip():
    _roundtrip(
        "/* shop */\n"
        "digraph shop {\n"
        '  rankdir=LR; network_latency="1ms";\n'
        "  // the edge\n"
        '  subgraph cluster_edge { label="Edge"; "front-door" [kind=load_balancer]; }\n'
        "  subgraph cluster_core {\n"
        '    label="Core";\n'
        '    subgraph cluster_inner { api [label=<<b>API</b>>, service_time="exp(3ms)"]; }\n'
        '    db [label="multi\\nline", shape=cylinder, connections=8];\n'
        "  }\n"
        '  "front-door" -> api [label="distributes to", weight=2];\n'
        '  api -> db [label="stores in", timeout="250ms"];\n'
        "}\n"
    )


def test_groups_are_nested_and_membership_is_innermost():
    arch = read_architecture(
        "digraph g { subgraph cluster_a { label=A; x; subgraph cluster_b { y; } } "
        'x -> y [label="calls"]; }'
    ).architecture
    groups = {g.id: g for g in arch.groups}
    assert groups["cluster_b"].parent == "cluster_a"
    assert arch.component("x").group == "cluster_a" and arch.component("y").group == "cluster_b"


_IDS = st.sampled_from(["svc_a", "svc_b", "gw", "users_db", "cache", "bus", "ext provider", "2fa"])
_RELATIONS = st.sampled_from([r.label for r in Relation if r is not Relation.DISTRIBUTES_TO])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edges=st.lists(st.tuples(_IDS, _IDS, _RELATIONS), min_size=1, max_size=12),
    workers=st.integers(1, 64),
)
def test_generated_architectures_roundtrip(edges, workers):
    lines = ["digraph gen {"]
    lines += [f'"{a}" [workers={workers}];' for a in sorted({a for a, _, _ in edges})]
    lines += [f'"{a}" -> "{b}" [label="{rel}"];' for a, b, rel in edges]
    lines.append("}")
    try:
        first = read_architecture("\n".join(lines)).architecture
    except Exception as exc:  # random relations may contradict kinds; that is the loader's job
        assert type(exc).__name__ == "InvalidModelError"
        return
    second = read_architecture(to_dot(first)).architecture
    assert second.structure() == first.structure()
