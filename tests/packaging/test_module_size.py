"""Small modules whose names explain them (STYLE.md; issue #12): no Python module in
``app/`` or ``server/`` is longer than ``MAX_LINES``. One that grows past it is split
along a line its new names can say (as ``trash.py`` → ``trash_steps.py``), not trimmed."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 450


def _line_counts() -> dict[str, int]:
    return {
        str(path.relative_to(REPO)): len(path.read_text(encoding="utf-8").splitlines())
        for folder in ("app", "server")
        for path in sorted((REPO / folder).rglob("*.py"))
    }


def test_no_module_in_app_or_server_is_over_the_limit() -> None:
    long = {name: lines for name, lines in _line_counts().items() if lines > MAX_LINES}
    assert long == {}, f"split these (more than {MAX_LINES} lines): {long}"


def test_the_check_sees_every_module() -> None:
    found = [p.name for p in (REPO / "app" / "library").rglob("*.py")]
    assert "trash.py" in found and "trash_steps.py" in found
