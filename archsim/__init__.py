"""archsim: architecture-as-code — check, draw, simulate, generate and load-test a system
described in Graphviz DOT.

The public API is this module's ``__all__``: the model's types and errors, and the pipeline as
functions (``load``, ``validate``, ``inspect``, ``analyze``, ``simulate``, ``solve``, ``render``,
``generate``, ``up``, ``status``, ``down``, ``loadtest``, ``compare``, ``calibrate``, ``sweep``,
``plan``; see ``archsim.api`` and docs/api.md). tests/test_api.py fails when it drifts.
"""

import sys
import types
from importlib.metadata import PackageNotFoundError, version

from archsim.api import (
    FilePath,
    Generated,
    Measured,
    Profile,
    Source,
    analyze,
    calibrate,
    compare,
    down,
    generate,
    inspect,
    loadtest,
    plan,
    render,
    simulate,
    solve,
    status,
    sweep,
    up,
    validate,
)
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
    "FilePath",
    "Generated",
    "InvalidModelError",
    "Kind",
    "Link",
    "LoadResult",
    "Location",
    "Measured",
    "Profile",
    "Relation",
    "ScenarioError",
    "Severity",
    "Source",
    "__version__",
    "analyze",
    "calibrate",
    "compare",
    "down",
    "generate",
    "inspect",
    "load",
    "loadtest",
    "plan",
    "read_architecture",
    "render",
    "simulate",
    "solve",
    "status",
    "sweep",
    "to_dot",
    "to_networkx",
    "up",
    "validate",
]


class _Package(types.ModuleType):
    """``archsim.render`` is the function although ``archsim/render/`` is a package: the import
    system sets a package's attribute to each submodule it first imports, which would replace
    the function the moment the drawing code is loaded (lazily, by ``render()`` itself).
    Importing the subpackage eagerly instead would cost every command's start-up."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, types.ModuleType) and callable(self.__dict__.get(name)):
            return  # keep the API function; the submodule stays in sys.modules
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
