"""The model commands as a user runs them: exit codes, messages, files written or not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from archsim import __version__
from archsim.cli import app

runner = CliRunner()
SEED_ONE_LINE = (
    Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_39e9822b3a60f704.txt"
)


def _one_line_seed(tmp_path: Path, seed_path: Path) -> Path:
    """The seed as the user gave it: everything on one line."""
    target = tmp_path / "seed.dot"
    if SEED_ONE_LINE.exists():
        shutil.copy(SEED_ONE_LINE, target)
    else:  # outside this workplace: rebuild it from topology.dot
        lines = [ln.strip() for ln in seed_path.read_text().splitlines()]
        target.write_text(" ".join(lines))
    return target


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"archsim {__version__}"


def test_validate_seed_ok(seed_path):
    result = runner.invoke(app, ["validate", str(seed_path)])
    assert result.exit_code == 0, result.output
    assert "17 components, 29 links" in result.output


def test_validate_reports_all_errors_with_positions_and_exit_2(tmp_path):
    bad = tmp_path / "bad.dot"
    bad.write_text('digraph g {\n a [workers=0];\n a -> b [label="cals"];\n b;\n}\n')
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2:" in result.output and f"{bad}:3:" in result.output
    assert "did you mean 'calls'?" in result.output
    assert "Traceback" not in result.output


def test_validate_json_lists_each_file(tmp_path, seed_path):
    missing = tmp_path / "missing.dot"
    result = runner.invoke(app, ["validate", "--json", str(seed_path), str(missing)])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert [r["ok"] for r in report] == [True, False]
    assert report[1]["diagnostics"][0]["code"] == "no-file"


def test_validate_refuses_non_utf8_with_position(tmp_path):
    bad = tmp_path / "latin1.dot"
    bad.write_bytes('digraph g { a [label="Caf\xe9"]; }'.encode("latin-1"))
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2 and "UTF-8" in result.output and ":1:" in result.output


def test_inspect_tables_and_json(seed_path):
    result = runner.invoke(app, ["inspect", str(seed_path)])
    assert result.exit_code == 0, result.output
    for text in ("17 components", "29 links", "create_order", "OrderPlaced", "entry points"):
        assert text in result.output
    data = json.loads(runner.invoke(app, ["inspect", "--json", str(seed_path)]).stdout)
    assert data["schema_version"] == 1 and len(data["components"]) == 17
    entries = json.loads(
        runner.invoke(app, ["inspect", "--json", "--section", "entries", str(seed_path)]).stdout
    )
    assert abs(sum(e["weight"] for e in entries) - 1) < 1e-9


def test_fmt_fix_repairs_the_one_line_seed_and_check_passes_after(tmp_path, seed_path):
    target = _one_line_seed(tmp_path, seed_path)
    before = target.read_bytes()
    plain = runner.invoke(app, ["fmt", str(target)])
    assert plain.exit_code == 2 and "swallows the rest of the file" in plain.output
    assert target.read_bytes() == before  # nothing written on error
    fixed = runner.invoke(app, ["fmt", "--fix", str(target)])
    assert fixed.exit_code == 0, fixed.output
    assert "fixed" in fixed.output
    check = runner.invoke(app, ["fmt", "--check", str(target)])
    assert check.exit_code == 0, check.output
    assert runner.invoke(app, ["validate", str(target)]).exit_code == 0


def test_fmt_check_flags_unformatted_and_stdout_prints(tmp_path):
    messy = tmp_path / "m.dot"
    messy.write_text('digraph g { a -> b [label="calls"]; a [workers=2] }')
    check = runner.invoke(app, ["fmt", "--check", str(messy)])
    assert check.exit_code == 1 and "would be reformatted" in check.output
    out = runner.invoke(app, ["fmt", "--stdout", str(messy)])
    assert out.exit_code == 0 and "a -> b [label=calls];" in out.stdout


def test_schema_is_json_schema_of_the_model():
    result = runner.invoke(app, ["schema"])
    data = json.loads(result.stdout)
    assert data["title"] == "archsim architecture"
    assert {"components", "links", "behaviour"} <= set(data["properties"])


def test_every_command_has_help_with_an_example():
    for command in ("validate", "inspect", "fmt", "schema"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output


def test_inspect_says_there_is_no_background_work_in_a_line(tmp_path):
    model = tmp_path / "plain.dot"
    model.write_text('digraph g {\n gw -> orders [label="routes to"];\n orders -> db;\n}\n')
    result = runner.invoke(app, ["inspect", str(model)])
    assert result.exit_code == 0, result.output
    assert "start-up and background work (not per request): none" in result.output
    assert "┃ component ┃ at start-up" not in result.output  # no empty table


def test_inspect_shows_the_shared_host_and_where_it_saturates(tmp_path):
    model = tmp_path / "hosted.dot"
    model.write_text(
        'digraph g {\n host_cores=2; host_cpu="2ms"; host_cpu_at=500; host_cpu_power=0.8;\n'
        ' gw -> orders [label="routes to"];\n orders -> db;\n}\n'
    )
    result = runner.invoke(app, ["inspect", str(model), "--section", "components"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    # 2 cores = 2 ms · 500 · (X / 500)^0.8 → X = 500 · 2^(1/0.8) ≈ 1189 req/s
    assert "shared host: 2 cores, 2ms CPU per request at 500 req/s" in text
    assert "rate^0.8" in text and "saturates near 1189 req/s" in text
    model.write_text('digraph g {\n gw -> orders [label="routes to"];\n orders -> db;\n}\n')
    plain = runner.invoke(app, ["inspect", str(model), "--section", "components"])
    assert plain.exit_code == 0 and "shared host" not in plain.output
