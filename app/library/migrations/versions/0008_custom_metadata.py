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


# DIALECT (PostgreSQL): ``value`` is text (no typeless column there): a string as it
# is, a number as its shortest decimal (trim_scale: 12.0 is "12", as SQLite's 12.0 = 12),
# a boolean "1"/"0"; ``kind`` keeps the three apart as in SQLite.
_PG_ROWS = """CREATE FUNCTION images_metadata() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM image_metadata WHERE image_pk = OLD.pk;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.custom_metadata IS NOT NULL THEN
    INSERT INTO image_metadata (image_pk, key, kind, value)
    SELECT NEW.pk, e.key,
      CASE jsonb_typeof(e.value) WHEN 'string' THEN 'text' WHEN 'boolean' THEN 'boolean'
        ELSE 'number' END,
      CASE jsonb_typeof(e.value) WHEN 'string' THEN e.value #>> '{}'
        WHEN 'boolean' THEN CASE WHEN e.value = 'true'::jsonb THEN '1' ELSE '0' END
        ELSE trim_scale((e.value #>> '{}')::numeric)::text END
    FROM jsonb_each(NEW.custom_metadata::jsonb) AS e
    WHERE jsonb_typeof(e.value) IN ('string', 'number', 'boolean');
  END IF;
  RETURN NULL;
END $$"""


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.add_column("images", sa.Column("custom_metadata", sa.Text(), nullable=True))
    op.add_column("trash", sa.Column("custom_metadata", sa.Text(), nullable=True))
    op.create_table(
        "image_metadata",
        sa.Column("image_pk", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.Text if pg else sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_image_metadata_lookup", "image_metadata", ["key", "kind", "value", "image_pk"]
    )
    if pg:
        op.execute(_PG_ROWS)
        op.execute(
            "CREATE TRIGGER images_metadata AFTER INSERT OR DELETE OR UPDATE OF custom_metadata "
            "ON images FOR EACH ROW EXECUTE FUNCTION images_metadata()"
        )
        op.execute(
            "CREATE INDEX ix_images_folder_name ON images (folder, nocase(filename), id) "
            "INCLUDE (pk)"
        )
        return
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
