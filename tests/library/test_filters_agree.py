"""``Filter.matches`` (what the grid uses to keep its rows current) and the SQL of
``sql/listing.py`` (what pages read) keep exactly the same images for the Part 2 filters
— ``ids`` and ``meta.KEY=VALUE`` alone and with the others — and a keyset walk in every
sort gives the order ``Sort.key`` defines."""

from __future__ import annotations

import io
import itertools

import pytest

from imageshelf.app.library import ImageRecord, Library, Sort
from imageshelf.app.library.custom_metadata import MetaFilter
from imageshelf.app.library.filters import ALL_FOLDERS, Filter
from imageshelf.app.library.folder_limit import FolderLimit
from imageshelf.app.library.sql import keyset, listing, meta_listing
from tests.conftest import image_bytes

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

VALUES: list[object] = ["12", 12, 12.0, 1.5, "1.5", True, False, "true", "", "Café", -3, 2**60]


@pytest.fixture
def images(library: Library) -> list[ImageRecord]:
    made = []
    for n, (value, folder) in enumerate(itertools.product(VALUES, [None, "a", "a/b"])):
        meta = {"v": value, "n": n % 3} if n % 4 else {}
        prepared = library.prepare(
            io.BytesIO(image_bytes("PNG", color=(n, 3, 9))), f"img{n % 7}.png"
        )
        made.append(
            library.commit(
                prepared, folder=folder, custom_metadata=meta, alt_text=None if n % 5 else "x"
            )
        )
    return made


TEXTS = [
    "12",
    "12.0",
    "1.5",
    "15e-1",
    "true",
    "false",
    "",
    "Café",
    "cafe",
    "-3",
    "1152921504606846976",
]


