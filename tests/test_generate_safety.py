"""`generate` is safe (issue 10, item 7): ids that would share one generated name are a
validate error naming both, and writing never follows a symbolic link out of the stack."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archsim.cli.app import app
from archsim.errors import ArchsimError
from archsim.model.loader import read_architecture

runner = CliRunner()


@pytest.mark.parametrize(
    ("first", "second", "name"),
    [
        ('"a/b"', "a_b", "a_b"),
        ("Evil", "evil", "evil"),
        ('"order-service"', "order_service", "order_service"),
    ],
)
def test_ids_with_one_generated_name_are_an_error_naming_both(first, second, name):
    text = (
        "digraph x {\n"
        f"  {first} [kind=service]\n  {second} [kind=service]\n  gw [kind=gateway]\n"
        f'  gw -> {first} [label="routes to"]\n  gw -> {second} [label="routes to"]\n}}\n'
    )
    with pytest.raises(ArchsimError) as info:
        read_architecture(text, "clash.dot")
    clash = [d for d in info.value.diagnostics if d.code == "name-clash"]
    assert len(clash) == 1
    message = clash[0].message
    assert first.strip('"') in message and second.strip('"') in message and f"'{name}'" in message
    assert clash[0].location.line == 3 and "rename" in clash[0].hint


def test_a_symlink_inside_the_output_is_refused_and_nothing_is_written(
    seed_path: Path, tmp_path: Path
) -> None:
    out, elsewhere = tmp_path / "shop", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "services")
    result = runner.invoke(app, ["generate", str(seed_path), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "symbolic link" in result.output and "Traceback" not in result.output
    assert list(elsewhere.iterdir()) == []  # nothing written through the link
    assert not (out / "stack.json").exists()  # nor anything else: refused before writing


def test_a_linked_file_is_not_overwritten(seed_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "shop"
    assert runner.invoke(app, ["generate", str(seed_path), "-o", str(out)]).exit_code == 0
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    (out / "README.md").unlink()
    os.symlink(precious, out / "README.md")
    result = runner.invoke(app, ["generate", str(seed_path), "-o", str(out), "--force"])
    assert result.exit_code == 2 and "symbolic link" in result.output
    assert precious.read_text() == "keep me"
