"""On PostgreSQL a deep page of the whole library is read from a range of the sort's
index whose position ``order_marks`` knows (migration 0022), not by an OFFSET walk. The
ranges' counts are kept by trigger through every write that adds, removes or re-keys an
image, and re-cut by the housekeeping; every page stays exactly the one ``Sort.key``
defines, however the ranges are cut or have grown since."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text

from imageshelf.app.library import Library, Sort
from imageshelf.app.library.sql import listing, order_marks
from tests.conftest import image_bytes

NAMES = ["b.png", "B.png", "a.png", "A.png", "é.png", "Z.png", "z.png", "_.png", "10.png"]
# ranges of 3 images: every page past the third image from either end is read from them
SPACING = 3


def _add(lib: Library, n: int) -> None:
    for i in range(n):
        name = NAMES[i % len(NAMES)]
        prepared = lib.prepare(io.BytesIO(image_bytes("PNG", color=(i, 9, 3))), name)
        lib.commit(prepared, folder="f" if i % 3 else None)


def _set_some_taken(lib: Library) -> None:
    """Dates taken on some images (others stay undated), some equal: ties."""
    with lib.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE images SET taken_at = 1700000000000000 + (pk % 4) * 1000000 "
                "WHERE pk % 3 <> 0"
            )
        )


def _marks_agree(lib: Library) -> None:
    """Each range holds exactly the images whose lead key is from its key to the next."""
    keys = {
        "created": ("created_at", "lo"),
        "taken": ("coalesce(taken_at, created_at + -4611686018427387904)", "lo"),
        "name": ("nocase(filename)", "lo_name"),
    }
    with lib.engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM images")).scalar_one()
        for mark, (key, column) in keys.items():
            ranges = conn.execute(
                text(
                    f"SELECT {column}, n, lead({column}) OVER (ORDER BY lo, lo_name) "
                    "FROM order_marks WHERE sort = :s ORDER BY lo, lo_name"
                ),
                {"s": mark},
            ).all()
            assert ranges, mark
            assert sum(n for _lo, n, _hi in ranges) == total, mark
            for lo, n, hi in ranges:
                below = "" if hi is None else f" AND {key} < :hi"
                held = conn.execute(
                    text(f"SELECT count(*) FROM images WHERE {key} >= :lo{below}"),
                    {"lo": lo, "hi": hi},
                ).scalar_one()
                assert held == n, (mark, lo, hi)


def _rebuild(lib: Library, size: int = SPACING) -> None:
    with lib.engine.begin() as conn:
        conn.execute(text("SELECT order_marks_rebuild(:s)"), {"s": size})


def _every_page(lib: Library) -> None:
    records = lib.list_images(page_size=100).items
    for sort in Sort:
        expected = [r.id for r in sorted(records, key=sort.key())]
        for size in (1, 2, 5):
            walked = []
            for number in range(1, -(-len(records) // size) + 1):
                page = lib.list_images(sort=sort, page=number, page_size=size)
                assert page.total == len(records)
                walked += [r.id for r in page.items]
            assert walked == expected, (sort, size)


@pytest.fixture
def marked(pg_library: Library, monkeypatch: pytest.MonkeyPatch) -> Library:
    monkeypatch.setattr(order_marks, "SPACING", SPACING)
    return pg_library


def test_deep_pages_read_from_the_ranges_are_the_sorts_own(
    marked: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(marked, 25)
    _set_some_taken(marked)
    _rebuild(marked)
    _marks_agree(marked)
    used = []
    real = order_marks.page
    monkeypatch.setattr(order_marks, "page", lambda *a: used.append(a[1]) or real(*a))
    _every_page(marked)
    assert set(used) == set(Sort)  # the ranges were read, in every sort


def test_the_counts_follow_every_write_and_pages_stay_exact(marked: Library) -> None:
    _add(marked, 14)
    _rebuild(marked)
    _add(marked, 12)  # no re-cut: the ranges grow, the counts stay exact
    _set_some_taken(marked)
    _marks_agree(marked)
    _every_page(marked)
    records = marked.list_images(page_size=100).items
    for r in records[::4]:
        marked.delete(r.id)
    _marks_agree(marked)
    _every_page(marked)
    marked.trash.restore(records[4].id)
    with marked.engine.begin() as conn:  # a new name and a new date: re-keyed
        conn.execute(text("UPDATE images SET filename = 'Q' || filename WHERE pk % 2 = 0"))
        conn.execute(text("UPDATE images SET taken_at = NULL WHERE pk % 5 = 0"))
    _marks_agree(marked)
    _every_page(marked)


def test_the_housekeeping_re_cuts_grown_ranges(marked: Library) -> None:
    _rebuild(marked)  # an empty library: one range per sort
    _add(marked, 20)  # all in those ranges: 20 > REBUILD_AT * 3
    with marked.engine.connect() as conn:
        assert order_marks.unbalanced(conn)
    assert marked.wait_housekeeping(timeout=60)  # its chore re-cuts them
    with marked.engine.connect() as conn:
        assert not order_marks.unbalanced(conn)
        ranges = conn.execute(text("SELECT count(*) FROM order_marks")).scalar_one()
    assert ranges > 3
    _marks_agree(marked)
    _every_page(marked)


def test_a_filtered_page_is_not_read_from_the_ranges(marked: Library) -> None:
    assert not order_marks.applies(listing.Filter(folder="f"), Sort.NEWEST, 10, 5, 100)
    assert not order_marks.applies(listing.Filter(search="abc"), Sort.NEWEST, 10, 5, 100)
    assert not order_marks.applies(listing.Filter(), Sort.NEWEST, 2, 5, 100)  # near the start
    assert not order_marks.applies(listing.Filter(), Sort.NEWEST, 93, 5, 100)  # near the end
    assert order_marks.applies(listing.Filter(), Sort.NEWEST, 10, 5, 100)


@pytest.mark.parametrize("stale", [-2, 0, 2])
def test_a_page_counted_at_another_moment_is_the_walks_own(
    marked: Library, monkeypatch: pytest.MonkeyPatch, stale: int
) -> None:
    """``total`` comes from another statement (another snapshot): images added or removed
    in between shift a page from either approach alike, and a page the ranges find short
    is walked instead, as it always was."""
    _add(marked, 16)
    _rebuild(marked)
    total = marked.count() + stale
    for sort in Sort:
        for offset in range(0, total - 1, 2):
            with marked.engine.connect() as conn:
                ranged = listing.page(conn, listing.Filter(), offset, 5, sort, total)
            with monkeypatch.context() as m:
                m.setattr(order_marks, "applies", lambda *a: False)
                with marked.engine.connect() as conn:
                    walked = listing.page(conn, listing.Filter(), offset, 5, sort, total)
            assert [r.id for r in ranged] == [r.id for r in walked], (sort, offset)
