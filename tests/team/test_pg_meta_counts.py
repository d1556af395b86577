"""On PostgreSQL each ``meta.KEY=VALUE`` reading's number of images and of undescribed
images is kept in ``meta_value_counts`` by trigger (migration 0027,
``sql/pg_meta_counts.py``): equal to counting ``image_metadata`` after every kind of
write, and a page of one value, common or rare — its count read with the values'
counts — keeps what ``MetaFilter.matches`` keeps, in two statements."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import text

from imageshelf.app.library import Library, Sort
from imageshelf.app.library.custom_metadata import MetaFilter
from imageshelf.app.library.sql import meta_listing
from tests.conftest import image_bytes
from tests.team.cursor_walk import walk_by_cursor
from tests.team.statements import statements_on_this_thread

# Each reading a value can have (3 as text, as a number, as 3.0; booleans as text too).
METAS: list[dict[str, Any]] = [
    {"batch": "3", "print": True},
    {"batch": 3, "print": "true"},
    {"batch": 3.0, "batch2": 3},
    {"batch": 30, "print": False},
    {},
    {"batch": 3, "print": 1},
]
ALTS = ["described", None, None, "also", None, "text"]
FILTERS = [{"batch": "3"}, {"batch": "3.0"}, {"print": "true"}, {"print": "1"}, {"x": "y"}]

_KEPT = text(
    "SELECT key, kind, value, images, undescribed FROM meta_value_counts "
    "WHERE images <> 0 OR undescribed <> 0 ORDER BY 1, 2, 3"
)
_COUNTED = text(
    "SELECT key, kind, value, COUNT(*), COUNT(*) FILTER (WHERE undescribed) "
    "FROM image_metadata GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)


def _library(lib: Library) -> list[str]:
    ids = []
    for i, (alt, meta) in enumerate(zip(ALTS, METAS, strict=True)):
        prepared = lib.prepare(io.BytesIO(image_bytes("PNG", color=(i, 7, 7))), f"img{i}.png")
        record = lib.commit(prepared)
        lib.update(record.id, alt_text=alt, custom_metadata=meta or None)
        ids.append(record.id)
    return ids


def _assert_kept(lib: Library) -> None:
    with lib.engine.connect() as conn:
        kept = [tuple(r) for r in conn.execute(_KEPT)]
        counted = [tuple(r) for r in conn.execute(_COUNTED)]
    assert kept == counted
    assert kept  # the library has values: the comparison compared something


def test_the_counts_follow_every_write(pg_library: Library) -> None:
    ids = _library(pg_library)
    _assert_kept(pg_library)
    pg_library.update(ids[1], alt_text="now described")  # undescribed → described
    _assert_kept(pg_library)
    pg_library.update(ids[0], alt_text=None)  # and back
    _assert_kept(pg_library)
    pg_library.update(ids[2], custom_metadata={"batch": "31", "new": True})  # merged
    _assert_kept(pg_library)
    pg_library.update(ids[3], folder="elsewhere")  # rows re-written, counts the same
    _assert_kept(pg_library)
    pg_library.delete(ids[5])  # to the trash: out of the listing
    _assert_kept(pg_library)
    pg_library.trash.restore(ids[5])
    _assert_kept(pg_library)
    pg_library.update(ids[5], custom_metadata={"batch": None, "print": None})  # removed
    _assert_kept(pg_library)
    with pg_library.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT kind, images, undescribed FROM meta_value_counts "
                "WHERE key = 'batch' AND value = '3' ORDER BY kind"
            )
        ).all()
    # img0's "3" and img1's 3 (img2's 3.0 became "31", img5's 3 was removed): one each.
    assert [tuple(r) for r in rows] == [("number", 1, 0), ("text", 1, 1)]


def _rule_ids(lib: Library, meta: dict[str, str], sort: Sort, undescribed: bool) -> list[str]:
    rule = MetaFilter.parse(*next(iter(meta.items())))
    return [
        r.id
        for r in sorted(lib.list_images(page_size=100).items, key=sort.key())
        if rule.matches(r.custom_metadata) and (r.alt_text is None or not undescribed)
    ]


@pytest.mark.parametrize("sort", list(Sort))
@pytest.mark.parametrize("undescribed", [False, True])
@pytest.mark.parametrize("cap", [0, meta_listing.META_RESOLVE_CAP])
def test_pages_of_one_value(
    pg_library: Library,
    monkeypatch: pytest.MonkeyPatch,
    sort: Sort,
    undescribed: bool,
    cap: int,
) -> None:
    """Every value counted as common (a cap of 0) or as rare (the cap as it is: a rare
    value's pks were listed, then counted, four statements): its count comes with the
    values' counts, so a page is two statements; every page by number and by cursor is
    what the rule keeps."""
    monkeypatch.setattr(meta_listing, "META_RESOLVE_CAP", cap)
    _library(pg_library)
    for meta in FILTERS:
        want = _rule_ids(pg_library, meta, sort, undescribed)
        with statements_on_this_thread(pg_library.engine) as sent:
            first = pg_library.list_images(meta=meta, undescribed=undescribed, sort=sort)
        assert (first.total, [r.id for r in first.items]) == (len(want), want), meta
        if want:  # the values' counts with the filter's own, then the page
            assert len(sent) == 2, sent
        for number in (1, 2, 3):
            page = pg_library.list_images(
                meta=meta, undescribed=undescribed, sort=sort, page=number, page_size=1
            )
            assert [r.id for r in page.items] == want[number - 1 : number]
        walked, totals, _last = walk_by_cursor(
            pg_library, 1, meta=meta, undescribed=undescribed, sort=sort
        )
        assert totals == {len(want)}
        assert walked == want, meta


def test_a_rare_value_counted_after_writes(pg_library: Library) -> None:
    """A rare value's count is its rows in ``meta_value_counts`` (not its pks listed
    and counted): after a move to the trash, a restore, alt text set and cleared and
    the value removed, each page's total and items are what the rule keeps."""
    ids = _library(pg_library)
    meta = {"batch": "3"}

    def check() -> None:
        for undescribed in (False, True):
            want = _rule_ids(pg_library, meta, Sort.NEWEST, undescribed)
            page = pg_library.list_images(meta=meta, undescribed=undescribed)
            assert (page.total, [r.id for r in page.items]) == (len(want), want)
            got = pg_library.list_by_cursor(meta=meta, undescribed=undescribed, limit=1)
            assert (got.total, [r.id for r in got.items]) == (len(want), want[:1])

    check()
    pg_library.delete(ids[1])
    check()
    pg_library.trash.restore(ids[1])
    pg_library.update(ids[1], alt_text="described now")
    check()
    pg_library.update(ids[0], alt_text=None)
    pg_library.update(ids[5], custom_metadata={"batch": None})
    check()
    # img0's "3", img1's and img2's 3 (img5's removed): the checks compared something.
    assert len(_rule_ids(pg_library, meta, Sort.NEWEST, False)) == 3
