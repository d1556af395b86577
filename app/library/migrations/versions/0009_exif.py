"""EXIF facts in columns (issue 16): camera, lens, exposure, date taken, location.

Added to ``images`` and ``trash`` (a trashed image keeps every column of its row), all
nullable; ``exif_read`` NULL marks a row whose file has not been read yet. The migration
reads no file: opening a library must not wait on (or fail over) 100,000 images' bytes.
Rows that existed before it are read by the background fill (``exif_fill.py``), a
housekeeping chore that starts at open. Indexes serve ``sort=taken``: on
``coalesce(taken_at, -2**62)``, never NULL, so one index walk (and a keyset cursor's one
range) gives "newest taken first, undated last".

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("make", sa.Text),
    ("model", sa.Text),
    ("lens_model", sa.Text),
    ("taken_at", sa.BigInteger),
    ("taken_offset_min", sa.Integer),
    ("exposure_time", sa.Text),
    ("f_number", sa.Float),
    ("iso", sa.Integer),
    ("focal_length_mm", sa.Float),
    ("orientation", sa.Integer),
    ("latitude", sa.Float),
    ("longitude", sa.Float),
    ("altitude_m", sa.Float),
    ("exif_read", sa.Integer),
)


def upgrade() -> None:
    for table in ("images", "trash"):
        for name, kind in _COLUMNS:
            op.add_column(table, sa.Column(name, kind(), nullable=True))
    # The key exif_facts.TAKEN_SORT_SQL names (written out: a migration never changes).
    op.execute(
        "CREATE INDEX ix_images_taken_order ON images "
        "(coalesce(taken_at, -4611686018427387904), created_at, id)"
    )
    op.execute(
        "CREATE INDEX ix_images_folder_taken_order ON images "
        "(folder, coalesce(taken_at, -4611686018427387904), created_at, id)"
    )


def downgrade() -> None:
    op.drop_index("ix_images_folder_taken_order", "images")
    op.drop_index("ix_images_taken_order", "images")
    for table in ("trash", "images"):
        with op.batch_alter_table(table) as batch:
            for name, _kind in reversed(_COLUMNS):
                batch.drop_column(name)
