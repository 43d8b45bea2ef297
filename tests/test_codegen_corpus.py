"""The code generated for every corpus architecture (and the test models) passes ruff with the
stack's own configuration: long names, HTML labels and many identifiers included."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from archsim.codegen import apply_writes, plan_writes, render
from archsim.model import load

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    *sorted((ROOT / "examples" / "architectures").glob("*.dot")),
    ROOT / "topology.dot",
    *sorted((ROOT / "tests" / "stack_models").glob("*.dot")),
    *sorted((ROOT / "tests" / "contract_models").glob("*.dot")),
]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_generated_code_passes_ruff(path: Path, tmp_path: Path) -> None:
    ruff = shutil.which("ruff") or pytest.skip("ruff is not installed")
    result = load(path)
    if result.architecture is None:
        pytest.skip("does not load yet")
    apply_writes(plan_writes(tmp_path, render(result.architecture, source=path.name)))
    lint = subprocess.run(
        [ruff, "check", "--no-cache", "."], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout[-2000:]
