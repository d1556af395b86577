"""DIALECT (SQLite): the images whose folded search text holds a term of 3+ characters,
for ``listing`` (PostgreSQL answers the same in ``pg_search``). Two indexes:

- **FTS5's trigram index** of the images (``images_fts``): a term is a phrase of its
  trigrams; its *cover* (a few trigrams that tile it, no positions) gives a superset of
  the matches, cheaper, as candidates to confirm one by one.
- **The words** (migration 0028), as PostgreSQL's since 0022, for a term of 4+
  characters without a space or the fields' separator (``pg_search.in_one_word``): the
  vocabulary's trigram index finds the words holding it, and their images are ranges of
  ``search_words``' primary key. 'umbrella' (7,976 images of 100,000) is counted in
  ≈ 0.4 ms, where the phrase, six lists read with their positions, took ≈ 3.

The phrase still answers a term of 3 characters (one trigram: one list, no positions,
as cheap), a term held by more than ``WORDS_CAP`` words (``img_`` among camera files:
every word's range, then their images made distinct, would cost more), and a term with a
space. Both ways give the same images (``tests/library/test_search_words.py``)."""

from __future__ import annotations

import json

from sqlalchemy import Connection

from .dialect import run
from .pg_search import in_one_word

# The rows whose text holds the phrase :fts (``fts_phrase``), in pk order.
PHRASE_MATCHES = "SELECT rowid FROM images_fts WHERE images_fts MATCH :fts"

# At most this many words holding a term are read one by one; more: the trigram index.
WORDS_CAP = 64

# The ids of the words holding the term (:fts, its phrase), at most :over of them.
_WORDS_SQL = (
    "SELECT rowid FROM search_vocab_fts WHERE search_vocab_fts MATCH :fts "
    "ORDER BY rowid LIMIT :over"
)

# The pks of images holding one of the words (:words, a JSON list of their ids): an image
# holding two is there twice, which a membership test (``IN``) does not mind.
MATCHES = "SELECT image_pk FROM search_words WHERE word_id IN (SELECT value FROM json_each(:words))"

# How many images hold one of the words and, when at most :cap, their pks in order; and
# how many the library holds (which a page's plan weighs the matches against). One word's
# images are distinct: counted from its range alone, no temporary b-tree. The list is
# made only when the count allows (CASE evaluates its branch only when taken).
_COUNTED = """
SELECT n, CASE WHEN n <= :cap THEN (
    SELECT json_group_array(image_pk) FROM (
      SELECT DISTINCT image_pk FROM search_words
      WHERE word_id IN (SELECT value FROM json_each(:words)) ORDER BY image_pk))
  END, (SELECT COALESCE(SUM(count), 0) FROM folder_counts)
FROM (SELECT CASE WHEN json_array_length(:words) <= 1
  THEN (SELECT COUNT(*) FROM search_words
        WHERE word_id IN (SELECT value FROM json_each(:words)))
  ELSE (SELECT COUNT(DISTINCT image_pk) FROM search_words
        WHERE word_id IN (SELECT value FROM json_each(:words))) END AS n)
"""


def fts_phrase(term: str) -> str:
    """``term`` as one FTS5 phrase: its trigrams, in order (``"`` doubled)."""
    return '"' + term.replace('"', '""') + '"'


def trigram_cover(term: str) -> str:
    """An FTS5 query for rows holding every trigram of a few that tile ``term``
    (``"sevilla catedral"``: ``sev ill a c ate dra ral``, 6 of its 14). Every row whose
    text contains the term matches it, so its rows are a superset of the matches. It is
    2-3× cheaper than the phrase: fewer doclists, no positions compared."""
    starts = list(range(0, len(term) - 2, 3))
    if starts[-1] != len(term) - 3:
        starts.append(len(term) - 3)  # the last trigram overlaps the one before it
    trigrams = dict.fromkeys(term[i : i + 3] for i in starts)
    return " AND ".join(fts_phrase(t) for t in trigrams)


def cover_of(term: str, *, narrow: bool = False) -> tuple[str, dict[str, object]]:
    """The rows holding every trigram of the term's cover, a superset of its matches
    (``trigram_cover``), as a query of their pks in pk order. ``narrow``: its first
    trigram alone (a superset still)."""
    cover = fts_phrase(term[:3]) if narrow else trigram_cover(term)
    return "SELECT rowid FROM images_fts WHERE images_fts MATCH :cover", {"cover": cover}


def matches(term: str, words: tuple[int, ...] | None) -> tuple[str, dict[str, object]]:
    """The query of the pks whose text holds the folded ``term`` (a membership test,
    ``pk IN (…)``) and its parameters: from ``words`` (``words_of``) when found, else
    the phrase."""
    if words is not None:
        return MATCHES, params(words)
    return PHRASE_MATCHES, {"fts": fts_phrase(term)}


def count(conn: Connection, term: str, words: tuple[int, ...] | None) -> int:
    """How many images hold the folded ``term``: the index alone, no row read."""
    if words is not None:
        return count_and_list(conn, words, -1)[0]
    found = run(conn, f"SELECT COUNT(*) FROM ({PHRASE_MATCHES})", {"fts": fts_phrase(term)})
    return int(found.scalar_one())


def words_of(conn: Connection, term: str) -> tuple[int, ...] | None:
    """The ids of the words holding the folded ``term``, when they answer it (above);
    ``None`` when the trigram index of the images should."""
    if len(term) < 4 or not in_one_word(term):
        return None
    binds = {"fts": fts_phrase(term), "over": WORDS_CAP + 1}
    found = tuple(int(i) for i in run(conn, _WORDS_SQL, binds).scalars())
    return None if len(found) > WORDS_CAP else found


def params(words: tuple[int, ...]) -> dict[str, object]:
    """What ``MATCHES`` binds."""
    return {"words": json.dumps(words)}


def count_and_list(
    conn: Connection, words: tuple[int, ...], cap: int
) -> tuple[int, list[int] | None, int]:
    """How many images hold one of ``words``; when at most ``cap``, their pks in order;
    and how many images the library holds, in one statement."""
    found, listed, library = tuple(run(conn, _COUNTED, params(words) | {"cap": cap}).one())
    return int(found), None if listed is None else json.loads(listed), int(library)
