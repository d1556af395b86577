"""SQLite: each image's ``meta.KEY=VALUE`` values are indexed beside its search text in
``images_fts`` (issue 16), so the images a common value and a search term have in
common are one FTS5 query, not a merge of two lists. A no-op on PostgreSQL.

A common value (10,000 of 100,000 images) and a common term (7,925) had their ≈ 800 in
common found by merging the value's entries (``ix_image_metadata_value``, in pk order)
with the term's trigram matches: 2.3 ms, the most of any listing's cost. FTS5 ANDs its
own doclists, skipping through them: the same 819 rows in 0.8 ms.

- ``meta_tags``: one row per (key, kind, value) some image has had (``image_metadata``'s
  kinds and values, 0008's rule), never deleted, so its ``id`` stays what was indexed.
- Its tag: the id as three characters of the Private Use Area (U+E000 + base-6400
  digits), one trigram of the trigram tokenizer, meaning exactly that value. An image's
  tags, in id order and separated by spaces, are ``images_fts``'s second column,
  ``meta_tags``; a query names the column (``meta_tags : "…"``), so no search text is
  taken for a tag. A term holding a character of that area is not looked up in the
  index (``listing.indexed_term``): its phrase could match a tag.
- ``images_fts`` reads its text from the view ``images_fts_content`` (search text and
  tags), so a ``rebuild`` makes the same index the triggers keep; the triggers watch
  ``custom_metadata`` as well as ``search_text``. A delete gives FTS5 the tags that were
  indexed: the same ids from the same JSON.

Measured at 100,000 images: the rebuild ≈ 3 s; the index grows by one token per key of
each image.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# 0008's rule for the kind and value of an entry ``e`` of custom_metadata's json_each.
_KIND = """CASE e.type WHEN 'text' THEN 'text' WHEN 'true' THEN 'boolean'
    WHEN 'false' THEN 'boolean' ELSE 'number' END"""
_KEPT = "e.type IN ('text', 'integer', 'real', 'true', 'false')"


def _tags(json: str) -> str:
    """The tags of custom_metadata ``json`` (NULL for none), in id order."""
    return f"""(SELECT group_concat(tag, ' ') FROM (
    SELECT char(57344 + t.id % 6400, 57344 + t.id / 6400 % 6400, 57344 + t.id / 40960000)
      AS tag
    FROM json_each({json}) AS e
    JOIN meta_tags t ON t.key = e.key AND t.kind = {_KIND} AND t.value = e.value
    WHERE {_KEPT} ORDER BY t.id))"""


# The same tags from ``image_metadata`` (filled from custom_metadata by 0008's rule),
# for the view FTS5 reads on a ``rebuild``: FTS5 reads its content with no virtual table
# allowed, json_each being one. The triggers read custom_metadata itself, as they may run
# before or after image_metadata's own.
_VIEW_TAGS = """(SELECT group_concat(tag, ' ') FROM (
    SELECT char(57344 + t.id % 6400, 57344 + t.id / 6400 % 6400, 57344 + t.id / 40960000)
      AS tag
    FROM image_metadata m
    JOIN meta_tags t ON t.key = m.key AND t.kind = m.kind AND t.value = m.value
    WHERE m.image_pk = images.pk ORDER BY t.id))"""


def _add_tags(json: str) -> str:
    return (
        f"INSERT OR IGNORE INTO meta_tags (key, kind, value) "
        f"SELECT e.key, {_KIND}, e.value FROM json_each({json}) AS e WHERE {_KEPT};"
    )


_TRIGGERS = (
    f"""CREATE TRIGGER images_fts_ins AFTER INSERT ON images BEGIN
      {_add_tags("new.custom_metadata")}
      INSERT INTO images_fts(rowid, search_text, meta_tags)
        VALUES (new.pk, new.search_text, {_tags("new.custom_metadata")});
    END""",
    f"""CREATE TRIGGER images_fts_del AFTER DELETE ON images BEGIN
      INSERT INTO images_fts(images_fts, rowid, search_text, meta_tags)
        VALUES ('delete', old.pk, old.search_text, {_tags("old.custom_metadata")});
    END""",
    f"""CREATE TRIGGER images_fts_upd AFTER UPDATE OF search_text, custom_metadata ON images
    BEGIN
      INSERT INTO images_fts(images_fts, rowid, search_text, meta_tags)
        VALUES ('delete', old.pk, old.search_text, {_tags("old.custom_metadata")});
      {_add_tags("new.custom_metadata")}
      INSERT INTO images_fts(rowid, search_text, meta_tags)
        VALUES (new.pk, new.search_text, {_tags("new.custom_metadata")});
    END""",
)

# 0001's triggers (0002 rebuilt the table they name, with case_sensitive 1).
_OLD_TRIGGERS = (
    """CREATE TRIGGER images_fts_ins AFTER INSERT ON images BEGIN
         INSERT INTO images_fts(rowid, search_text) VALUES (new.pk, new.search_text);
       END""",
    """CREATE TRIGGER images_fts_del AFTER DELETE ON images BEGIN
         INSERT INTO images_fts(images_fts, rowid, search_text)
           VALUES ('delete', old.pk, old.search_text);
       END""",
    """CREATE TRIGGER images_fts_upd AFTER UPDATE OF search_text ON images BEGIN
         INSERT INTO images_fts(images_fts, rowid, search_text)
           VALUES ('delete', old.pk, old.search_text);
         INSERT INTO images_fts(rowid, search_text) VALUES (new.pk, new.search_text);
       END""",
)
_TOKENIZE = "tokenize='trigram case_sensitive 1'"


def _drop_triggers() -> None:
    for name in ("images_fts_ins", "images_fts_del", "images_fts_upd"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # DIALECT: SQLite's FTS5 only
        return
    _drop_triggers()
    op.execute(
        "CREATE TABLE meta_tags (id INTEGER PRIMARY KEY, key TEXT NOT NULL, "
        "kind TEXT NOT NULL, value BLOB NOT NULL, UNIQUE (key, kind, value))"
    )
    op.execute(
        f"INSERT OR IGNORE INTO meta_tags (key, kind, value) SELECT e.key, {_KIND}, e.value "
        f"FROM images, json_each(images.custom_metadata) AS e "
        f"WHERE images.custom_metadata IS NOT NULL AND {_KEPT} ORDER BY images.pk"
    )
    op.execute(
        "CREATE VIEW images_fts_content AS SELECT pk, search_text, "
        f"{_VIEW_TAGS} AS meta_tags FROM images"
    )
    op.execute("DROP TABLE IF EXISTS images_fts")
    op.execute(
        "CREATE VIRTUAL TABLE images_fts USING fts5(search_text, meta_tags, "
        f"content='images_fts_content', content_rowid='pk', {_TOKENIZE})"
    )
    op.execute("INSERT INTO images_fts(images_fts) VALUES ('rebuild')")
    for stmt in _TRIGGERS:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    _drop_triggers()
    op.execute("DROP TABLE IF EXISTS images_fts")
    op.execute(
        "CREATE VIRTUAL TABLE images_fts USING fts5(search_text, "
        f"content='images', content_rowid='pk', {_TOKENIZE})"
    )
    op.execute("INSERT INTO images_fts(images_fts) VALUES ('rebuild')")
    op.execute("DROP VIEW images_fts_content")
    op.execute("DROP TABLE meta_tags")
    for stmt in _OLD_TRIGGERS:
        op.execute(stmt)
