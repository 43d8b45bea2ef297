"""Shared fixtures: the seed architecture and small helpers to write DOT files."""

from __future__ import annotations

from pathlib import Path

import pytest

from archsim.model import Architecture, load

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "topology.dot"


@pytest.fixture(scope="session")
def seed_path() -> Path:
    """Path of the seed architecture (one statement per line)."""
    return SEED


@pytest.fixture(scope="session")
def seed() -> Architecture:
    """The seed architecture, loaded once per test session."""
    return load(SEED).architecture


# Modules whose tests start generated stacks (real processes on 127.0.0.1) or put load on them:
# their tests are marked ``slow`` (as are the docs pages with a ``slow`` block, tests/test_docs.py),
# so ``python3 -m pytest -q -m "not slow"`` is a quick run of the rest. CI runs everything.
_SLOW_MODULES = (
    "test_accounts.py",
    "test_consumer_tokens.py",
    "test_dashboard_browser.py",
    "test_launcher_combinations.py",
    "test_loadtest_stack.py",
    "test_traces_stack.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of the stack-starting modules ``slow``."""
    for item in items:
        name = item.path.name
        if name in _SLOW_MODULES or name.startswith("test_stack_"):
            item.add_marker(pytest.mark.slow)
