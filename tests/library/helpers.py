"""Plain helpers for the library tests (the fixtures live in ``conftest.py``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sqlalchemy import text

from imageshelf.app.library import Library
from imageshelf.app.library.layout import META_DIR
from imageshelf.app.library.records import ImageRecord


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def library_files(root: Path) -> list[str]:
    """Every file and folder under the library, outside ``.imageshelf``, as relative paths."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if rel.parts[:1] == (META_DIR,):
            continue
        found += [str(rel / d) for d in dirnames if not (rel == Path(".") and d == META_DIR)]
        found += [str(rel / f) for f in filenames]
    return sorted(p.removeprefix("./") for p in found)


def row_count(lib: Library) -> int:
    with lib.engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM images")).scalar_one()


def tmp_leftovers(lib: Library) -> list[str]:
    return sorted(p.name for p in lib.tmp_dir.iterdir())


def on_disk(lib: Library, record: ImageRecord) -> Path:
    return lib.path_of(record.folder, record.filename)


def thumbnail_files(lib: Library) -> list[str]:
    return sorted(p.name for p in (lib.meta / "thumbs").rglob("*") if p.is_file())
