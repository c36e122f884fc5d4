"""``reverie_wire`` is what GIMP's Python imports beside the plug-in: standard library and pyzmq only, nothing of
the server, and no module of it or of the plug-in imports itself round a cycle."""

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


def module_imports(root: Path, package: str) -> dict[str, set[str]]:
    """Each module of ``package`` under ``root`` and the modules of that package it imports at its top level."""
    graph = {}
    for path in (root / package).glob("*.py"):
        module = f"{package}.{path.stem}"
        imported = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package):
                names = {f"{node.module}.{alias.name}" for alias in node.names}
                imported |= {name for name in names if (root / Path(*name.split("."))).with_suffix(".py").is_file()}
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names if alias.name.startswith(package)}
        graph[module] = imported - {package, module}
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


@pytest.mark.parametrize(("root", "package"), [(REPO / "server", "reverie_wire"), (REPO / "plugin", "reverie_plugin")])
def test_no_import_cycle(root: Path, package: str) -> None:
    graph = module_imports(root, package)
    assert len(graph) > 3
    assert cycle(graph) is None


def test_the_cycle_finder_finds_one() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
