"""The public Python API (archsim.api, re-exported by archsim): it is what docs/api.md lists,
and each function gives what its command gives, on the seed (real core, real files)."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import archsim
from archsim import api
from archsim.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "api.md"
SEED = ROOT / "topology.dot"
UPDATE = os.environ.get("ARCHSIM_UPDATE_DOCS") == "1"
_LISTING = re.compile(r"(<!-- api-listing -->\n```python\n)(.*?)(```)", re.S)

#: The package's public names. A name added to or dropped from ``archsim.__all__`` must be added
#: here (and to docs/api.md when it is a function) deliberately.
PUBLIC = {
    "Architecture", "ArchsimError", "Component", "Diagnostic", "DotSyntaxError", "FilePath",
    "Generated", "InvalidModelError", "Kind", "Link", "LoadResult", "Location", "Measured",
    "Profile", "Relation", "ScenarioError", "Severity", "Source", "__version__", "analyze",
    "calibrate", "compare", "down", "generate", "inspect", "load", "loadtest", "plan",
    "read_architecture", "render", "simulate", "solve", "status", "sweep", "to_dot",
    "to_networkx", "up", "validate",
}  # fmt: skip


def listing() -> str:
    """Each API function's signature, wrapped at 96 columns between parameters."""
    out = []
    for name in sorted(api.__all__):
        fn = getattr(api, name)
        if not inspect.isfunction(fn) and name != "load":
            continue
        sig = inspect.signature(fn)
        params = []
        for p in sig.parameters.values():
            if p.kind is p.KEYWORD_ONLY and "*" not in params:
                params.append("*")
            text = p.name if p.annotation is p.empty else f"{p.name}: {p.annotation}"
            params.append(text if p.default is p.empty else f"{text} = {p.default!r}")
        ret = f" -> {sig.return_annotation}" if sig.return_annotation is not sig.empty else ""
        line, lines = f"archsim.{name}(", []
        for i, param in enumerate(params):
            piece = param + (", " if i < len(params) - 1 else "")
            if len(line) + len(piece) > 96:
                lines.append(line.rstrip())
                line = "    "
            line += piece
        lines.append(line + ")" + ret)
        out.append("\n".join(lines))
    return "\n".join(out) + "\n"


def test_the_package_exports_the_api():
    assert set(archsim.__all__) == PUBLIC
    for name in api.__all__:
        assert getattr(archsim, name) is getattr(api, name), name
        assert getattr(api, name).__doc__, f"{name} has no docstring"
    assert set(api.__all__) <= PUBLIC


