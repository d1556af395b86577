"""Every module is imported by its one name, ``imageshelf.app...`` or
``imageshelf.server...`` (see ``imageshelf/__init__.py``). An ``import app`` or
``import server`` would load the same file a second time as another module — two copies
of every class and every module-level lock — and would break in an installed wheel,
which has no top-level ``app`` or ``server``."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FOLDERS = ("app", "server", "imageshelf", "tests", "benchmarks", "packaging", "scripts", "docs")
FORBIDDEN = {"app", "server"}


def _python_files() -> list[Path]:
    files = [REPO / "packaging" / "imageshelf.spec"]
    for folder in FOLDERS:
        top = REPO / folder
        if top.is_symlink():  # imageshelf/app and imageshelf/server: read once, as app/ and server/
            continue
        files += [p for p in top.rglob("*.py") if not any(q.is_symlink() for q in p.parents)]
    return files


def _absolute_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_nothing_imports_app_or_server_by_their_folder_names() -> None:
    wrong = [
        f"{path.relative_to(REPO)}:{line}: {name}"
        for path in _python_files()
        for line, name in _absolute_imports(ast.parse(path.read_text(encoding="utf-8")))
        if name.split(".")[0] in FORBIDDEN
    ]
    assert not wrong, "import these as imageshelf.app... / imageshelf.server...:\n" + "\n".join(
        wrong
    )


def test_the_links_point_at_the_top_level_folders() -> None:
    for name in ("app", "server"):
        link = REPO / "imageshelf" / name
        assert link.is_symlink() and link.resolve() == (REPO / name).resolve(), link
