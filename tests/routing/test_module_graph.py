"""routing's modules use each other only through public names, and never in a cycle: a cycle
or a private import across modules is how one rule ends up in two places (issue 12)."""

from __future__ import annotations

import ast
from pathlib import Path

ROUTING = Path(__file__).resolve().parents[2] / "routing"


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = {
        ".".join(p.relative_to(ROUTING).with_suffix("").parts): p
        for p in ROUTING.rglob("*.py")
        if "migrations" not in p.parts
    }
    graph: dict[str, set[str]] = {}
    private: list[str] = []
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if node.module == "routing" or node.module.startswith("routing."):
                package = node.module.removeprefix("routing").removeprefix(".")
                for alias in node.names:
                    # `from routing.routes import tickets` names a module; otherwise a member.
                    as_module = f"{package}.{alias.name}".lstrip(".")
                    if as_module in modules:
                        deps.add(as_module)
                    else:
                        deps.add(package)
                        if alias.name.startswith("_"):
                            private.append(f"{name} imports {package}.{alias.name}")
        graph[name] = deps - {name, ""}
    return graph, private


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for dep in sorted(graph.get(node, ())):
            found = visit(dep, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def test_routing_modules_import_no_private_names_of_each_other() -> None:
    _, private = _graph()
    assert private == []


def test_routing_modules_import_each_other_without_a_cycle() -> None:
    graph, _ = _graph()
    assert graph["directory"] and "service" not in graph["directory"]
    assert _cycle(graph) is None
