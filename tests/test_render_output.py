"""Rendered files: SVG of the seed (valid XML, every label, legend), PNG, self-contained HTML,
the engine search, and ``archsim render`` as a user runs it. Works with graphviz-pure alone."""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archsim.cli import app
from archsim.errors import ArchsimError
from archsim.model import load
from archsim.render import SceneOptions, find_engine, parse_overlay, render
from archsim.render.engine import ENGINE_ENV
from archsim.render.style import utilisation_colour

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "topology.dot"
SVG_NS = "{http://www.w3.org/2000/svg}"
runner = CliRunner()


@pytest.fixture(scope="module")
def seed():
    return load(SEED).architecture


@pytest.fixture(scope="module")
def seed_svg(seed) -> str:
    return render(seed, "svg").decode("utf-8")


def _texts(svg: str) -> str:
    root = ET.fromstring(svg)
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG_NS}text"))


def _fills(svg: str, comp: str) -> set[str]:
    root = ET.fromstring(svg)
    group = next(g for g in root.iter(f"{SVG_NS}g") if g.get("id") == f"node-{comp}")
    return {el.get("fill") for el in group.iter() if el.get("fill") not in (None, "none")}


def test_seed_svg_is_xml_with_every_label_and_a_legend(seed, seed_svg) -> None:
    texts = _texts(seed_svg)
    for comp in seed.components:
        assert comp.label in texts, comp.label
    assert "Legend" in texts
    assert "sync" in texts and "async" in texts


def test_seed_png_renders(seed) -> None:
    png = render(seed, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_overlay_changes_fill_colours_by_utilisation(seed, seed_svg) -> None:
    util = {"order_service": {"utilisation": 0.97}, "user_service": {"utilisation": 0.1}}
    link = {"source": "order_service", "target": "user_service", "relation": "calls",
            "throughput": 12.5, "p99": 0.004}  # fmt: skip
    sim = {"schema": "archsim.simulation/1", "components": util, "links": [link]}
    options = SceneOptions(overlay=parse_overlay(json.dumps(sim), "sim.json"))
    svg = render(seed, "svg", options).decode("utf-8")
    hot, cold = utilisation_colour(0.97), utilisation_colour(0.1)
    assert hot in _fills(svg, "order_service") and hot not in _fills(seed_svg, "order_service")
    assert cold in _fills(svg, "user_service")
    assert "12.5/s" in _texts(svg)


def test_html_is_self_contained(seed) -> None:
    page = render(seed, "html").decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<?xml" not in page
    for needle in ("<script src", "<link ", "https://", "@import"):
        assert needle not in page
    data = page.split('id="details">', 1)[1].split("</script>", 1)[0]
    assert json.loads(data)["order_db"]["kind"] == "database"


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_html_script_parses(seed, tmp_path: Path) -> None:
    import subprocess

    page = render(seed, "html").decode("utf-8")
    script = page.rsplit("<script>", 1)[1].split("</script>", 1)[0]
    (tmp_path / "v.js").write_text(f"new Function({json.dumps(script)});")
    subprocess.run(["node", str(tmp_path / "v.js")], check=True, timeout=30)


def test_dot_output_needs_no_engine(seed, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # nothing beside it either
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert render(seed, "dot").startswith(b"digraph")
    with pytest.raises(ArchsimError) as err:
        render(seed, "svg")
    assert "dot" in err.value.message and "graphviz-pure" in err.value.message
    assert "pip install graphviz-pure" in (err.value.hint or "")


def test_engine_override_uses_graphviz_pure(monkeypatch) -> None:
    if shutil.which("graphviz-pure") is None:
        pytest.skip("graphviz-pure not installed")
    monkeypatch.setenv(ENGINE_ENV, "graphviz-pure")
    assert find_engine().name == "graphviz-pure"
    monkeypatch.setenv(ENGINE_ENV, "no-such-dot")
    with pytest.raises(ArchsimError):
        find_engine()


def test_cli_writes_each_format(tmp_path: Path) -> None:
    for name in ("seed.svg", "seed.png", "seed.html", "seed.dot"):
        out = tmp_path / name
        args = ["render", str(SEED), "-o", str(out), "--direction", "TB", "--theme", "dark"]
        result = runner.invoke(app, [*args, "--hide", "infra"])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
    assert "Configuration Service" not in (tmp_path / "seed.dot").read_text()


def test_cli_overlay_from_analyze_json(tmp_path: Path) -> None:
    analysis = tmp_path / "analysis.json"
    analysis.write_text(runner.invoke(app, ["analyze", str(SEED), "--json"]).stdout)
    out = tmp_path / "marked.dot"
    result = runner.invoke(app, ["render", str(SEED), "-o", str(out), "--overlay", str(analysis)])
    assert result.exit_code == 0, result.output
    assert "finding" in out.read_text()


def test_cli_bad_input_leaves_no_file(tmp_path: Path, monkeypatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    cases = [
        (["-o", str(tmp_path / "x.pdf")], "cannot tell the format"),
        (["-o", str(tmp_path / "x.svg"), "--overlay", str(bad)], "not JSON"),
        (["-o", str(tmp_path / "x.svg"), "--overlay", str(tmp_path / "none.json")], "cannot read"),
        (["-o", str(a_file / "x.svg")], "cannot write"),  # missing folders are created
    ]
    for args, text in cases:
        result = runner.invoke(app, ["render", str(SEED), *args])
        assert result.exit_code == 2, (args, result.output)
        assert text in result.output and "Traceback" not in result.output
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # nothing beside it either
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    result = runner.invoke(app, ["render", str(SEED), "-o", str(tmp_path / "y.svg")])
    assert result.exit_code == 2 and "graphviz-pure" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "bad.json"]