def _python(code: str) -> str:
    """What a fresh interpreter prints for ``code`` (imports not shared with this process)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=60, check=True)  # fmt: skip
    return proc.stdout.strip()


def test_render_stays_the_function_when_the_drawing_package_is_imported():
    """``archsim/render/`` is a package: importing it must not replace ``archsim.render``."""
    code = ("import archsim, archsim.render.writer, archsim.render.scene; "
            "from archsim.render import SceneOptions; print(callable(archsim.render))")  # fmt: skip
    assert _python(code) == "True"


def test_import_archsim_leaves_the_heavy_cores_unloaded():
    code = ("import sys, archsim; print(sorted(m for m in sys.modules if m.split('.')[:2] in "
            "[['archsim', p] for p in ('sim', 'analysis', 'render', 'codegen', 'loadtest', "
            "'capacity', 'runtime')]))")  # fmt: skip
    assert _python(code) == "[]"


def test_docs_api_lists_every_signature():
    """docs/api.md's reference is the API as it is: a changed signature fails until the page
    shows it (ARCHSIM_UPDATE_DOCS=1 rewrites it)."""
    text = PAGE.read_text(encoding="utf-8")
    match = _LISTING.search(text)
    assert match, "docs/api.md lost its <!-- api-listing --> block"
    if UPDATE and match.group(2) != listing():
        PAGE.write_text(text[: match.start(2)] + listing() + text[match.end(2) :], "utf-8")
        return
    assert match.group(2) == listing()
    for name in api.__all__:
        if inspect.isfunction(getattr(api, name)):
            assert f"`{name}(" in text.split("## Reference")[0], f"{name} not in the table"


# --- real calls: the API gives what the command gives -----------------------------------------

runner = CliRunner()


def _cli_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_validate_and_inspect():
    assert archsim.validate(SEED) == []
    codes = [d.code for d in archsim.validate(ROOT / "examples" / "bad.dot")]
    assert "undeclared" in codes
    assert [d.code for d in archsim.validate(ROOT / "examples" / "seed.dot")] == [
        "swallowed-statements"
    ]
    assert archsim.inspect(SEED) == _cli_json("inspect", str(SEED))
    entries = archsim.inspect(SEED, "entries")
    assert len(entries) == 18 and entries == _cli_json("inspect", str(SEED), "--section",
                                                        "entries")  # fmt: skip
    with pytest.raises(archsim.ScenarioError, match="no section"):
        archsim.inspect(SEED, "nope")


def test_load_errors_are_the_family():
    with pytest.raises(archsim.DotSyntaxError) as exc:
        archsim.analyze(ROOT / "examples" / "seed.dot")
    assert exc.value.diagnostics[0].location.line == 1


def test_analyze_is_the_command(seed):
    report = archsim.analyze(seed)
    assert json.loads(report.to_json_bytes()) == _cli_json("analyze", str(SEED))
    assert len(report.findings) == 16
    off = archsim.analyze(SEED, disable=["single-point-of-failure"])
    assert not any(f.rule == "single-point-of-failure" for f in off.findings)
    assert len(off.findings) < len(report.findings)
    with pytest.raises(archsim.ScenarioError, match="did you mean"):
        archsim.analyze(seed, disable=["single-point-of-failur"])


def test_simulate_is_the_command(seed):
    args = ["--rps", "150", "--duration", "10s", "--warmup", "2s", "--replications", "2",
            "--seed", "3", "--fail", "product_db@4s..6s"]  # fmt: skip
    cli = _cli_json("simulate", str(SEED), *args)
    mine = archsim.simulate(seed, rps=150, duration=10.0, warmup="2s", replications=2, seed=3,
                            fail=["product_db@4s..6s"]).to_dict()  # fmt: skip
    cli.pop("analytic"), mine.pop("analytic")
    assert mine == cli
    assert mine["entries"]["GET /api/products/{id}"]["latency"]["mean"] > 0
    with pytest.raises(archsim.ScenarioError, match="duration"):
        archsim.simulate(seed, duration="ten seconds")
    with pytest.raises(archsim.ScenarioError, match="not both"):
        archsim.simulate(seed, rps=10, users=5)


@pytest.mark.parametrize(("option", "value"), [
    ("duration", "ten seconds"), ("warmup", "-1s"), ("precision", "lots"), ("fail", "db@9..1s"),
])  # fmt: skip
def test_the_command_and_the_function_read_options_alike(seed, option: str, value: str):
    """One parser (archsim.api.options) for both: the same bad value gives the same message,
    the option spelled as each caller writes it."""
    result = runner.invoke(app, ["simulate", str(SEED), f"--{option}", value])
    assert result.exit_code == 2, result.output
    with pytest.raises(archsim.ScenarioError) as exc:
        archsim.simulate(seed, **{option: [value] if option == "fail" else value})
    message = str(exc.value).splitlines()[0].split(": ", 1)[-1]
    assert " ".join(message.replace(f"{option}: ", "").split()) in " ".join(result.output.split())
    if option != "fail":  # a window's error says --fail/--slow to both callers (sim.scenario)
        assert f"--{option}" in result.output and f"--{option}" not in str(exc.value)


def test_solve_and_sets(seed):
    base = archsim.solve(seed, rps=100)
    more = archsim.solve(seed, rps=100, sets=["user_service.replicas=2"])
    load = [s.components["user_service"].offered_load for s in (base, more)]
    assert load[1] == pytest.approx(load[0] / 2)


def test_render_writes_what_the_command_writes(seed, tmp_path: Path):
    result = runner.invoke(app, ["render", str(SEED), "-o", str(tmp_path / "cli.svg")])
    assert result.exit_code == 0, result.output
    data = archsim.render(seed, output=tmp_path / "api.svg")
    assert data == (tmp_path / "api.svg").read_bytes() == (tmp_path / "cli.svg").read_bytes()
    assert archsim.render(seed, "dot").startswith(b"digraph")
    with pytest.raises(archsim.ScenarioError, match="format"):
        archsim.render(seed, "gif")


def test_generate_writes_what_the_command_writes(tmp_path: Path):
    result = runner.invoke(app, ["generate", str(SEED), "-o", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    pretend = archsim.generate(SEED, tmp_path / "api", pretend=True)
    assert pretend.written == () and not (tmp_path / "api").exists()
    made = archsim.generate(SEED, tmp_path / "api")
    assert sorted(made.written) == sorted(made.plan.files) and len(made.written) > 50
    for rel in made.written:
        assert (tmp_path / "api" / rel).read_text() == (tmp_path / "cli" / rel).read_text(), rel
    again = archsim.generate(SEED, tmp_path / "api")
    assert again.written == ()  # nothing changed: nothing rewritten


RUNS = ROOT / "examples" / "runs"


def test_compare_and_calibrate_on_the_recorded_runs(seed, tmp_path: Path):
    cli = _cli_json("compare", str(SEED), "--measured", str(RUNS / "closed20.json"))
    mine = archsim.compare(seed, RUNS / "closed20.json")
    assert mine.to_dict() == cli
    doc = json.loads((RUNS / "closed20.json").read_text())
    assert archsim.compare(seed, doc).to_dict() == cli  # the document itself will do
    knee = archsim.compare(seed, RUNS / "steps.json")
    assert knee.to_dict()["schema"] == "archsim.compare-knee/1"
    fit = archsim.calibrate(seed, [RUNS / "low.json", RUNS / "high.json"],
                            output=tmp_path / "cal.yaml")  # fmt: skip
    cli_fit = _cli_json("calibrate", str(SEED), "--measured", str(RUNS / "low.json"), "--measured",
                        str(RUNS / "high.json"), "-o", str(tmp_path / "cli.yaml"))  # fmt: skip
    assert fit.to_dict() == cli_fit
    assert fit.graph.host_cpu and fit.graph.host_cpu > 0
    calibrated = archsim.simulate(seed, rps=100, duration="8s", warmup="1s", replications=2,
                                  profile=tmp_path / "cal.yaml")  # fmt: skip
    assert calibrated.entries
    with pytest.raises(archsim.ScenarioError, match="cannot read the measured run"):
        archsim.compare(seed, tmp_path / "missing.json")


def test_sweep_and_plan(seed):
    curve = archsim.sweep(seed, rps="100..500:step=200", duration="3s", replications=2, jobs=1)
    assert [p.value for p in curve.points] == [100, 300, 500]
    with pytest.raises(archsim.ScenarioError, match="nothing to sweep"):
        archsim.sweep(seed, rps=100)
    sized = archsim.plan(seed, target_rps=1500, slo="p99<300ms", duration="3s", jobs=1)
    assert sized.feasible and "replicas" in sized.profile_yaml()
