"""``sort=taken`` reads its index alone (issue 16, after 0009).

0009's indexes on ``coalesce(taken_at, -2**62)`` were not *covering* for SQLite 3.40:
the planner evaluates the ORDER BY expression from the table row, so a page 50,000 rows
deep read 50,000 rows (2.7 ms against 1.0 ms for ``newest`` at 100,000 images). With
``taken_at`` itself as the last column the index covers the query and the page walks the
index only (1.2 ms). Same order, same names; the old ones are dropped.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_KEY = "coalesce(taken_at, -4611686018427387904)"  # exif_facts.TAKEN_SORT_SQL, written out


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_images_taken_order")
    op.execute("DROP INDEX IF EXISTS ix_images_folder_taken_order")
    op.execute(f"CREATE INDEX ix_images_taken_order ON images ({_KEY}, created_at, id, taken_at)")
    op.execute(
        "CREATE INDEX ix_images_folder_taken_order ON images "
        f"(folder, {_KEY}, created_at, id, taken_at)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_images_taken_order")
    op.execute("DROP INDEX IF EXISTS ix_images_folder_taken_order")
    op.execute(f"CREATE INDEX ix_images_taken_order ON images ({_KEY}, created_at, id)")
    op.execute(
        f"CREATE INDEX ix_images_folder_taken_order ON images (folder, {_KEY}, created_at, id)"
    )
