"""SQLite: a term's matches from the words that hold it, as PostgreSQL's since 0022
(issue 21, ``4 search``). A no-op on PostgreSQL.

A common term's exact count was FTS5's phrase query on the trigram index: every trigram's
list read with its positions and compared ('umbrella', 7,976 of 100,000 images: six
lists, ≈ 3 ms, the most of a first page). A term without a space or the fields'
separator lies within one of the text's tokens (cut at those two characters), a term of
3+ characters within a token of 3+; so:

- ``search_vocab`` holds every such token once, with ``search_vocab_fts``, a trigram
  index of the words (FTS5 needs an integer rowid: the word's ``id``), which finds the
  handful of words holding the term in a list of words, not of images;
- ``search_words`` holds each image's words (``(word_id, image_pk)``, the primary key, no
  rowid): one word's images are one range of it, counted without reading a row
  ('umbrella': ≈ 0.4 ms).

Kept by triggers on ``images`` in the writing transaction (SQLite has one writer at a
time), from ``search_text`` alone, so exact whoever writes the row. The tokens are cut in
SQL: ``json_quote`` makes the text one JSON string (every quote, backslash and control
character escaped, none of them a space), whose spaces then become the separators of a
JSON array (``_tokens``). A word no image holds any more leaves the vocabulary.

Measured at 100,000 images: built in ≈ 2.5 s, 114,333 words, 501,725 entries. What the
triggers add to a write (2,000 rows, the least of 3): an image added ≈ 0.18 ms (its name
is a word no other image has, indexed anew), removed ≈ 0.05, its text edited ≈ 0.07.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-01
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def _tokens(text: str) -> str:
    """The tokens of ``text`` a term of 3+ characters can lie in, as ``json_each`` rows
    (``value``; with repeats, and shorter ones the callers leave out): cut at spaces and
    at the fields' separator (``filters.SEARCH_FIELD_SEPARATOR``, char(31))."""
    return (
        "json_each('[' || replace(json_quote(replace("
        f"{text}, char(31), ' ')), ' ', '\",\"') || ']')"
    )


def _add(row: str) -> str:
    return f"""
      INSERT OR IGNORE INTO search_vocab (word)
        SELECT value FROM {_tokens(f"{row}.search_text")} WHERE length(value) >= 3;
      INSERT OR IGNORE INTO search_words (word_id, image_pk)
        SELECT v.id, {row}.pk FROM {_tokens(f"{row}.search_text")} AS t
        JOIN search_vocab v ON v.word = t.value WHERE length(t.value) >= 3;"""


def _remove(row: str, *, kept: str | None = None) -> str:
    """``row``'s words taken away; ``kept``: but those of that row (an update's new one),
    which stay: an image's own name is a word of its own, and taking it out of the
    vocabulary and its trigram index only to put it back cost ≈ 0.2 ms an update."""
    keep = f" AND t.value NOT IN (SELECT value FROM {_tokens(f'{kept}.search_text')})"
    words = (
        f"SELECT v.id FROM {_tokens(f'{row}.search_text')} AS t "
        "JOIN search_vocab v ON v.word = t.value WHERE length(t.value) >= 3"
        + (keep if kept else "")
    )
    return f"""
      DELETE FROM search_words WHERE image_pk = {row}.pk AND word_id IN ({words});
      DELETE FROM search_vocab WHERE id IN ({words})
        AND NOT EXISTS (SELECT 1 FROM search_words w WHERE w.word_id = search_vocab.id);"""


_TABLES = (
    "CREATE TABLE search_vocab (id INTEGER PRIMARY KEY, word TEXT NOT NULL UNIQUE)",
    "CREATE TABLE search_words (word_id INTEGER NOT NULL, image_pk INTEGER NOT NULL, "
    "PRIMARY KEY (word_id, image_pk)) WITHOUT ROWID",
    "CREATE VIRTUAL TABLE search_vocab_fts USING fts5(word, content='search_vocab', "
    "content_rowid='id', tokenize='trigram case_sensitive 1')",
)

_TRIGGERS = (
    f"""CREATE TRIGGER search_words_ins AFTER INSERT ON images BEGIN {_add("new")}
    END""",
    f"""CREATE TRIGGER search_words_del AFTER DELETE ON images BEGIN {_remove("old")}
    END""",
    f"""CREATE TRIGGER search_words_upd AFTER UPDATE OF search_text ON images
    WHEN old.search_text IS NOT new.search_text BEGIN {_remove("old", kept="new")} {_add("new")}
    END""",
    # The vocabulary's trigram index follows the vocabulary (an external-content table).
    """CREATE TRIGGER search_vocab_ins AFTER INSERT ON search_vocab BEGIN
      INSERT INTO search_vocab_fts (rowid, word) VALUES (new.id, new.word);
    END""",
    """CREATE TRIGGER search_vocab_del AFTER DELETE ON search_vocab BEGIN
      INSERT INTO search_vocab_fts (search_vocab_fts, rowid, word)
        VALUES ('delete', old.id, old.word);
    END""",
)

_TRIGGER_NAMES = (
    "search_words_ins",
    "search_words_del",
    "search_words_upd",
    "search_vocab_ins",
    "search_vocab_del",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # DIALECT: PostgreSQL has its own (0022)
        return
    for stmt in _TABLES:
        op.execute(stmt)
    # The existing images' words, in bulk (the vocabulary first, then its index at once).
    op.execute(
        f"INSERT OR IGNORE INTO search_vocab (word) SELECT t.value FROM images, "
        f"{_tokens('images.search_text')} AS t WHERE length(t.value) >= 3"
    )
    op.execute(
        f"INSERT OR IGNORE INTO search_words (word_id, image_pk) SELECT v.id, images.pk "
        f"FROM images, {_tokens('images.search_text')} AS t "
        "JOIN search_vocab v ON v.word = t.value WHERE length(t.value) >= 3"
    )
    op.execute("INSERT INTO search_vocab_fts (search_vocab_fts) VALUES ('rebuild')")
    for stmt in _TRIGGERS:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for name in _TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("search_vocab_fts", "search_words", "search_vocab"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
