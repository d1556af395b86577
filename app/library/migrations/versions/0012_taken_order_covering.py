"""``sort=taken`` reads its index alone and seeks (issue 16, after 0009).

- Covering: 0009's indexes on ``coalesce(taken_at, -2**62)`` made SQLite 3.40 evaluate
  the ORDER BY expression from the table row, so a page 50,000 rows deep read 50,000 rows
  (2.7 ms against 1.0 ms for ``newest`` at 100,000 images). With ``taken_at`` and
  ``created_at`` themselves in the index it covers the query (1.2 ms).
- Seeking: every undated image had the same key, so a cursor among them walked all of
  them from the first (7.6 ms near the end of 20,000 undated). Their key is now their
  ``created_at`` moved below every real date: the same order, all but unique.

Same names; the old indexes are dropped.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# exif_facts.TAKEN_SORT_SQL, written out (a migration never changes).
_KEY = "coalesce(taken_at, created_at + -4611686018427387904)"
_OLD_KEY = "coalesce(taken_at, -4611686018427387904)"


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_images_taken_order")
    op.execute("DROP INDEX IF EXISTS ix_images_folder_taken_order")
    # DIALECT: PostgreSQL's indexes hold no row id: pk included, as SQLite's have it.
    pk = " INCLUDE (pk)" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(
        f"CREATE INDEX ix_images_taken_order ON images ({_KEY}, created_at, id, taken_at){pk}"
    )
    op.execute(
        "CREATE INDEX ix_images_folder_taken_order ON images "
        f"(folder, {_KEY}, created_at, id, taken_at){pk}"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_images_taken_order")
    op.execute("DROP INDEX IF EXISTS ix_images_folder_taken_order")
    op.execute(f"CREATE INDEX ix_images_taken_order ON images ({_OLD_KEY}, created_at, id)")
    op.execute(
        f"CREATE INDEX ix_images_folder_taken_order ON images (folder, {_OLD_KEY}, created_at, id)"
    )
