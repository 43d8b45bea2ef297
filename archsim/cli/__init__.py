"""The ``archsim`` command line: one Typer app, one module per command group."""

from archsim.cli.app import app, main

__all__ = ["app", "main"]
