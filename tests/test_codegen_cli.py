"""CliRunner tests of ``archsim generate``, ``up``, ``down``, ``status`` and ``logs``: exit codes
and output, including the bad-input paths (no stack is started here)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from archsim.cli.app import app

runner = CliRunner()


def test_generate_writes_a_stack_and_pretend_writes_nothing(
    seed_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "shop"
    pretend = runner.invoke(app, ["generate", str(seed_path), "-o", str(out), "--pretend"])
    assert pretend.exit_code == 0, pretend.output
    assert "would write" in pretend.output and not out.exists()
    result = runner.invoke(app, ["generate", str(seed_path), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["files"]["services/order_service/handlers.py"] == "create"
    assert (out / "stack.json").is_file()
    again = runner.invoke(app, ["generate", str(seed_path), "-o", str(out), "--json"])
    assert json.loads(again.output)["files"]["services/order_service/handlers.py"] == "keep"


def test_generate_applies_overrides(seed_path: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["generate", str(seed_path), "-o", str(tmp_path), "--set", "product_service.replicas=3"],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "stack.json").read_text())
    assert next(p for p in manifest["processes"] if p["id"] == "product_service")["replicas"] == 3


def test_generate_rejects_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dot"
    bad.write_text("digraph { a -> }")
    result = runner.invoke(app, ["generate", str(bad), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    missing = runner.invoke(app, ["generate", str(tmp_path / "nope.dot"), "-o", str(tmp_path)])
    assert missing.exit_code == 2


def test_up_status_down_logs_on_a_directory_without_a_stack(tmp_path: Path) -> None:
    up = runner.invoke(app, ["up", str(tmp_path)])
    assert up.exit_code == 2 and "not a generated stack" in up.output
    status = runner.invoke(app, ["status", str(tmp_path)])
    assert status.exit_code == 2 and "not a generated stack" in status.output
    down = runner.invoke(app, ["down", str(tmp_path)])
    assert down.exit_code == 0 and "nothing running" in down.output
    logs = runner.invoke(app, ["logs", "order_service", "-d", str(tmp_path)])
    assert logs.exit_code == 2 and "no logs" in logs.output


def test_up_rejects_bad_replicas(seed_path: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["generate", str(seed_path), "-o", str(tmp_path)])
    for value, message in (
        ("product_service", "SERVICE=N"),
        ("nosuch=2", "not a process"),
        ("cache=2", "one instance"),
    ):
        result = runner.invoke(app, ["up", str(tmp_path), "--replicas", value])
        assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / ".archsim" / "state.json").exists()


def test_every_stack_command_has_an_example() -> None:
    for command in ("generate", "up", "down", "status", "logs"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output
