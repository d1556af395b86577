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
from imageshelf.app.library.sql import keyset, listing
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


@pytest.mark.parametrize("cap", [0, listing.META_RESOLVE_CAP])
def test_matches_and_sql_keep_the_same_images(
    library: Library, images: list[ImageRecord], cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # cap 0: every meta filter is tested row by row (as a common value is at 100,000
    # images); the default: resolved to the list of its few images first.
    monkeypatch.setattr(listing, "META_RESOLVE_CAP", cap)
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
