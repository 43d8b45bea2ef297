"""Which heavy libraries a command imports: a command loads only what it uses (issue 17).

Behaviour, not timing: each command runs in a fresh interpreter and reports ``sys.modules``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "topology.dot"
HEAVY = (
    "networkx", "numpy", "scipy", "locust", "gevent", "dask", "distributed", "fastapi",
    "uvicorn", "starlette", "jinja2", "simpy", "httpx", "sqlalchemy", "pandas", "pydot",
)  # fmt: skip

_RUN = """
import contextlib, io, sys
from archsim.cli.app import main
sys.argv = ["archsim", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main()
print(" ".join(m for m in {heavy!r} if m in sys.modules))
"""


def _imported(*args: str) -> set[str]:
    code = _RUN.format(heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    assert _imported("--help") == set()


@pytest.mark.parametrize("command", ["validate", "inspect"])
def test_model_commands_load_no_heavy_library(command: str) -> None:
    assert _imported(command, str(SEED)) == set()


def test_simulate_loads_only_the_simulator_and_the_solver() -> None:
    # SimPy runs the steps, numpy solves the analytic model shown beside it; nothing else
    assert _imported("simulate", str(SEED), "--duration", "2s") == {"simpy", "numpy"}
