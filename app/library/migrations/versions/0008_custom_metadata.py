"""custom_metadata (issue 16): a client's own key/value pairs on an image, filterable.

- ``images.custom_metadata`` (and ``trash.custom_metadata``: a trashed image keeps every
  column of its row): the object as compact JSON text, ``NULL`` for none.
- ``image_metadata``: one row per key of every image's object, written by triggers from
  the column (so no writer can forget it), for ``meta.KEY=VALUE`` to be an index lookup
  rather than a JSON parse of 100,000 rows. ``kind`` is ``text``, ``number`` or
  ``boolean``; ``value`` is what ``json_each`` reads (booleans 1/0). Its column has no
  type affinity (declared BLOB), so the text ``'12'`` and the number ``12`` stay
  different values, as the filter's rule needs. WITHOUT ROWID: the filter's test of
  one image (``image_pk``, ``key``) reads kind and value in the same probe.
- ``ix_images_folder_name``: a folder's images by name (``sort=name`` with ``folder``)
  walk an index, page after page and cursor after cursor, instead of sorting the folder.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ROWS = """INSERT INTO image_metadata (image_pk, key, kind, value)
           SELECT new.pk, key,
             CASE type WHEN 'text' THEN 'text' WHEN 'true' THEN 'boolean'
               WHEN 'false' THEN 'boolean' ELSE 'number' END,
             value
           FROM json_each(new.custom_metadata)
           WHERE type IN ('text', 'integer', 'real', 'true', 'false');"""

_TRIGGERS = (
    f"""CREATE TRIGGER images_metadata_ins AFTER INSERT ON images
        WHEN new.custom_metadata IS NOT NULL BEGIN {_ROWS} END""",
    f"""CREATE TRIGGER images_metadata_upd AFTER UPDATE OF custom_metadata ON images BEGIN
          DELETE FROM image_metadata WHERE image_pk = old.pk;
          {_ROWS}
        END""",
    """CREATE TRIGGER images_metadata_del AFTER DELETE ON images BEGIN
          DELETE FROM image_metadata WHERE image_pk = old.pk;
        END""",
)


def upgrade() -> None:
    op.add_column("images", sa.Column("custom_metadata", sa.Text(), nullable=True))
    op.add_column("trash", sa.Column("custom_metadata", sa.Text(), nullable=True))
    op.create_table(
        "image_metadata",
        sa.Column("image_pk", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_image_metadata_lookup", "image_metadata", ["key", "kind", "value", "image_pk"]
    )
    for stmt in _TRIGGERS:
        op.execute(stmt)
    op.execute("CREATE INDEX ix_images_folder_name ON images (folder, filename COLLATE NOCASE, id)")


def downgrade() -> None:
    op.drop_index("ix_images_folder_name", table_name="images")
    for name in ("images_metadata_ins", "images_metadata_upd", "images_metadata_del"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("image_metadata")
    for table in ("trash", "images"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("custom_metadata")
