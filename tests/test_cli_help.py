"""Every command has --help with an example, and --json where its output is data (issue 14);
a new command without them fails here."""

from __future__ import annotations

import typer.main
from typer.testing import CliRunner

from archsim.cli.app import app

# Output that is not data: schema prints JSON already, dashboard serves a page until stopped.
NO_JSON = {"schema", "dashboard"}


def test_every_command_has_an_example_and_json():
    commands = typer.main.get_command(app).commands
    assert len(commands) >= 15
    for name, command in commands.items():
        assert "Example: archsim " in (command.help or ""), name
        options = {o for p in command.params for o in p.opts}
        assert ("--json" in options) or name in NO_JSON, name


def test_help_shows_the_example():
    result = CliRunner().invoke(app, ["render", "--help"])
    assert result.exit_code == 0 and "Example: archsim render" in result.output
