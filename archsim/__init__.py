"""archsim: architecture-as-code — check, draw, simulate, generate and load-test a system
described in Graphviz DOT."""

from importlib.metadata import PackageNotFoundError, version

from archsim.errors import (
    ArchsimError,
    Diagnostic,
    DotSyntaxError,
    InvalidModelError,
    Location,
    ScenarioError,
    Severity,
)
from archsim.model import (
    Architecture,
    Component,
    Kind,
    Link,
    LoadResult,
    Relation,
    load,
    read_architecture,
    to_dot,
    to_networkx,
)

try:
    __version__ = version("archsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

__all__ = [
    "Architecture",
    "ArchsimError",
    "Component",
    "Diagnostic",
    "DotSyntaxError",
    "InvalidModelError",
    "Kind",
    "Link",
    "LoadResult",
    "Location",
    "Relation",
    "ScenarioError",
    "Severity",
    "__version__",
    "load",
    "read_architecture",
    "to_dot",
    "to_networkx",
]
