"""A library made by an older version is brought up to date when opened, its data kept:
here 0004, which recomputes the stored search text so accents are ignored."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

from sqlalchemy import text

from imageshelf.app.library import Library
from imageshelf.app.library.layout import DB_FILE, META_DIR
from imageshelf.app.library.sql.engine import head_revision, make_engine, upgrade
from tests.conftest import image_bytes


def _library_at(root: Path, revision: str) -> None:
    (root / META_DIR).mkdir(parents=True)
    engine = make_engine(root / META_DIR / DB_FILE)
    upgrade(engine, revision)
    engine.dispose()


def test_0004_recomputes_search_text_of_existing_rows(tmp_path: Path) -> None:
    root = tmp_path / "old"
    _library_at(root, "0003")
    engine = make_engine(root / META_DIR / DB_FILE)
    # Rows as 0003's code wrote them: folded for case only, accents kept.
    old = {
        "café.jpg": "café.jpg\x1fcafé.jpg\x1fcrème brûlée",
        "plain.jpg": "plain.jpg\x1fplain.jpg\x1f",
    }
    with engine.begin() as conn:
        for i, (name, search) in enumerate(old.items()):
            conn.execute(
                text(
                    "INSERT INTO images (id, folder, filename, original_filename, "
                    "content_type, size, width, height, sha256, mtime_ns, alt_text, "
                    "search_text, created_at, updated_at) VALUES (:id, '', :n, :n, "
                    "'image/jpeg', 1, 1, 1, 'x', 0, :alt, :s, :t, :t)"
                ),
                {
                    "id": f"img_{i:026d}",
                    "n": name,
                    "alt": "Crème brûlée" if i == 0 else None,
                    "s": search,
                    "t": i,
                },
            )
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
    engine.dispose()

    with Library.open(root, reconcile=False) as lib:
        with lib.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                head_revision()
            )
            stored = dict(conn.execute(text("SELECT filename, search_text FROM images")).all())
        assert stored["café.jpg"] == "cafe.jpg\x1fcafe.jpg\x1fcreme brulee"
        assert stored["plain.jpg"] == old["plain.jpg"]
        for term in ("cafe", "café", unicodedata.normalize("NFD", "café"), "creme brulee"):
            assert [r.filename for r in lib.list_images(search=term).items] == ["café.jpg"]


def test_a_new_library_is_at_the_head_revision(library: Library) -> None:
    with library.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            head_revision()
        )
    library.add(io.BytesIO(image_bytes("JPEG")), "Ça va.jpg")
    assert library.list_images(search="ca va").total == 1
