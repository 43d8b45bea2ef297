"""A newcomer's path, one test per snag of issue 14: archsim run as a user runs it — the installed
console script or ``python -m archsim`` in a fresh folder, relative paths, a virtual environment
that was never activated, a 022 umask, an 80-column terminal — with real processes on loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # where pip put archsim's and graphviz-pure's commands
TINY = """digraph Tiny {
    web [label="Web Service"];
    web_db [label="Web Store", shape="cylinder"];
    web -> web_db [label="stores in"];
}
"""


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)  # this checkout, whatever is installed
    env.pop("ARCHSIM_DOT", None)
    env.update(extra)
    return env


def archsim(cwd: Path, *args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    """``python -m archsim ARGS`` in ``cwd``, as a user would type it there."""
    return subprocess.run(
        [sys.executable, "-m", "archsim", *args],
        cwd=cwd,
        env=kw.pop("env", None) or _env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kw,
    )


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "tiny.dot").write_text(TINY)
    return tmp_path


def test_python_m_archsim_and_archsim_cli_run(tmp_path: Path):
    for module in ("archsim", "archsim.cli"):
        proc = subprocess.run([sys.executable, "-m", module, "--version"], env=_env(),
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("archsim ")


def test_relative_paths_from_the_working_directory(tiny: Path):
    """generate, up, loadtest with the default (relative) -o and a relative -o, in an 80-column
    terminal: the results land where the user said, and no figure is cut or wrapped."""
    assert archsim(tiny, "generate", "tiny.dot", "-o", "shop").returncode == 0
    up = archsim(tiny, "up", "shop", timeout=180)
    assert up.returncode == 0, up.stderr
    try:
        narrow = _env(COLUMNS="80")
        for out in ([], ["-o", "runs/first"]):
            # a short think: two users thinking 1 s each can leave a 3 s window empty
            run = archsim(tiny, "loadtest", "shop", "--users", "2", "--think", "0.2s",
                          "--duration", "4s", "--warmup", "1s", *out, env=narrow,
                          timeout=180)  # fmt: skip
            assert run.returncode == 0, run.stdout + run.stderr
            folder = tiny / (out[1] if out else "loadtest-results")
            summary = json.loads((folder / "summary.json").read_text())
            assert summary["total"]["requests"] > 0
            lines = run.stdout.splitlines()
            assert lines and max(len(x) for x in lines) <= 80, run.stdout
            table = [x for x in lines if x.startswith(("GET ", "POST ", "all "))]
            assert table and not any("…" in x for x in table), run.stdout
    finally:
        archsim(tiny, "down", "shop")


def test_render_without_an_activated_environment(tiny: Path):
    """The console script called by its path, PATH without the interpreter's folder: the
    layout engine beside the interpreter is found."""
    script = BIN / "archsim"
    if not script.is_file():
        pytest.skip(f"no archsim console script in {BIN} (archsim is not pip-installed)")
    if shutil.which("graphviz-pure", path=str(BIN)) is None:
        pytest.skip(f"graphviz-pure is not installed in {BIN}")
    bare = "/usr/bin:/bin"
    if shutil.which("dot", path=bare) or shutil.which("graphviz-pure", path=bare):
        pytest.skip("a layout engine is on the bare PATH too: nothing to find beside python")
    proc = subprocess.run([str(script), "render", "tiny.dot", "-o", "tiny.svg"], cwd=tiny,
                          env=_env(PATH=bare), capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tiny / "tiny.svg").read_text().lstrip().startswith(("<?xml", "<svg"))


def _modes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600)])
def test_written_files_follow_the_umask(tiny: Path, umask: int, expected: int):
    """generate, render, simulate --report/-o and fmt -o write files with the user's umask."""
    commands = [
        ["generate", "tiny.dot", "-o", "shop"],
        ["render", "tiny.dot", "-o", "out/tiny.dot"],
        ["simulate", "tiny.dot", "--duration", "10s", "--report", "out/report.html"],
        ["simulate", "tiny.dot", "--duration", "10s", "--csv", "out/result.csv"],
        ["fmt", "tiny.dot", "-o", "out/formatted.dot"],
        ["schema", "-o", "out/schema.json"],
    ]
    for args in commands:
        proc = archsim(tiny, *args, preexec_fn=lambda: os.umask(umask))
        assert proc.returncode == 0, (args, proc.stderr)
    modes = {**_modes(tiny / "shop"), **_modes(tiny / "out")}
    assert len(modes) > 10
    wrong = {path: oct(mode) for path, mode in modes.items() if mode != expected}
    assert not wrong, wrong


