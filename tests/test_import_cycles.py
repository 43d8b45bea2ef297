"""No import cycle inside a package of archsim (issue 11, item 6).

Every import counts: at module level, inside a function (a "lazy" import) and under
``if TYPE_CHECKING:``, because each of those is how a cycle used to be hidden. Imports are read
from the source with ``ast`` (nothing is imported), like grimp reads them: ``from pkg import
sub`` is an import of the submodule ``pkg.sub``, ``from pkg import name`` one of ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from archsim.model.digraph import groups_callees_first

ROOT = Path(__file__).resolve().parent.parent / "archsim"


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for every module of the package at ``root``."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imported(name: str, path: Path, node: ast.AST, modules: dict[str, Path]) -> list[str]:
    """The modules of the package that one import statement of module ``name`` imports."""
    if isinstance(node, ast.Import):
        wanted = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:  # relative: from the module's package, one level up per extra dot
            base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            source = ".".join([*base, *([node.module] if node.module else [])])
        else:
            source = node.module or ""
        wanted = [
            f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
            for alias in node.names
        ]
    else:
        return []
    out = []
    for target in wanted:
        while target and target not in modules:  # "import a.b.c" of a name inside a.b
            target = target.rpartition(".")[0]
        if target and target != name:
            out.append(target)
    return out


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the package's modules it imports (anywhere in its source)."""
    modules = module_names(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            graph[name].update(_imported(name, path, node, modules))
    return graph


def package_of(module: str) -> str:
    """``archsim.loadtest.tuning`` → ``archsim.loadtest``; a top-level module → ``archsim``."""
    return ".".join(module.split(".")[:2]) if module.count(".") >= 2 else module.split(".")[0]


def intra_package_cycles(root: Path) -> list[list[str]]:
    """Groups of modules of one package that import each other, round a cycle."""
    graph = import_graph(root)
    inside = {m: {t for t in ts if package_of(t) == package_of(m)} for m, ts in graph.items()}
    return [sorted(g) for g in groups_callees_first(inside) if len(g) > 1]


def test_no_package_of_archsim_has_an_import_cycle() -> None:
    cycles = intra_package_cycles(ROOT)
    assert not cycles, "modules that import each other (move the shared part down): " + "; ".join(
        " ↔ ".join(group) for group in cycles
    )


def test_the_check_finds_a_cycle_hidden_in_a_function_and_under_type_checking(
    tmp_path: Path,
) -> None:
    pkg = tmp_path / "archsim" / "part"
    pkg.mkdir(parents=True)
    (tmp_path / "archsim" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from archsim.part import b\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import C\n"
    )
    (pkg / "c.py").write_text("from archsim.part.a import f\n")
    (pkg / "d.py").write_text("from archsim.part import a\n")  # imports into the cycle only
    assert intra_package_cycles(tmp_path / "archsim") == [
        ["archsim.part.a", "archsim.part.b", "archsim.part.c"]
    ]
    (pkg / "c.py").write_text("X = 1\n")
    assert intra_package_cycles(tmp_path / "archsim") == []
