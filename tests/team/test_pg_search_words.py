"""On PostgreSQL a term within one token of the search text is answered from the words
that hold it (``search_vocab``, ``search_words``: migration 0022) with no row of text
re-checked; a term with a space goes through the trigram index. Both give exactly the
images ``Filter.matches`` keeps (the rule): totals and pages, counted in one pass or
listed, in the whole library, a folder, with a meta value, by cursor. The words follow
every write of the text."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import text

from imageshelf.app.library import ALL_FOLDERS, Library, Sort
from imageshelf.app.library.filters import Filter
from imageshelf.app.library.sql import listing, meta_listing, pg_search
from tests.conftest import image_bytes
from tests.team.statements import statements_on_this_thread

# Alt texts whose tokens a term may start, end, fill or straddle; short tokens; LIKE's
# wildcards and escape as literal text; accents and case folded away.
ALTS = [
    "A red umbrella on a wall",
    "umbrellas, two UMBRELLA stands",
    "rain-umbrella_stand 100% dry",
    "Crème brûlée at the café",
    "富士山 夕焼け at dusk",
    "on an ox",
    None,
    "",
    "back\\slash and 50% off",
    "the umbrella stand",
]
TERMS = [
    "umbrella", "umbrel", "brella", "mbrellas", "umbrella stand", "a stand", "red umb",
    "ella_st", "_st", "100%", "% dry", "0% o", "\\sl", "creme", "brûl", "富士山", "士山 夕",
    "img", ".png", "png", "e.p", "ox", "an ox", "on an", "zzz", "the", "ell",
    # long phrases: their trigram cover is a few of their pieces (pg_search.cover_pattern)
    "umbrellas, two umbrella", "brûlée at the café", "a red umbrella on a wall",
    "red umbrella on a walk",
]  # fmt: skip


def _library(lib: Library) -> None:
    for i, alt in enumerate(ALTS):
        name = f"img{i} {'Umbrella' if i % 4 == 0 else 'shot'}.png"
        prepared = lib.prepare(io.BytesIO(image_bytes("PNG", color=(i, 5, 5))), name)
        record = lib.commit(prepared, folder="f" if i % 2 else None)
        lib.update(record.id, alt_text=alt, custom_metadata={"batch": str(i % 3)})


SCOPES: list[dict[str, Any]] = [{}, {"folder": "f"}, {"meta": {"batch": "1"}}]


def _expected(lib: Library, term: str, scope: dict[str, Any], sort: Sort) -> list[str]:
    """The ids the rule keeps, in ``sort``: ``Filter.matches`` and the meta value."""
    flt = Filter(search=term, folder=scope.get("folder", ALL_FOLDERS))
    every = lib.list_images(page_size=100).items
    meta = scope.get("meta", {})
    kept = [r for r in every if flt.matches(r) and meta.items() <= r.custom_metadata.items()]
    return [r.id for r in sorted(kept, key=sort.key())]


@pytest.mark.parametrize("cap", [0, 3, 500])
def test_every_term_finds_what_the_rule_finds(
    pg_library: Library, monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    """Counted in one pass and listed (a cap of 500), counted only (0), or in between;
    a meta value listed first (500) or walked testing each image against the term's
    matches (0), the images in common with the term listed or not (3)."""
    monkeypatch.setattr(listing, "RESOLVE_CAP", cap)
    monkeypatch.setattr(listing, "SEARCH_AMONG_CAP", cap)
    monkeypatch.setattr(meta_listing, "META_RESOLVE_CAP", cap)
    _library(pg_library)
    for term in TERMS:
        for scope in SCOPES:
            want = _expected(pg_library, term, scope, Sort.NEWEST)
            page = pg_library.list_images(search=term, page_size=100, **scope)
            assert (page.total, [r.id for r in page.items]) == (len(want), want), (term, scope)
            second = pg_library.list_images(search=term, page=2, page_size=2, **scope)
            assert [r.id for r in second.items] == want[2:4], (term, scope)
            named = _expected(pg_library, term, scope, Sort.NAME)
            walk = pg_library.list_by_cursor(search=term, limit=3, sort=Sort.NAME, **scope)
            assert (walk.total, [r.id for r in walk.items]) == (len(named), named[:3]), term


def _words_agree(lib: Library) -> None:
    """search_words holds each image's tokens of 3+ characters (cut at spaces and the
    fields' separator), and search_vocab every word some image has, no other."""
    with lib.engine.connect() as conn:
        texts = dict(conn.execute(text("SELECT pk, search_text FROM images")).all())
        words = set(conn.execute(text("SELECT word, image_pk FROM search_words")).all())
        vocab = set(conn.execute(text("SELECT word FROM search_vocab")).scalars())
    want = {
        (token, pk)
        for pk, t in texts.items()
        for token in t.replace("\x1f", " ").split(" ")
        if len(token) >= 3
    }
    assert words == want
    assert vocab == {w for w, _pk in want}


def test_the_words_follow_every_write(pg_library: Library) -> None:
    _library(pg_library)
    _words_agree(pg_library)
    first = pg_library.list_images(sort=Sort.OLDEST, page_size=100).items[0]
    pg_library.update(first.id, alt_text="A parasol in the wind")
    _words_agree(pg_library)
    assert pg_library.list_images(search="parasol").total == 1
    assert pg_library.list_images(search="red umbrella").total == 0
    pg_library.update(first.id, folder="elsewhere")  # the same text: the same words
    _words_agree(pg_library)
    pg_library.delete(first.id)
    _words_agree(pg_library)
    assert pg_library.list_images(search="parasol").total == 0
    pg_library.trash.restore(first.id)
    _words_agree(pg_library)
    assert pg_library.list_images(search="parasol").total == 1


def test_which_terms_are_read_from_the_words() -> None:
    assert pg_search.matches("umbrella") == pg_search.WORD_MATCHES
    assert pg_search.matches("red umbrella") == pg_search.TRIGRAM_MATCHES
    assert pg_search.matches("a\x1fb") == pg_search.TRIGRAM_MATCHES


@pytest.mark.parametrize("cap", [1, 500])
def test_a_phrase_is_counted_and_paged_in_one_statement(
    pg_library: Library, monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    """A whole-library term with a space (the trigram index's): count and page in one
    statement when its matches are at most the cap (``pg_search.count_and_page``), the
    page read as before past it — in every sort, at every page, past the end, none."""
    monkeypatch.setattr(listing, "RESOLVE_CAP", cap)
    _library(pg_library)
    for term in ("umbrella stand", "a red umbrella on a wall", "a stand", "n ox", "zz z"):
        for sort in Sort:
            want = _expected(pg_library, term, {}, sort)
            for number in (1, 2, 5):
                got = pg_library.list_images(search=term, sort=sort, page=number, page_size=2)
                shown = want[(number - 1) * 2 : number * 2]
                assert (got.total, [r.id for r in got.items]) == (len(want), shown), term
    with statements_on_this_thread(pg_library.engine) as statements:
        assert pg_library.list_images(search="umbrella stand").total == 2
    assert len(statements) == (1 if cap >= 2 else 2), statements
