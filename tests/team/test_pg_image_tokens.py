"""On PostgreSQL a common ``meta.KEY=VALUE`` value (or several) and a search term within
one word meet in one GIN index of each image's tokens (migration 0025,
``sql/pg_tokens.py``): exactly the images ``Filter.matches`` and ``MetaFilter.matches``
keep (the rule), in every reading of a value (text, number, boolean), and the tokens
follow every write of the text and the metadata."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import text

from imageshelf.app.library import Library, Sort
from imageshelf.app.library.custom_metadata import MetaFilter
from imageshelf.app.library.filters import Filter, fold
from imageshelf.app.library.sql import listing, meta_listing, pg_token_pages, pg_tokens
from imageshelf.app.library.sql.dialect import like_pattern
from tests.conftest import image_bytes
from tests.team.cursor_walk import walk_by_cursor
from tests.team.statements import statements_on_this_thread

ALTS = [
    "A red umbrella on a wall",
    "umbrellas, two UMBRELLA stands",
    "rain-umbrella_stand 100% dry",
    "Crème brûlée at the café",
    "富士山 夕焼け at dusk",
    None,
    "umbrella",
    "the umbrella stand",
]
# Each reading a value can have, and values a careless token would mix up: 3 as text,
# as a number, as 3.0; true as a boolean and as text; a key that is the start of another.
METAS: list[dict[str, Any]] = [
    {"batch": "3", "print": True},
    {"batch": 3, "print": "true"},
    {"batch": 3.0, "batch2": 3},
    {"batch": 30, "print": False},
    {"batch": "3 ", "note": "a\x1fb"},
    {"batch": 3, "print": 1},
    {},
    {"batch": 3.5, "print": True},
]
TERMS = ["umbrella", "umbrel", "brella", "mbrellas", "stand", "brûl", "creme", "富士山", "zzz"]
FILTERS: list[dict[str, str]] = [
    {"batch": "3"},
    {"batch": "3.0"},
    {"batch": "3.5"},
    {"print": "true"},
    {"print": "1"},
    {"batch": "3", "print": "true"},
    {"batch2": "3"},
    {"note": "a\x1fb"},
    {"batch": "nothing"},
]


def _library(lib: Library) -> None:
    for i, (alt, meta) in enumerate(zip(ALTS, METAS, strict=True)):
        prepared = lib.prepare(io.BytesIO(image_bytes("PNG", color=(i, 9, 9))), f"img{i}.png")
        record = lib.commit(prepared)
        lib.update(record.id, alt_text=alt, custom_metadata=meta or None)


def _expected(lib: Library, term: str, meta: dict[str, str]) -> set[str]:
    flt = Filter(search=term)
    filters = [MetaFilter.parse(k, v) for k, v in meta.items()]
    return {
        r.id
        for r in lib.list_images(page_size=100).items
        if flt.matches(r) and all(m.matches(r.custom_metadata) for m in filters)
    }


def _among(lib: Library, term: str, meta: dict[str, str], cap: int = 100) -> set[str] | None:
    flt = Filter(search=term, meta=tuple(MetaFilter.parse(k, v) for k, v in meta.items()))
    with lib.engine.connect() as conn:
        pks = pg_tokens.among(conn, flt, pg_tokens.Among(like_pattern(fold(term)), cap, None))
        if pks is None:
            return None
        assert pks == sorted(pks)  # in pk order, as search_among's callers expect
        ids = conn.execute(
            text("SELECT id FROM images WHERE pk = ANY(:pks)"), {"pks": pks}
        ).scalars()
        return set(ids)


def test_the_tokens_find_what_the_rule_finds(pg_library: Library) -> None:
    _library(pg_library)
    for term in TERMS:
        for meta in FILTERS:
            assert _among(pg_library, term, meta) == _expected(pg_library, term, meta), (
                term,
                meta,
            )


def test_more_than_the_cap_is_none(pg_library: Library) -> None:
    _library(pg_library)
    want = _expected(pg_library, "umbrella", {"batch": "3"})
    assert len(want) == 3
    assert _among(pg_library, "umbrella", {"batch": "3"}, cap=3) == want
    assert _among(pg_library, "umbrella", {"batch": "3"}, cap=2) is None


@pytest.mark.parametrize("sort", list(Sort))
@pytest.mark.parametrize("among_cap", [1, listing.SEARCH_AMONG_CAP])
def test_pages_of_a_common_value_and_term(
    pg_library: Library, monkeypatch: pytest.MonkeyPatch, sort: Sort, among_cap: int
) -> None:
    """Through the listing: the values counted as common (no meta_pks), so the images in
    common come from the tokens (asked with the values' counts: resolve_meta), listed,
    or (a cap of 1) too many to list; every page, by number and by cursor, in every
    sort."""
    monkeypatch.setattr(meta_listing, "META_RESOLVE_CAP", 0)
    monkeypatch.setattr(listing, "RESOLVE_CAP", 0)
    monkeypatch.setattr(listing, "SEARCH_AMONG_CAP", among_cap)
    _library(pg_library)
    for term in ("umbrella", "stand", "zzz"):
        for meta in FILTERS:
            everything = pg_library.list_images(page_size=100).items
            want = [r.id for r in sorted(everything, key=sort.key())]
            kept = _expected(pg_library, term, meta)
            want = [i for i in want if i in kept]
            for number in (1, 2, 3):  # a page is a slice of those in common, sorted
                page = pg_library.list_images(
                    search=term, meta=meta, sort=sort, page=number, page_size=2
                )
                shown = want[2 * number - 2 : 2 * number]
                assert (page.total, [r.id for r in page.items]) == (len(want), shown), meta
            walked, totals, got = walk_by_cursor(pg_library, 2, search=term, meta=meta, sort=sort)
            assert totals == {len(want)}
            assert walked == want, (term, meta)
            back, before = [], got.end_cursor
            while want:  # and back from the last, each page before the one after it
                got = pg_library.list_by_cursor(
                    search=term, meta=meta, sort=sort, limit=2, before=before
                )
                assert (got.total, got.has_next_page) == (len(want), True)
                back = [r.id for r in got.items] + back
                if not got.has_previous_page:
                    break
                before = got.start_cursor
            assert back == want[:-1], (term, meta)


@pytest.mark.parametrize("sort", list(Sort))
@pytest.mark.parametrize("cap", [1, pg_token_pages.VALUES_CAP])
def test_pages_of_two_values_without_a_term(
    pg_library: Library, monkeypatch: pytest.MonkeyPatch, sort: Sort, cap: int
) -> None:
    """Two or more values and no term: the tokens' rows in common (one statement), or
    (a cap of 1) too many, read as before; every page by number and by cursor, both
    ways, is what the rule keeps."""
    monkeypatch.setattr(pg_token_pages, "VALUES_CAP", cap)
    _library(pg_library)
    everything = pg_library.list_images(page_size=100).items
    pairs: list[dict[str, str]] = [
        {"batch": "3", "print": "true"},
        {"batch": "3", "print": "1"},
        {"batch": "3.0", "batch2": "3"},
        {"batch": "30", "print": "false"},
        {"batch": "3", "note": "a\x1fb"},
        {"batch": "3", "print": "true", "batch2": "3"},
        {"batch": "nothing", "print": "true"},
    ]
    for meta in pairs:
        filters = [MetaFilter.parse(k, v) for k, v in meta.items()]
        want = [
            r.id
            for r in sorted(everything, key=sort.key())
            if all(m.matches(r.custom_metadata) for m in filters)
        ]
        for number in (1, 2):
            page = pg_library.list_images(meta=meta, sort=sort, page=number, page_size=1)
            shown = want[number - 1 : number]
            assert (page.total, [r.id for r in page.items]) == (len(want), shown), meta
        walked, after = [], None
        while True:
            got = pg_library.list_by_cursor(meta=meta, sort=sort, limit=1, after=after)
            assert got.total == len(want)
            walked += [r.id for r in got.items]
            if not got.has_next_page:
                break
            after = got.end_cursor
        assert walked == want, meta
        back, before = [], got.end_cursor
        while len(want) > 1:
            got = pg_library.list_by_cursor(meta=meta, sort=sort, limit=1, before=before)
            back = [r.id for r in got.items] + back
            if not got.has_previous_page:
                break
            before = got.start_cursor
        assert back == want[:-1], meta


def test_a_page_of_a_value_and_a_term_is_one_statement(pg_library: Library) -> None:
    """A page of meta values and a term within one word, by number or by cursor, is one
    statement (``sql/pg_token_pages.py``): the count, the page and, for a cursor,
    whether anything lies behind it."""
    _library(pg_library)
    meta = {"batch": "3"}
    kept = _expected(pg_library, "umbrella", meta)
    everything = pg_library.list_images(page_size=100).items
    for sort in Sort:
        want = [r.id for r in sorted(everything, key=sort.key()) if r.id in kept]
        assert len(want) == 3
        with statements_on_this_thread(pg_library.engine) as statements:
            page = pg_library.list_images(search="umbrella", meta=meta, sort=sort, page_size=2)
        assert ([r.id for r in page.items], page.total, len(statements)) == (want[:2], 3, 1)
        first = pg_library.list_by_cursor(search="umbrella", meta=meta, sort=sort, limit=1)
        with statements_on_this_thread(pg_library.engine) as statements:
            got = pg_library.list_by_cursor(
                search="umbrella", meta=meta, sort=sort, limit=1, after=first.end_cursor
            )
        assert [r.id for r in got.items] == want[1:2]
        assert (got.total, got.has_previous_page, got.has_next_page) == (3, True, True)
        assert len(statements) == 1, statements


def test_a_cursor_page_leaves_the_session_as_it_found_it(pg_library: Library) -> None:
    """A cursor's page is prepared at once and read with the generic plan
    (``plan_cache_mode``) on the connection it is given, which goes back to its pool as it
    was: outside a
    transaction, and in one, whether the transaction commits or is rolled back."""
    _library(pg_library)
    flt = Filter(search="umbrella", meta=(MetaFilter.parse("batch", "3"),))
    kept = _expected(pg_library, "umbrella", {"batch": "3"})
    prepared = "SELECT count(*) FROM pg_prepared_statements"
    with pg_library.engine.connect() as conn:
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        before = auto.exec_driver_sql(prepared).scalar()
        for _ in range(3):
            got = pg_token_pages.cursor_page(auto, flt, Sort.NAME, None, 5, backwards=False)
            assert got is not None and {r.id for r in got[1]} == kept
            assert auto.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"
            # Prepared at its first use (its generic plan kept), and only it.
            assert auto.exec_driver_sql(prepared).scalar() == before + 1
    for end in ("commit", "rollback"):
        with pg_library.engine.connect() as conn:
            with conn.begin() as tx:
                got = pg_token_pages.cursor_page(conn, flt, Sort.NAME, None, 5, backwards=False)
                assert got is not None and {r.id for r in got[1]} == kept
                assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"
                getattr(tx, end)()
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"


def _tokens_agree(lib: Library) -> None:
    """Each image's tokens are its words (search_words) and one per image_metadata row."""
    with lib.engine.connect() as conn:
        tokens = {
            pk: set(t)
            for pk, t in conn.execute(
                text("SELECT pk, image_tokens(search_text, custom_metadata) FROM images")
            ).all()
        }
        want: dict[int, set[str]] = {pk: set() for pk in tokens}
        for word, pk in conn.execute(text("SELECT word, image_pk FROM search_words")).all():
            want[pk].add(word)
        for pk, key, kind, value in conn.execute(
            text("SELECT image_pk, key, kind, value FROM image_metadata")
        ).all():
            want[pk].add(pg_tokens.SEPARATOR.join(("", key, kind, value)))
        # The index answers as the function does (a scan of the index, not of rows).
        indexed = conn.execute(
            text(
                "SELECT count(*) FROM images WHERE image_tokens(search_text, custom_metadata) "
                "&& CAST(:t AS text[])"
            ),
            {"t": pg_tokens.value_tokens(MetaFilter.parse("batch", "3"))},
        ).scalar_one()
    assert tokens == want
    assert indexed == sum(
        1 for t in tokens.values() if {"\x1fbatch\x1ftext\x1f3", "\x1fbatch\x1fnumber\x1f3"} & t
    )


def test_the_tokens_follow_every_write(pg_library: Library) -> None:
    _library(pg_library)
    _tokens_agree(pg_library)
    first = pg_library.list_images(sort=Sort.OLDEST, page_size=100).items[0]
    pg_library.update(first.id, alt_text="A parasol in the wind", custom_metadata={"batch": 7})
    _tokens_agree(pg_library)
    assert _among(pg_library, "parasol", {"batch": "7"}) == {first.id}
    assert _among(pg_library, "umbrella", {"batch": "3"}) == _expected(
        pg_library, "umbrella", {"batch": "3"}
    )
    pg_library.update(first.id, custom_metadata={"batch": None, "shelf": "B"})
    _tokens_agree(pg_library)
    assert _among(pg_library, "parasol", {"batch": "7"}) == set()
    assert _among(pg_library, "parasol", {"shelf": "B"}) == {first.id}
    pg_library.delete(first.id)
    _tokens_agree(pg_library)
    assert _among(pg_library, "parasol", {"shelf": "B"}) == set()
    pg_library.trash.restore(first.id)
    _tokens_agree(pg_library)
    assert _among(pg_library, "parasol", {"shelf": "B"}) == {first.id}
