"""``render`` is pure and complete; the generated code passes ruff and its own tests; the
writer never overwrites what the user owns and writes nothing when it refuses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archsim.codegen import FileAction, apply_writes, plan_writes, render
from archsim.codegen.generator import GENERATED_HEADER, is_user_owned
from archsim.errors import ArchsimError
from archsim.model import Architecture, load

LIBRARY = Path(__file__).resolve().parent / "stack_models" / "library.dot"


@pytest.fixture(scope="module")
def seed_files(seed: Architecture) -> dict[str, str]:
    return render(seed)


def test_render_is_deterministic_and_covers_every_application(
    seed: Architecture, seed_files: dict[str, str]
) -> None:
    assert render(seed) == seed_files
    apps = {c.id for c in seed.components if c.is_application}
    assert {p.split("/")[1] for p in seed_files if p.endswith("/app.py")} == apps
    for name in (
        "README.md",
        "pyproject.toml",
        "requirements.txt",
        "compose.yaml",
        "k8s/stack.yaml",
        "stack.json",
        "tests/test_services.py",
    ):
        assert name in seed_files
    assert all(f"services/{a}/Dockerfile" in seed_files for a in apps)
    assert "archsim_runtime/launcher.py" in seed_files
    # every module of the runtime is vendored: one left out breaks the stack's imports
    runtime = Path(__file__).resolve().parent.parent / "archsim" / "runtime"
    for module in runtime.glob("*.py"):
        assert f"archsim_runtime/{module.name}" in seed_files, module.name


def test_generated_files_are_marked_and_user_files_are_not(seed_files: dict[str, str]) -> None:
    marker = GENERATED_HEADER.split("{")[0]
    for path, text in seed_files.items():
        if path.endswith(".py") and not is_user_owned(path):
            assert text.startswith(marker), path
    assert is_user_owned("services/order_service/handlers.py")
    assert "DO NOT EDIT" not in seed_files["services/order_service/handlers.py"]


def test_generated_code_never_imports_archsim(seed_files: dict[str, str]) -> None:
    for path, text in seed_files.items():
        if path.endswith(".py"):
            assert "from archsim." not in text and "import archsim\n" not in text, path


def test_handlers_follow_the_model_steps_in_order(
    seed: Architecture, seed_files: dict[str, str]
) -> None:
    app = seed_files["services/order_service/app.py"]
    body = app[app.index("async def create_order") :]
    op = seed.behaviour.operation("order_service", "create_order")
    positions = [body.index(f"# step: {step.describe()}") for step in op.steps]
    assert positions == sorted(positions)
    # The write, and the publish after it, share one transaction: nothing half-written.
    assert body.index("rt.transaction(") < body.index("rt.publish(")


def test_manifest_orders_infrastructure_before_services(seed_files: dict[str, str]) -> None:
    manifest = json.loads(seed_files["stack.json"])
    stage = {p["id"]: p["stage"] for p in manifest["processes"]}
    assert stage["service_registry"] < stage["user_service"] < stage["order_service"]
    assert stage["auth_service"] < stage["api_gateway"] < stage["load_balancer"]
    assert manifest["front_door"] == "load_balancer"
    assert abs(sum(e["weight"] for e in manifest["entries"]) - 1) < 1e-9
    assert {p["role"] for p in manifest["processes"]} == {
        "service",
        "redis",
        "registry",
        "balancer",
        "smtp_sink",
        "sandbox",
    }


def test_generated_stack_passes_ruff_and_its_own_tests(tmp_path: Path) -> None:
    for source in (Path(__file__).resolve().parent.parent / "topology.dot", LIBRARY):
        out = tmp_path / source.stem
        apply_writes(plan_writes(out, render(load(source).architecture)))
        ruff = shutil.which("ruff") or pytest.skip("ruff is not installed")
        lint = subprocess.run([ruff, "check", "."], cwd=out, capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout + lint.stderr
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=out,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert tests.returncode == 0, tests.stdout[-3000:]


def test_regeneration_keeps_user_files_and_updates_generated_ones(
    tmp_path: Path, seed_files: dict[str, str]
) -> None:
    apply_writes(plan_writes(tmp_path, seed_files))
    handlers = tmp_path / "services/order_service/handlers.py"
    handlers.write_text(handlers.read_text() + "\n# my business rule\n")
    app = tmp_path / "services/order_service/app.py"
    app.write_text(app.read_text().replace("rt.compute()", "rt.compute()  # x", 1))
    plan = plan_writes(tmp_path, seed_files)
    assert plan.actions["services/order_service/handlers.py"] is FileAction.KEEP
    assert plan.actions["services/order_service/app.py"] is FileAction.UPDATE
    assert plan.actions["README.md"] is FileAction.SAME
    apply_writes(plan)
    assert handlers.read_text().endswith("# my business rule\n")
    assert app.read_text() == seed_files["services/order_service/app.py"]


def test_a_generated_file_taken_over_by_hand_is_a_conflict(
    tmp_path: Path, seed_files: dict[str, str]
) -> None:
    apply_writes(plan_writes(tmp_path, seed_files))
    app = tmp_path / "services/user_service/app.py"
    app.write_text("# my own app now\n")
    readme = tmp_path / "README.md"
    readme.write_text("mine\n")
    plan = plan_writes(tmp_path, seed_files)
    assert "services/user_service/app.py" in plan.conflicts
    with pytest.raises(ArchsimError, match="edited by hand"):
        apply_writes(plan)
    assert app.read_text() == "# my own app now\n"  # refused whole: nothing written
    assert readme.read_text() == "mine\n"
    apply_writes(plan, force=True)
    assert app.read_text() == seed_files["services/user_service/app.py"]
