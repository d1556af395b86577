"""DIALECT (PostgreSQL): the images whose folded search text holds a term of 3+
characters, counted and listed, for ``listing`` and ``meta_listing`` (SQLite's FTS5
trigram index answers the same there).

Two ways, both exact (``filters.Filter.matches`` is the rule):

- **The words** (migration 0022). A term without a space or the fields' separator lies
  within one of the text's tokens as 0022's ``search_tokens`` cuts them (at those two
  characters, tokens of 3+ characters): the vocabulary's trigram index finds the handful
  of words holding it (re-checking words, not texts), and their images are read from
  ``search_words``' primary key alone. 'umbrella' (7,976 images at 100,000): counted in
  ≈ 0.7 ms, where the trigram index re-checked ≈ 8,000 rows of text (≈ 5 ms).
- **The trigram index** of ``image_search`` (0016) for any other term (``sevilla
  catedral``): asked for the rows holding the term's *cover* — a few of its pieces of
  three characters that do not overlap, in order (``%sev%ate%dra%``), a superset of the
  matches — which are re-checked with ``strpos`` (the rule). Three trigrams' lists
  intersected, not fourteen: 4.0 → 1.5 ms (the least of 20 under load 8, 116 images)."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection

from ..filters import SEARCH_FIELD_SEPARATOR, Sort
from ..records import ImageRecord
from .dialect import like_pattern, run
from .orders import ORDER
from .rows import RECORD_COLUMNS, record

# At most this many pieces of a phrase are looked up in the trigram index (cover_pattern).
COVER_PIECES = 3
# The pks whose text holds the term (binds :cover and :term), through the trigram index.
TRIGRAM_MATCHES = (
    "SELECT pk FROM image_search WHERE search_text LIKE :cover AND strpos(search_text, :term) > 0"
)
# The same through the words: an image with two words holding the term is there twice
# (a membership test, ``IN``, does not mind; a count does, see _WORDS_COUNTED).
WORD_MATCHES = (
    "SELECT image_pk FROM search_words "
    "WHERE word = ANY (ARRAY(SELECT word FROM search_vocab WHERE word LIKE :like))"
)

# The number of images in the library, beside a term's count (one round trip fewer for a
# page, whose plan weighs the matches against it: ``listing.search_plan``).
_LIBRARY = "(SELECT COALESCE(SUM(count), 0) FROM folder_counts)"
# The number of matches and, when at most :cap, their pks in order: one pass.
_TRIGRAM_COUNTED = f"""
SELECT COUNT(*), CASE WHEN COUNT(*) <= :cap THEN array_agg(pk ORDER BY pk) END, {_LIBRARY}
FROM ({TRIGRAM_MATCHES}) AS matches
"""
# The same count, and when at most :cap the page's rows (the matches read by pk, sorted):
# a page-number page of a whole-library phrase in one round trip, not two (count_and_page).
# Past the cap the lateral's one-time filter skips the page, which is read as before.
_TRIGRAM_PAGE = f"""
WITH m AS MATERIALIZED ({TRIGRAM_MATCHES}),
c AS MATERIALIZED (SELECT COUNT(*) AS n, {_LIBRARY} AS library FROM m)
SELECT c.n, c.library, p.* FROM c LEFT JOIN LATERAL (
  SELECT {RECORD_COLUMNS} FROM images WHERE c.n <= :cap AND pk IN (SELECT pk FROM m)
  ORDER BY {{order}} LIMIT :limit OFFSET :offset) AS p ON true
"""
# A word's images are distinct, so one word is counted by its index range alone (no
# DISTINCT: hashing 8,000 pks cost ≈ 2 ms); the pks are listed only when few (the
# array of 8,000 sorted cost ≈ 1.3 ms more). MATERIALIZED: each computed once.
_WORDS_COUNTED = f"""
WITH words AS MATERIALIZED (
  SELECT ARRAY(SELECT word FROM search_vocab WHERE word LIKE :like) AS w),
