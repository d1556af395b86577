"""The first schema: images, tombstones, folder counts, ignored files, trigram search.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# DIALECT (PostgreSQL, a team library): the folder counts by one plpgsql trigger, and
# search by pg_trgm: a GIN trigram index on search_text answers LIKE '%term%'.
_PG_COUNTING = """CREATE FUNCTION images_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.folder IS NOT DISTINCT FROM NEW.folder THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE folder_counts SET count = count - 1 WHERE folder = OLD.folder;
    DELETE FROM folder_counts WHERE folder = OLD.folder AND count <= 0;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO folder_counts AS f (folder, count) VALUES (NEW.folder, 1)
      ON CONFLICT (folder) DO UPDATE SET count = f.count + 1;
  END IF;
  RETURN NULL;
END $$"""


def _upgrade_pg() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_images_search ON images USING gin (search_text gin_trgm_ops)")
    op.execute(_PG_COUNTING)
    op.execute(
        "CREATE TRIGGER images_count AFTER INSERT OR DELETE OR UPDATE OF folder ON images "
        "FOR EACH ROW EXECUTE FUNCTION images_count()"
    )


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("folder", sa.Text, nullable=False, server_default=""),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("original_filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("alt_text", sa.Text, nullable=True),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("pending_path", sa.Text, nullable=True),
        sa.UniqueConstraint("folder", "filename", name="uq_images_path"),
    )
    # postgresql_include: a PostgreSQL index holds no row id as SQLite's does; with pk in
    # it a page read by OFFSET walks the index alone (ignored by SQLite).
    op.create_index("ix_images_order", "images", ["created_at", "id"], postgresql_include=["pk"])
    op.create_index(
        "ix_images_folder_order",
        "images",
        ["folder", "created_at", "id"],
        postgresql_include=["pk"],
    )
    op.create_index("ix_images_sha256", "images", ["sha256"])
    op.create_table(
        "tombstones",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("deleted_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "folder_counts",
        sa.Column("folder", sa.Text, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "ignored_files",
        sa.Column("path", sa.Text, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_pg()
        return
    # Folder counts follow every insert, delete and move of an image.
    for stmt in (
        """CREATE TRIGGER images_count_ins AFTER INSERT ON images BEGIN
             INSERT INTO folder_counts(folder, count) VALUES (new.folder, 1)
               ON CONFLICT(folder) DO UPDATE SET count = count + 1;
           END""",
        """CREATE TRIGGER images_count_del AFTER DELETE ON images BEGIN
             UPDATE folder_counts SET count = count - 1 WHERE folder = old.folder;
             DELETE FROM folder_counts WHERE folder = old.folder AND count <= 0;
           END""",
        """CREATE TRIGGER images_count_upd AFTER UPDATE OF folder ON images
           WHEN old.folder IS NOT new.folder BEGIN
             UPDATE folder_counts SET count = count - 1 WHERE folder = old.folder;
             DELETE FROM folder_counts WHERE folder = old.folder AND count <= 0;
             INSERT INTO folder_counts(folder, count) VALUES (new.folder, 1)
               ON CONFLICT(folder) DO UPDATE SET count = count + 1;
           END""",
        # Trigram full-text index over the case-folded search text: substring search of
        # 3+ characters in about a millisecond on 100,000 images.
        """CREATE VIRTUAL TABLE images_fts USING fts5(
             search_text, content='images', content_rowid='pk', tokenize='trigram')""",
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
    ):
        op.execute(stmt)


def downgrade() -> None:
    for name in ("images_fts",):
        op.execute(f"DROP TABLE IF EXISTS {name}")
    for name in ("ignored_files", "folder_counts", "tombstones", "images"):
        op.drop_table(name)
