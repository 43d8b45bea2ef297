"""What the API's functions share: the types of what they take, and reading a model, a profile
and a measured run from a path or as given."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from archsim.model import Architecture, load

__all__ = ["FilePath", "Measured", "Profile", "Source"]

#: What a function that reads a model takes: the model, or the path of its DOT file.
Source = Architecture | str | os.PathLike[str]
#: A file's path, as text or a path object.
FilePath = str | os.PathLike[str]
#: A profile: its YAML file, or the mapping itself (sections components, links, graph).
Profile = FilePath | Mapping[str, Any]
#: A measured run: the summary.json (or steps.json) of archsim loadtest, or its document.
Measured = FilePath | Mapping[str, Any]


def _arch(source: Source) -> Architecture:
    """The model of ``source``: itself, or loaded from its file (errors raised, warnings kept
    in ``load(path).diagnostics`` for who asks)."""
    if isinstance(source, Architecture):
        return source
    if isinstance(source, str | os.PathLike):
        return load(Path(source)).architecture
    raise TypeError(f"expected an Architecture or a path, got {type(source).__name__}")


def _profile(profile: Profile | None) -> tuple[Any, str]:
    """A profile's data and the name its errors carry: a mapping as given, or a YAML file."""
    if profile is None or isinstance(profile, Mapping):
        return profile, "profile"
    from archsim.model.profile import read_profile

    return read_profile(Path(profile)), str(profile)


def _prepared(source: Source, sets: Sequence[str], profile: Any) -> Architecture:
    """The model with ``--set`` overrides and a profile applied (as the commands do)."""
    from archsim.sim.scenario import prepare

    arch = _arch(source)
    if not sets and profile is None:
        return arch
    data, name = _profile(profile)
    return prepare(arch, list(sets), data, name)


def _measured(data: Measured) -> tuple[dict[str, Any], str]:
    """A measured run's document and the name its errors carry."""
    if isinstance(data, Mapping):
        return dict(data), "run"
    from archsim.loadtest.compare import read_measured

    return read_measured(Path(data)), str(data)
