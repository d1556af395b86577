"""The core's modules import each other in one direction only: no loop, not even one
hidden in a function or behind ``TYPE_CHECKING``. A loop is how ``library``,
``reconcile`` and ``watcher`` once came to drive each other's privates."""

from __future__ import annotations

import ast
from pathlib import Path

import imageshelf.app.library

PACKAGE = "imageshelf.app.library"
ROOT = Path(imageshelf.app.library.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        if rel.parts[0] == "migrations":
            continue  # run by Alembic, never imported by the core
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        out[".".join((PACKAGE, *parts))] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module of the package that ``name`` imports, wherever the import stands."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in modules:
                    found.add(sub)
                elif target in modules:
                    found.add(target)
    found.discard(name)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_loop_inside_the_core() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert graph[f"{PACKAGE}.library"] >= {f"{PACKAGE}.reconcile", f"{PACKAGE}.watcher"}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_checker_finds_a_loop() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_reconcile_and_watcher_use_no_private_of_library() -> None:
    for name in ("reconcile.py", "watcher.py", "file_steps.py", "intake.py"):
        source = (ROOT / name).read_text()
        assert "lib._" not in source and "library._" not in source, name
        assert "from .library" not in source, name