@pytest.mark.parametrize("cap", [0, meta_listing.META_RESOLVE_CAP])
def test_matches_and_sql_keep_the_same_images(
    library: Library, images: list[ImageRecord], cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # cap 0: every meta filter is tested row by row (as a common value is at 100,000
    # images); the default: resolved to the list of its few images first.
    monkeypatch.setattr(meta_listing, "META_RESOLVE_CAP", cap)
    some_ids = tuple(r.id for r in images[::3])
    filters = [Filter(meta=(MetaFilter.parse("v", t),)) for t in TEXTS]
    filters += [Filter(meta=(MetaFilter.parse("v", t), MetaFilter.parse("n", "1"))) for t in TEXTS]
    filters += [
        Filter(ids=some_ids),
        Filter(ids=some_ids, folder="a", recursive=True),
        Filter(ids=some_ids, undescribed=True, meta=(MetaFilter.parse("n", "2"),)),
        Filter(folder=None, meta=(MetaFilter.parse("v", "12"),), search="img1"),
        Filter(folder=ALL_FOLDERS, ids=()),
    ]
    with library.core.read() as conn:
        for flt in filters:
            resolved = listing.resolve(conn, flt)
            total = listing.count(conn, resolved)
            sql = {r.id for r in listing.page(conn, resolved, 0, 1000, total=total)}
            assert sql == {r.id for r in images if flt.matches(r)}, flt
            assert total == len(sql), flt


@pytest.mark.parametrize("sort", list(Sort))
def test_a_keyset_walk_is_the_sort_order(library: Library, images: list, sort: Sort) -> None:
    flt = Filter(meta=(MetaFilter.parse("n", "1"),))
    walked, after = [], None
    while True:
        page = library.list_by_cursor(sort=sort, meta={"n": "1"}, limit=4, after=after)
        walked += page.items
        if not page.has_next_page:
            break
        after = page.end_cursor
    expected = sorted((r for r in images if flt.matches(r)), key=sort.key())
    assert [r.id for r in walked] == [r.id for r in expected]


def test_every_sort_has_a_keyset() -> None:
    assert set(keyset.KEYS) == set(Sort) == set(listing._ORDER)


# Filters read from image_metadata's own order (sql/meta_listing.py, migration 0014):
# alone, with two readings of one value (text "12" and number 12: two ranges merged),
# with another meta filter, a folder, a subtree, an API key's folders, undescribed and a
# search (listed exactly, and tested on each entry).
META_FILTERS = [
    Filter(meta=(MetaFilter.parse("v", "12"),)),
    Filter(meta=(MetaFilter.parse("n", "1"),)),
    Filter(meta=(MetaFilter.parse("v", "true"), MetaFilter.parse("n", "2"))),
    Filter(meta=(MetaFilter.parse("n", "0"),), folder="a"),
    Filter(meta=(MetaFilter.parse("n", "0"),), folder=None),
    Filter(meta=(MetaFilter.parse("n", "2"),), folder="a", recursive=True),
    Filter(meta=(MetaFilter.parse("n", "1"),), limit=FolderLimit(("a/b",))),
    Filter(meta=(MetaFilter.parse("n", "1"),), undescribed=True),
    Filter(meta=(MetaFilter.parse("n", "1"),), search="img1"),
    Filter(meta=(MetaFilter.parse("n", "1"),), search="g"),
    Filter(meta=(MetaFilter.parse("v", "nothing"),)),
    # A search with two meta filters, and with a value read two ways (two lists merged
    # into one before the term's matches are intersected with them: search_among).
    Filter(meta=(MetaFilter.parse("v", "true"), MetaFilter.parse("n", "2")), search="img"),
    Filter(meta=(MetaFilter.parse("v", "12"),), search="img", folder="a", recursive=True),
    Filter(meta=(MetaFilter.parse("n", "0"),), search="img2", undescribed=True),
]


@pytest.mark.parametrize(
    ("cap", "among"),
    [
        (0, 0),
        (0, listing.SEARCH_AMONG_CAP),
        (meta_listing.META_RESOLVE_CAP, listing.SEARCH_AMONG_CAP),
    ],
)
@pytest.mark.parametrize("sort", list(Sort))
def test_meta_pages_from_image_metadata_are_the_rule_at_every_offset(
    library: Library,
    images: list[ImageRecord],
    cap: int,
    among: int,
    sort: Sort,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # cap 0: nothing resolved, a search term included (among 0: its trigram index is
    # asked on each entry; else the images a common term and common values have in
    # common are listed first, meta_listing.search_among).
    monkeypatch.setattr(meta_listing, "META_RESOLVE_CAP", cap)
    monkeypatch.setattr(listing, "RESOLVE_CAP", min(cap, listing.RESOLVE_CAP))
    monkeypatch.setattr(listing, "SEARCH_AMONG_CAP", among)
    sliced = 0
    with library.core.read() as conn:
        for flt in META_FILTERS:
            assert meta_listing.applies(flt, sort)
            want = [r.id for r in sorted((r for r in images if flt.matches(r)), key=sort.key())]
            resolved = listing.resolve(conn, flt)
            if flt == META_FILTERS[0]:  # "12" and 12 both held: two ranges, merged
                assert resolved.meta_kinds == ("text", "number")
            total = listing.count(conn, resolved)
            assert total == len(want), flt
            for size in (1, 3):
                # Every page, those past the middle read backwards from the far end.
                for offset in range(0, total + 1):
                    got = listing.page(conn, resolved, offset, size, sort, total=total)
                    assert [r.id for r in got] == want[offset : offset + size], (flt, offset)
            # Resolved for a page-number page in this sort: the images a term and common
            # values have in common listed in its order, a page a slice of them.
            for_pages = listing.resolve(conn, flt, sort)
            if for_pages.matches_sort is not None:
                assert for_pages.matches_sort is sort and for_pages.matches_among_meta
                sliced += 1
            assert listing.count(conn, for_pages) == total, flt
            for offset in range(0, total + 1):
                got = listing.page(conn, for_pages, offset, 2, sort, total=total)
                assert [r.id for r in got] == want[offset : offset + 2], (flt, offset, sort)
            # Cursor walks, forwards from the start and backwards from the last row.
            walked: list[str] = []
            at = None
            while True:
                rows = keyset.rows_from(conn, resolved, sort, at, 2, backwards=False, total=total)
                walked += [r.id for r in rows]
                if not rows:
                    break
                at = keyset.position(sort, rows[-1])
                # Inclusive: the row at the position counts.
                assert keyset.any_from(conn, resolved, sort, at, backwards=False, total=total)
            assert walked == want, flt
            back: list[str] = []
            at = None
            while True:
                rows = keyset.rows_from(conn, resolved, sort, at, 2, backwards=True, total=total)
                if not rows:
                    break
                back = [r.id for r in rows] + back
                at = keyset.position(sort, rows[0])
            assert back == want, flt
    if cap == 0 and among and library.engine.dialect.name == "sqlite":
        assert sliced == 4  # the four searches of 3+ characters: listed in the sort's order


@pytest.mark.parametrize("sort", list(Sort))
def test_meta_cursor_pages_say_where_more_are(
    library: Library, images: list[ImageRecord], sort: Sort
) -> None:
    for flt in META_FILTERS:
        args = {
            "folder": flt.folder,
            "search": flt.search,
            "undescribed": flt.undescribed,
            "recursive": flt.recursive,
            "meta": {m.key: m.text for m in flt.meta},
            "within": flt.limit,
            "sort": sort,
            "limit": 2,
        }
        want = [r.id for r in sorted((r for r in images if flt.matches(r)), key=sort.key())]
        walked: list[str] = []
        page = library.list_by_cursor(**args)  # type: ignore[arg-type]
        while True:
            assert page.total == len(want), flt
            assert page.has_previous_page == bool(walked), flt
            walked += [r.id for r in page.items]
            assert page.has_next_page == (len(walked) < len(want)), flt
            if not page.has_next_page:
                break
            page = library.list_by_cursor(**args, after=page.end_cursor)  # type: ignore[arg-type]
        assert walked == want, flt
        # And back from the last page's first row.
        if len(want) > 2:
            back = library.list_by_cursor(**args, before=page.start_cursor)  # type: ignore[arg-type]
            start = len(walked) - len(page.items)
            assert [r.id for r in back.items] == want[max(0, start - 2) : start], flt
            assert back.has_next_page and back.has_previous_page == (start > 2), flt


@pytest.mark.parametrize("sort", list(Sort))
@pytest.mark.parametrize("cap", [0, meta_listing.META_RESOLVE_CAP])
def test_a_cursor_whose_row_is_gone_says_what_is_behind_it(
    library: Library,
    images: list[ImageRecord],
    monkeypatch: pytest.MonkeyPatch,
    sort: Sort,
    cap: int,
) -> None:
    """``has_previous_page`` after a cursor and ``has_next_page`` before one say whether
    a row stands at the cursor or behind it (a meta page asks that in the
    page's own statement: ``keyset.rows_and_behind``). With the cursor's row and all
    behind it deleted, nothing is behind it: the cursor's row is not what answers."""
    monkeypatch.setattr(meta_listing, "META_RESOLVE_CAP", cap)
    args = {"meta": {"n": "1"}, "sort": sort}
    want = [
        r.id for r in sorted((r for r in images if r.custom_metadata.get("n") == 1), key=sort.key())
    ]
    assert len(want) > 6
    first = library.list_by_cursor(**args, limit=2)  # type: ignore[arg-type]
    last = library.list_by_cursor(  # the page holding the last two
        **args,
        limit=2,
        after=library.list_by_cursor(**args, limit=len(want) - 2).end_cursor,  # type: ignore[arg-type]
    )
    assert [r.id for r in last.items] == want[-2:]
    for gone in want[:2] + want[-2:]:
        library.delete(gone)
    after = library.list_by_cursor(**args, limit=2, after=first.end_cursor)  # type: ignore[arg-type]
    assert [r.id for r in after.items] == want[2:4]
    assert not after.has_previous_page and after.has_next_page
    before = library.list_by_cursor(**args, limit=2, before=last.start_cursor)  # type: ignore[arg-type]
    assert [r.id for r in before.items] == want[-4:-2]
    assert not before.has_next_page and before.has_previous_page
