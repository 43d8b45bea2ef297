"""``archsim analyze`` as a user runs it: tables, JSON, exit codes, --blast, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from archsim.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "topology.dot")
CORPUS = Path(__file__).parent / "analysis_corpus"


def test_table_on_the_seed_exits_0_below_fail_on() -> None:
    result = runner.invoke(app, ["analyze", SEED])
    assert result.exit_code == 0, result.output
    assert "single-point-of-failure" in result.output
    assert "critical path" in result.output
    assert "findings:" in result.output


def test_fail_on_warning_exits_1() -> None:
    assert runner.invoke(app, ["analyze", SEED, "--fail-on", "warning"]).exit_code == 1
    assert runner.invoke(app, ["analyze", SEED, "--fail-on", "never"]).exit_code == 0
    clean = str(CORPUS / "clean.dot")
    assert runner.invoke(app, ["analyze", clean, "--fail-on", "info"]).exit_code == 0


def test_error_rule_fails_by_default() -> None:
    result = runner.invoke(app, ["analyze", str(CORPUS / "sync-cycle.dot")])
    assert result.exit_code == 1
    assert "sync-cycle" in result.output


def test_json_schema() -> None:
    result = runner.invoke(app, ["analyze", SEED, "--json"])
    data = json.loads(result.stdout)
    assert data["schema"] == "archsim.analysis/1"
    finding = data["findings"][0]
    assert set(finding) == {"rule", "severity", "components", "message", "why", "fix"}
    assert set(data["blast_radius"]["order_db"]["fails"]) == {
        "GET /api/orders/{id}", "GET /api/orders", "POST /api/orders"
    }  # fmt: skip
    assert data["critical_paths"][0]["path"][0]["component"] == "load_balancer"


def test_blast_table_and_json() -> None:
    result = runner.invoke(app, ["analyze", SEED, "--blast", "message_broker"])
    assert result.exit_code == 0
    assert "POST /api/orders" in result.output and "fails" in result.output
    data = json.loads(runner.invoke(app, ["analyze", SEED, "--blast", "cache", "--json"]).stdout)
    assert list(data["blast_radius"]) == ["cache"]
    assert data["blast_radius"]["cache"]["fails"] == []


def test_disable_severity_and_list_rules() -> None:
    args = ["analyze", str(CORPUS / "sync-cycle.dot")]
    assert runner.invoke(app, [*args, "--disable", "sync-cycle"]).exit_code == 0
    assert runner.invoke(app, [*args, "--severity", "sync-cycle=info"]).exit_code == 0
    listed = runner.invoke(app, ["analyze", "--list-rules", "--json"])
    assert {r["rule"] for r in json.loads(listed.stdout)} >= {"sync-cycle", "hub-like"}


def test_bad_input_is_a_clear_error_without_traceback(tmp_path: Path) -> None:
    cases = [
        (["analyze", SEED, "--blast", "order_dbb"], "did you mean 'order_db'?"),
        (["analyze", SEED, "--disable", "hub-lik"], "did you mean 'hub-like'?"),
        (["analyze", SEED, "--severity", "hub-like=fatal"], "unknown severity"),
        (["analyze", str(tmp_path / "missing.dot")], "missing.dot"),
    ]
    for args, text in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert text in result.output
        assert "Traceback" not in result.output
    assert runner.invoke(app, ["analyze"]).exit_code == 2
