"""On PostgreSQL the search reads ``image_search``, a narrow copy of ``images.search_text``
that carries the trigram index (migration 0016). Its trigger keeps it equal to the images'
text through every write: add, new alt text, a move to another folder, delete, restore
from the trash; and the search answers from it."""

from __future__ import annotations

import io

from sqlalchemy import text

from imageshelf.app.library import Library
from tests.conftest import image_bytes

JPEG = image_bytes("JPEG")


def _copy_matches(lib: Library) -> None:
    with lib.engine.connect() as conn:
        images = dict(conn.execute(text("SELECT pk, search_text FROM images")).all())
        copy = dict(conn.execute(text("SELECT pk, search_text FROM image_search")).all())
    assert copy == images


def _found(lib: Library, term: str) -> list[str]:
    page = lib.list_images(search=term)
    assert page.total == len(page.items)
    return sorted(r.filename for r in page.items)


def test_the_search_copy_follows_every_write(pg_library: Library) -> None:
    first = pg_library.add(io.BytesIO(JPEG), "harbour.jpg")
    second = pg_library.add(io.BytesIO(JPEG), "meadow.jpg")
    _copy_matches(pg_library)
    assert _found(pg_library, "harbour") == ["harbour.jpg"]

    pg_library.update(second.id, alt_text="A lighthouse over the harbour")
    _copy_matches(pg_library)
    assert _found(pg_library, "lighthouse") == ["meadow.jpg"]
    assert _found(pg_library, "harbour") == ["harbour.jpg", "meadow.jpg"]

    pg_library.update(first.id, folder="coast")  # a move: same text, the copy unchanged
    _copy_matches(pg_library)
    assert _found(pg_library, "harbour") == ["harbour.jpg", "meadow.jpg"]

    pg_library.delete(first.id)
    _copy_matches(pg_library)
    assert _found(pg_library, "harbour") == ["meadow.jpg"]

    pg_library.trash.restore(first.id)
    _copy_matches(pg_library)
    assert _found(pg_library, "harbour") == ["harbour.jpg", "meadow.jpg"]