counted AS MATERIALIZED (
  SELECT w, CASE WHEN cardinality(w) <= 1
    THEN (SELECT count(*) FROM search_words WHERE word = ANY (w))
    ELSE (SELECT count(DISTINCT image_pk) FROM search_words WHERE word = ANY (w)) END AS n
  FROM words)
SELECT n, CASE WHEN n <= :cap THEN (
  SELECT array_agg(DISTINCT image_pk ORDER BY image_pk) FROM search_words
  WHERE word = ANY (w)) END, {_LIBRARY}
FROM counted
"""


def in_one_word(term: str) -> bool:
    """Whether the folded ``term`` can only lie within one token (read from the words)."""
    return " " not in term and SEARCH_FIELD_SEPARATOR not in term


def matches(term: str) -> str:
    """The query of the pks whose text holds the folded ``term`` (3+ characters), for a
    membership test (``pk IN (…)``); it binds ``:like`` (``params(term)``)."""
    return WORD_MATCHES if in_one_word(term) else TRIGRAM_MATCHES


def params(term: str) -> dict[str, object]:
    """What ``matches(term)`` binds."""
    if in_one_word(term):
        return {"like": like_pattern(term)}
    return {"cover": cover_pattern(term), "term": term}


def cover_pattern(term: str) -> str:
    """A literal LIKE pattern of a few of ``term``'s non-overlapping pieces of three
    characters, in order (``sevilla catedral``: ``%sev%ate%dra%``): every text holding
    the term matches it, so its rows are a superset of the matches, found through
    fewer of the trigram index's lists than the whole term's. Pieces of letters and
    digits only are preferred (pg_trgm makes no useful trigram of ``a c``), at most
    ``COVER_PIECES``, spread over the term: 1.5 ms against 2.0 with all five pieces."""
    pieces = [term[i : i + 3] for i in range(0, len(term) - 2, 3)]
    words = [p for p in pieces if p.isalnum()] or pieces
    if len(words) > COVER_PIECES:
        last = len(words) - 1
        words = [words[round(k * last / (COVER_PIECES - 1))] for k in range(COVER_PIECES)]
    return "%" + "%".join(like_pattern(p)[1:-1] for p in words) + "%"


class Counted(NamedTuple):
    found: int  # how many images hold the term
    listed: list[int] | None  # their pks in order, when at most the cap
    library: int  # how many images the library holds


def count_and_list(conn: Connection, term: str, cap: int) -> Counted:
    """How many images hold ``term`` and, when at most ``cap``, their pks in order; and
    how many the library holds, in the same snapshot."""
    sql = _WORDS_COUNTED if in_one_word(term) else _TRIGRAM_COUNTED
    found, listed, library = tuple(run(conn, sql, params(term) | {"cap": cap}).one())
    assert isinstance(found, int)
    return Counted(found, None if listed is None else [int(pk) for pk in listed], int(library))


def first_matches(conn: Connection, term: str, over: int) -> list[int]:
    """At most ``over`` distinct pks of images holding ``term``, in pk order."""
    sql = f"SELECT DISTINCT pk FROM ({matches(term)}) AS m(pk) LIMIT :over"
    return sorted(int(pk) for pk in run(conn, sql, params(term) | {"over": over}).scalars())


def count_and_page(
    conn: Connection, term: str, cap: int, offset: int, limit: int, sort: Sort
) -> tuple[int, int, list[ImageRecord] | None]:
    """For a term the trigram index answers (``in_one_word`` false): how many images
    hold it, how many the library holds and, when the first is at most ``cap``, rows
    ``offset`` to ``offset + limit`` of its matches in ``sort`` — ``None`` past the cap.
    One statement where a count and a page were two ('sevilla catedral', 116 matches:
    one round trip and one plan fewer)."""
    sql = _TRIGRAM_PAGE.format(order=ORDER[sort])
    binds = params(term) | {"cap": cap, "limit": limit, "offset": offset}
    got = [tuple(r) for r in run(conn, sql, binds)]
    found, library = int(got[0][0]), int(got[0][1])
    if found > cap:
        return found, library, None
    return found, library, [record(r[2:]) for r in got if r[2] is not None]
