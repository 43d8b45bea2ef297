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
    # drawings in other styles: open-banking's gateway once forwarded 'accounts-api__…'
    *sorted((ROOT / "tests" / "model_shapes").glob("*.dot")),
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


def test_an_auth_service_serves_its_accounts_at_the_models_paths() -> None:
    # the template wrote "/accounts" itself; the paths are the model's (rule auth.accounts)
    arch = load(ROOT / "tests" / "model_shapes" / "open-banking.dot").architecture
    app = render(arch, source="open-banking.dot")["services/oauth_server/app.py"]
    ops = [o for o in arch.behaviour.operations_of("oauth-server") if o.rule == "auth.accounts"]
    assert len(ops) == 2 and all(f"@app.post({o.path!r}," in app for o in ops)
