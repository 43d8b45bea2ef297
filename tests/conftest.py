"""Shared fixtures: the seed architecture and small helpers to write DOT files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stack_run import embedded_env, started_stack

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


#: The shared seed stacks' hashing: lowered, as ``archsim up --hash-rounds 1000`` and
#: ``archsim loadtest --up`` do for a load test.
LOAD_TEST_ENV = {"ARCHSIM_PBKDF2_ROUNDS": "1000"}


@pytest.fixture(scope="session")
def seed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The seed's generated stack on its embedded parts, hashing lowered, for what only puts
    load on it (tests/test_loadtest_stack.py, the docs pages that borrow it): started at the
    first test that asks for it, stopped at the end of the session; (directory, state). One
    start instead of one per module or page (~10-25 s each on 2 cores)."""
    directory = tmp_path_factory.mktemp("seed-stack")
    with started_stack(SEED, directory, embedded_env(**LOAD_TEST_ENV)) as state:
        yield directory, state


@pytest.fixture(scope="session")
def seed_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The seed's stack for the order-consistency tests (tests/test_stack_deadlines.py,
    tests/test_stack_saga.py): only orders charge the payment sandbox (their ledger checks
    hold over the whole stack), unacknowledged events redelivered after 2 s. Each module signs
    up its own user, counts from what it found and leaves every process running."""
    directory = tmp_path_factory.mktemp("seed-shop")
    env = embedded_env(**LOAD_TEST_ENV, ARCHSIM_REDELIVER_S="2")
    with started_stack(SEED, directory, env) as state:
        yield directory, state


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
