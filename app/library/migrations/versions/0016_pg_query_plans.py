"""PostgreSQL plans for the 100,000-image listings (issue 21, item 5). A no-op on SQLite,
whose schema stays exactly as it was.

Found with ``EXPLAIN (ANALYZE, BUFFERS)`` on the benchmark's team library:

- Name order: PostgreSQL considers an index-only scan only when every column the query
  names is in the index, and ``nocase(filename)`` names ``filename``, which 0002's and
  0008's name indexes held only inside the expression. So a page 50,000 names deep read
  50,000 table rows and recomputed ``nocase()`` on each (540 ms); with ``filename``
  included the same page walks the index alone (13 ms under load, ≈ 3 ms quiet).
- Search: pg_trgm's index finds candidate rows, each re-checked against its text
  (``LIKE`` is exact, trigrams are not), so a common term's count visited almost every
  page of ``images`` (4,077 of 5,062 pages, 400-byte rows, for 7,925 matches).
  ``image_search`` holds only ``pk`` and ``search_text`` (100-byte rows, 1,271 pages),
  kept by a trigger on every write of ``images``, and carries the trigram index instead:
  the same count reads a quarter of the pages (43 ms → 17 ms under load).
- ``image_metadata``'s order indexes (0014) with ``image_pk`` included: SQLite's
  WITHOUT ROWID table has its primary key in every index, PostgreSQL's indexes hold
  only what they name, so a ``meta.KEY=VALUE`` page read every entry's table row too,
  and the planner preferred to gather all 10,000 entries of a common value and sort them
  (39 ms); now a page 5,000 entries deep walks the index alone (1.5 ms).
- Statistics on ``(key, kind, value)`` together (``CREATE STATISTICS``): apart, the
  planner multiplied three selectivities and expected 1,092 entries for a value 10,000
  images have, which chose the gather-and-sort plan above.

Revision ID: 0016
Revises: 0014
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

_SEARCH_FUNCTION = """CREATE FUNCTION images_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM image_search WHERE pk = OLD.pk;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO image_search (pk, search_text) VALUES (NEW.pk, NEW.search_text);
  ELSIF OLD.search_text IS DISTINCT FROM NEW.search_text THEN
    UPDATE image_search SET search_text = NEW.search_text WHERE pk = NEW.pk;
  END IF;
  RETURN NULL;
END $$"""


def _name_indexes(include: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_images_name")
    op.execute("DROP INDEX IF EXISTS ix_images_folder_name")
    op.execute(f"CREATE INDEX ix_images_name ON images (nocase(filename), id) INCLUDE ({include})")
    op.execute(
        "CREATE INDEX ix_images_folder_name ON images (folder, nocase(filename), id) "
        f"INCLUDE ({include})"
    )


# 0014's, each with the image's pk included (see above).
_META_ORDER = {
    "ix_image_metadata_order": "key, kind, value, created_at, id, folder, undescribed",
    "ix_image_metadata_folder_order": "key, kind, value, folder, created_at, id, undescribed",
}


def _meta_indexes(include: str) -> None:
    for name, columns in _META_ORDER.items():
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE INDEX {name} ON image_metadata ({columns}){include}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # DIALECT: PostgreSQL only
    _name_indexes("pk, filename")
    _meta_indexes(" INCLUDE (image_pk)")
    op.execute(
        "CREATE STATISTICS image_metadata_value (mcv, dependencies) "
        "ON key, kind, value FROM image_metadata"
    )
    op.create_table(
        "image_search",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("search_text", sa.Text, nullable=False),
    )
    op.execute("INSERT INTO image_search (pk, search_text) SELECT pk, search_text FROM images")
    op.execute("DROP INDEX IF EXISTS ix_images_search")
    op.execute("CREATE INDEX ix_image_search ON image_search USING gin (search_text gin_trgm_ops)")
    op.execute(_SEARCH_FUNCTION)
    op.execute(
        "CREATE TRIGGER images_search AFTER INSERT OR DELETE OR UPDATE OF search_text "
        "ON images FOR EACH ROW EXECUTE FUNCTION images_search()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS images_search ON images")
    op.execute("DROP FUNCTION IF EXISTS images_search()")
    op.drop_table("image_search")
    op.execute("CREATE INDEX ix_images_search ON images USING gin (search_text gin_trgm_ops)")
    op.execute("DROP STATISTICS IF EXISTS image_metadata_value")
    _meta_indexes("")
    _name_indexes("pk")