def test_fmt_in_place_keeps_the_file_mode(tiny: Path):
    dot = tiny / "tiny.dot"
    dot.write_text(TINY.replace("\n    ", "\n  "))
    dot.chmod(0o640)
    assert archsim(tiny, "fmt", "tiny.dot").returncode == 0
    assert stat.S_IMODE(dot.stat().st_mode) == 0o640


def test_simulate_fits_80_columns(tmp_path: Path):
    proc = archsim(tmp_path, "simulate", str(ROOT / "topology.dot"), "--duration", "10s",
                   "--replications", "2", env=_env(COLUMNS="80"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(x.rstrip()) for x in lines) <= 80, proc.stdout
    rows = [x for x in lines if x.startswith(("GET ", "POST "))]
    assert rows and all("±" in x for x in rows), proc.stdout  # interval on the row, not wrapped
    assert not any(x.strip().startswith("±") for x in lines), proc.stdout
    assert "…" not in proc.stdout


def test_a_failed_up_says_why_in_one_line_per_process(tiny: Path):
    assert archsim(tiny, "generate", "tiny.dot", "-o", "shop").returncode == 0
    handlers = tiny / "shop" / "services" / "web" / "handlers.py"
    handlers.write_text(handlers.read_text() + '\nraise RuntimeError("boom in handlers")\n')
    up = archsim(tiny, "up", "shop", "--timeout", "60", timeout=120)
    archsim(tiny, "down", "shop")
    assert up.returncode == 2
    error = up.stderr[up.stderr.index("error:"):]
    assert "web-1: RuntimeError: boom in handlers (log: " in error
    assert "Traceback" not in error and "\\n" not in error
    assert len(error.splitlines()) <= 4, error
    assert f"archsim logs web -d {(tiny / 'shop').resolve()}" in error


def test_generated_readme_gives_commands_that_run(tiny: Path):
    """The generated README's logs command is the real form, and it says how to get a token and
    where mail goes (the seed has both)."""
    assert archsim(tiny, "generate", str(ROOT / "topology.dot"), "-o", "shop").returncode == 0
    readme = (tiny / "shop" / "README.md").read_text()
    assert "archsim logs auth_service -d ." in readme
    assert "archsim logs . " not in readme
    assert "/login" in readme and "TOKEN=" in readme and "authorization: Bearer $TOKEN" in readme
    assert "SINK=" in readme and "$SINK/messages" in readme


def test_simulate_shows_a_failure_window(tmp_path: Path):
    """--fail product_db@30s..60s: the component's state names the window, a table compares
    inside with outside, and the JSON has the same as ``windows``."""
    args = ["simulate", str(ROOT / "topology.dot"), "--duration", "90s", "--replications", "2",
            "--fail", "product_db@30s..60s"]  # fmt: skip
    text = archsim(tmp_path, *args, env=_env(COLUMNS="80"))
    assert text.returncode == 0, text.stderr
    row = next(x for x in text.stdout.splitlines() if x.startswith("product_db "))
    assert "failed 30s..60s" in row
    assert "product_db fails 30s..60s" in text.stdout
    data = json.loads(archsim(tmp_path, *args, "--json").stdout)
    (window,) = data["windows"]
    assert (window["component"], window["start_s"], window["end_s"]) == ("product_db", 30, 60)
    assert window["inside"]["utilisation"] < window["outside"]["utilisation"]


def test_render_json_says_what_was_written(tmp_path: Path):
    proc = archsim(tmp_path, "render", str(ROOT / "topology.dot"), "-o", "t.dot", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["output"] == "t.dot" and doc["format"] == "dot"
    assert doc["bytes"] == (tmp_path / "t.dot").stat().st_size
