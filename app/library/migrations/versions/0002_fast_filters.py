"""Indexes for the GUI's filters and an exact trigram index (issue 7, 100,000 images).

- ``ix_images_undescribed_order`` and ``ix_images_folder_undescribed_order``: partial
  indexes over images without alt text (``alt_text IS NULL``), so the "needs alt text"
  view counts and pages without scanning the table (68 ms → under 2 ms at 100,000).
- ``ix_images_name``: the name sort walks an index instead of sorting every row.
- ``images_fts`` rebuilt with ``case_sensitive 1``: ``search_text`` and the term are both
  case-folded in Python already, so an unfolded trigram index matches a phrase exactly
  when the term is a substring. The count of a search then comes from the index alone,
  without reading a row to re-check it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _rebuild_fts(tokenize: str) -> None:
    # The triggers of 0001 name the table, not its definition: they keep working.
    op.execute("DROP TABLE IF EXISTS images_fts")
    op.execute(
        "CREATE VIRTUAL TABLE images_fts USING fts5("
        f"search_text, content='images', content_rowid='pk', tokenize='{tokenize}')"
    )
    op.execute("INSERT INTO images_fts(images_fts) VALUES ('rebuild')")


# DIALECT (PostgreSQL): SQLite's NOCASE folds ASCII letters only and then compares
# bytes; nocase() does the same (the database compares bytes: LC_COLLATE C).
_PG_NOCASE = (
    "CREATE FUNCTION nocase(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
    "AS $$ SELECT translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
    "'abcdefghijklmnopqrstuvwxyz') $$"
)


def _upgrade_pg() -> None:
    # INCLUDE (pk): the row id SQLite's indexes hold, so pages walk the index alone.
    op.execute(
        "CREATE INDEX ix_images_undescribed_order ON images (created_at, id) INCLUDE (pk) "
        "WHERE alt_text IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_images_folder_undescribed_order ON images (folder, created_at, id) "
        "INCLUDE (pk) WHERE alt_text IS NULL"
    )
    op.execute(_PG_NOCASE)
    op.execute("CREATE INDEX ix_images_name ON images (nocase(filename), id) INCLUDE (pk)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_pg()
        return  # pg_trgm's index (0001) needs no rebuild: LIKE compares exactly
    op.execute(
        "CREATE INDEX ix_images_undescribed_order ON images (created_at, id) WHERE alt_text IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_images_folder_undescribed_order ON images (folder, created_at, id) "
        "WHERE alt_text IS NULL"
    )
    op.execute("CREATE INDEX ix_images_name ON images (filename COLLATE NOCASE, id)")
    _rebuild_fts("trigram case_sensitive 1")


def downgrade() -> None:
    _rebuild_fts("trigram")
    for name in (
        "ix_images_name",
        "ix_images_folder_undescribed_order",
        "ix_images_undescribed_order",
    ):
        op.execute(f"DROP INDEX IF EXISTS {name}")
