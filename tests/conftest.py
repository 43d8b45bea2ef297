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
