"""``reverie_wire`` is what GIMP's Python imports beside the plug-in: standard library and pyzmq only, nothing of
the server; and no module of it, of the plug-in or of the server imports itself round a cycle."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WIRE = REPO / "server" / "reverie_wire"
# Modules that speak ZeroMQ; the rest are the standard library alone.
WITH_ZMQ = {"client", "keys"}
WIRE_MODULES = sorted(path.stem for path in WIRE.glob("*.py") if path.stem != "__init__")


@pytest.mark.parametrize("name", WIRE_MODULES)
def test_each_module_imports_nothing_of_the_server(name: str) -> None:
    banned = {"numpy", "tensorflow", "keras", "jax", "platformdirs", "reverie"}
    if name not in WITH_ZMQ:
        banned.add("zmq")
    code = f"import sys, reverie_wire.{name}; bad = {banned!r} & set(sys.modules); assert not bad, bad"
    # This checkout's server/ first on the path, ahead of any installed copy.
    env = {**os.environ, "PYTHONPATH": str(WIRE.parent)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(root: Path, name: str) -> bool:
    path = root / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def _runtime_imports(tree: ast.AST, type_checking: bool = False) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that runs, at the top or inside a function (where a cycle hides until the
    function is called); those under ``if TYPE_CHECKING:`` never run, and count only with ``type_checking``."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}:
            branches = [*node.body, *node.orelse] if type_checking else node.orelse
            found += _runtime_imports(ast.Module(branches, []), type_checking)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        found += _runtime_imports(node, type_checking)
    return found


def module_imports(root: Path, package: str, type_checking: bool = False) -> dict[str, set[str]]:
    """Each module of ``package`` under ``root`` (its subpackages too) and the modules of that package it
    imports, at its top level or in its functions; importing a module runs its packages' ``__init__`` too, except
    its own packages', which have begun before it runs (an ``__init__`` may import the package's modules)."""
    graph = {}
    for path in (root / package).rglob("*.py"):
        module = _module_name(root, path)
        imported = set()
        for node in _runtime_imports(ast.parse(path.read_text()), type_checking):
            if isinstance(node, ast.ImportFrom) and node.module and _inside(node.module, package):
                imported |= {f"{node.module}.{alias.name}" for alias in node.names}
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names if _inside(alias.name, package)}
        with_packages = {".".join(name.split(".")[:end]) for name in imported for end in range(1, name.count(".") + 2)}
        own = {".".join(module.split(".")[:end]) for end in range(1, module.count(".") + 1)}
        graph[module] = {name for name in with_packages if _is_module(root, name)} - {package, module} - own
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in ``graph``, or None."""
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> list[str] | None:
        if module in trail:
            return [*trail[trail.index(module) :], module]
        if module in done:
            return None
        for other in sorted(graph.get(module, ())):
            found = visit(other, [*trail, module])
            if found:
                return found
        done.add(module)
        return None

    for module in sorted(graph):
        found = visit(module, [])
        if found:
            return found
    return None


@pytest.mark.parametrize(
    ("root", "package"),
    [(REPO / "server", "reverie_wire"), (REPO / "server", "reverie"), (REPO / "plugin", "reverie_plugin")],
)
def test_no_import_cycle(root: Path, package: str) -> None:
    graph = module_imports(root, package)
    assert len(graph) > 3
    assert cycle(graph) is None


def test_no_engine_import_cycle_even_for_the_type_checker() -> None:
    """The engine's shared types live in one module (``backends.base``): no cycle, not even one only mypy walks."""
    graph = module_imports(REPO / "server", "reverie", type_checking=True)
    engine = {module: imported for module, imported in graph.items() if _inside(module, "reverie.engine")}
    assert len(engine) > 3
    assert cycle(engine) is None


def test_the_cycle_finder_finds_one() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_a_cycle_through_a_function_level_import_or_a_subpackage_is_seen(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def later():\n    from pkg.sub import a\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import d\n")
    (package / "d.py").write_text("from pkg import c\n")
    graph = module_imports(tmp_path, "pkg")
    assert cycle(graph) == ["pkg.b", "pkg.sub.a", "pkg.b"]
    assert "pkg.d" not in graph["pkg.c"]
    assert "pkg.d" in module_imports(tmp_path, "pkg", type_checking=True)["pkg.c"]
