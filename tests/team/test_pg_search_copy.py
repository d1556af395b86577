"""On PostgreSQL the search reads ``image_search``, a narrow copy of ``images.search_text``
that carries the trigram index (migration 0016). Its trigger keeps it equal to the images'
text through every write: add, new alt text, a move to another folder, delete, restore
from the trash; and the search answers from it."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text

from imageshelf.app.library import Library
from imageshelf.app.library.sql import listing, pg_search
from tests.conftest import image_bytes
from tests.team.statements import statements_on_this_thread

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


@pytest.mark.parametrize("cap", [1, 500])
def test_a_common_term_is_counted_once_and_paged_right(
    pg_library: Library, monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    """Over ``RESOLVE_CAP`` matches (made small here) a whole-library search is counted
    by ``resolve`` (``matches_count``) and not listed; a folder's share is counted in
    the folder. Under it the matches are listed. Totals and pages are the same."""
    monkeypatch.setattr(listing, "RESOLVE_CAP", cap)
    for n, folder in enumerate(("a", "a", "b", None)):
        pg_library.add(io.BytesIO(JPEG), f"river {n}.jpg", folder=folder)
    pg_library.add(io.BytesIO(JPEG), "lake.jpg")
    assert pg_library.list_images(search="river").total == 4
    second = pg_library.list_images(search="river", page=2, page_size=3)
    assert (second.total, [r.filename for r in second.items]) == (4, ["river 0.jpg"])
    assert pg_library.list_images(search="river", folder="a").total == 2
    walk = pg_library.list_by_cursor(search="river", limit=3)
    assert walk.total == 4 and walk.has_next_page
    rest = pg_library.list_by_cursor(search="river", limit=3, after=walk.end_cursor)
    assert [r.filename for r in rest.items] == ["river 0.jpg"]


@pytest.mark.parametrize("cap", [1, 500])
def test_a_search_page_reads_the_library_count_with_the_term(
    pg_library: Library, monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    """A whole-library search's first page is two statements: the term's count (with
    the library's number of images beside it, which the page's plan weighs the matches
    against) and the page; listed (500) or counted only (1), the same answer."""
    monkeypatch.setattr(listing, "RESOLVE_CAP", cap)
    for n, folder in enumerate(("a", "b", None)):
        pg_library.add(io.BytesIO(JPEG), f"river {n}.jpg", folder=folder)
    for n in range(3):
        pg_library.add(io.BytesIO(JPEG), f"lake {n}.jpg", folder="a")
    with statements_on_this_thread(pg_library.engine) as counted:
        page = pg_library.list_images(search="river", page_size=2)
    with pg_library.engine.connect() as conn:
        found = pg_search.count_and_list(conn, "river", cap)
    assert (page.total, [r.filename for r in page.items]) == (3, ["river 2.jpg", "river 1.jpg"])
    assert len(counted) == 2, counted
    assert "folder_counts" in counted[0] and "folder_counts" not in counted[1]
    assert (found.found, found.library) == (3, 6)
    assert (found.listed is None) == (cap < 3)
