"""Scene building (pure): styles per kind and interaction, hiding, clusters, overlays."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archsim.errors import ScenarioError
from archsim.model import Interaction, load, read_architecture
from archsim.render import Overlay, SceneOptions, ThemeName, build_scene, parse_overlay, visible
from archsim.render.style import THEMES, utilisation_colour

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seed():
    return load(ROOT / "topology.dot").architecture


def _line(scene: str, start: str) -> str:
    return next(line for line in scene.splitlines() if line.strip().startswith(start))


def test_kinds_and_interactions_are_styled(seed) -> None:
    scene = build_scene(seed)
    assert 'shape="cylinder"' in _line(scene, '"order_db" [')
    assert "dashed" in _line(scene, '"payment_provider" [')
    assert "<TABLE" in _line(scene, '"message_broker" [')  # drawn as a queue
    assert 'style="dashed"' in _line(scene, '"order_service" -> "message_broker"')
    assert 'style="dotted"' in _line(scene, '"order_service" -> "order_db"')
    infra = THEMES[ThemeName.LIGHT].edges[Interaction.INFRA].color
    assert infra in _line(scene, '"user_service" -> "config_service"')
    assert '"__legend"' in scene and "Legend" in scene
    assert 'rankdir="LR"' in scene


def test_direction_theme_and_no_legend(seed) -> None:
    scene = build_scene(seed, SceneOptions(direction="TB", theme=ThemeName.DARK, legend=False))
    assert 'rankdir="TB"' in scene
    assert THEMES[ThemeName.DARK].background in scene
    assert "__legend" not in scene


def test_hide_infra_drops_links_and_infra_only_components(seed) -> None:
    comps, links = visible(seed, frozenset({Interaction.INFRA}))
    ids = {c.id for c in comps}
    assert "config_service" not in ids and "service_registry" not in ids
    assert len(ids) == len(seed.components) - 2
    assert all(lk.interaction is not Interaction.INFRA for lk in links)
    assert "config_service" not in build_scene(
        seed, SceneOptions(hide=frozenset({Interaction.INFRA}))
    )


def test_clusters_become_boxed_groups() -> None:
    text = """digraph G {
        subgraph cluster_data { label="Data"; db [label="Orders DB", kind="database"]; }
        svc [label="Orders"]; svc -> db [label="stores in"];
    }"""
    scene = build_scene(read_architecture(text, "g.dot").architecture)
    assert 'subgraph "cluster_data"' in scene
    assert 'label="Data"' in scene
    block = scene[scene.index("cluster_data") :]
    assert block.index('"db" [') < block.index("}")


def _simulation(util: dict[str, float], links: list[dict] | None = None) -> str:
    return json.dumps({
        "schema": "archsim.simulation/1",
        "components": {cid: {"utilisation": u} for cid, u in util.items()},
        "links": links or [],
    })  # fmt: skip


def test_utilisation_overlay_changes_fill_and_labels_edges(seed) -> None:
    overlay = parse_overlay(_simulation(
        {"order_service": 0.95, "product_service": 0.2, "payment_service": 1.3},
        [{"source": "order_service", "target": "payment_service", "relation": "calls",
          "throughput": 42.0, "p99": 0.035}],
    ), "sim.json")  # fmt: skip
    plain = build_scene(seed)
    scene = build_scene(seed, SceneOptions(overlay=overlay))
    for comp, rho in (("order_service", 0.95), ("product_service", 0.2), ("payment_service", 1.3)):
        assert f'fillcolor="{utilisation_colour(rho)}"' in _line(scene, f'"{comp}" [')
        assert f'fillcolor="{utilisation_colour(rho)}"' not in _line(plain, f'"{comp}" [')
    assert utilisation_colour(0.2) != utilisation_colour(0.95) != utilisation_colour(1.3)
    assert "unstable" in _line(scene, '"payment_service" [')
    edge = _line(scene, '"order_service" -> "payment_service"')
    assert "42/s" in edge and "p99 35ms" in edge
    assert "utilisation" in _line(scene, '"__legend"')


def test_analysis_overlay_marks_findings(seed) -> None:
    data = {"schema": "archsim.analysis/1", "findings": [
        {"rule": "sync-cycle", "severity": "error", "components": ["order_service"],
         "message": "m", "why": "w", "fix": "f"}]}  # fmt: skip
    overlay = parse_overlay(json.dumps(data), "a.json")
    assert overlay.worst("order_service").value == "error"
    line = _line(build_scene(seed, SceneOptions(overlay=overlay)), '"order_service" [')
    assert THEMES[ThemeName.LIGHT].finding["error"] in line and "1 finding" in line


def test_overlays_merge() -> None:
    a = parse_overlay(_simulation({"x": 0.5}), "a")
    b = parse_overlay(json.dumps({"schema": "archsim.analysis/1", "findings": []}), "b")
    assert a.merge(b).utilisation == {"x": 0.5}
    assert isinstance(Overlay().merge(a), Overlay)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ('{"schema": "other/1"}', "unknown overlay schema"),
        ('{"schema": "archsim.simulation/1", "links": [{"source": "a"}]}', "links[0]"),
        ('{"schema": "archsim.simulation/1", "components": {"a": {"utilisation": "hi"}}}',
         "expected a number"),
    ],
)  # fmt: skip
def test_bad_overlays_are_scenario_errors(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_overlay(text, "x.json")
    assert message in str(err.value)


def test_labels_with_quotes_are_escaped() -> None:
    text = 'digraph G { a [label="The \\"A\\" <Service> & co"]; }'
    scene = build_scene(read_architecture(text, "g.dot").architecture)
    assert "&lt;Service&gt; &amp; co" in scene


def test_overlay_accepts_relation_labels_and_unstable_flag(seed) -> None:
    text = json.dumps({
        "schema": "archsim.simulation/1",
        "components": {"order_db": {"utilisation": 0.6, "unstable": True}},
        "links": [{"source": "order_service", "target": "order_db", "relation": "stores in",
                   "throughput": 7, "p99": 0.002}],
    })  # fmt: skip
    overlay = parse_overlay(text, "sim.json")
    assert ("order_service", "order_db", "stores_in") in overlay.links
    line = _line(build_scene(seed, SceneOptions(overlay=overlay)), '"order_db" [')
    assert f'fillcolor="{utilisation_colour(1.2)}"' in line and "unstable" in line


def test_the_implied_account_store_is_a_dashed_node_beside_its_auth_service() -> None:
    """Rule auth.accounts: the store no statement draws is drawn dashed, with its ``stores in``
    line, and goes with the data links when they are hidden (issue 11)."""
    root = Path(__file__).resolve().parent
    arch = load(root / "stack_models" / "guarded.dot").architecture
    dot = build_scene(arch, SceneOptions(overlay=Overlay(utilisation={"auth_accounts": 0.5})))
    node = next(line for line in dot.splitlines() if line.strip().startswith('"auth_accounts"'))
    assert 'shape="cylinder"' in node and "dashed" in node and "implied" in node
    assert "ρ 50%" in node
    assert '"auth" -> "auth_accounts"' in dot
    hidden = build_scene(arch, SceneOptions(hide=frozenset({Interaction.DATA})))
    assert "auth_accounts" not in hidden
