"""``image_metadata`` carries its image's folder, created_at, id and whether it lacks alt
text (issue 16), so a
``meta.KEY=VALUE`` listing in ``newest``/``oldest`` order walks one index and never the
images table: a page 5,000 matches deep is an index range, not 50,000 images each probed
(27 ms → 0.3 ms at 100,000 images), and a folder's matches are counted in their own
range (5 ms → 0.2 ms).

- Four columns copied from ``images`` (``folder``, ``created_at``, ``id``, and
  ``undescribed``: ``alt_text IS NULL``), kept by the triggers that already write the
  rows from ``custom_metadata``: the one on UPDATE now also fires when ``folder``,
  ``created_at``, ``id`` or ``alt_text`` change (a move, a folder rename, a new alt
  text), rewriting that image's rows from the new values. Every writer goes through
  ``images``, so no writer can forget them.
- ``ix_image_metadata_order`` (key, kind, value, created_at, id, folder, undescribed):
  one value in newest or oldest order (either direction), and its count; the last two
  columns let a subtree, an API key's folders and ``undescribed`` be tested on the index
  entry itself (10,000 table probes → none). It replaces 0008's lookup index, which it
  covers (the primary key, image_pk, is in every index of a WITHOUT ROWID table).
- ``ix_image_metadata_folder_order`` (key, kind, value, folder, created_at, id,
  undescribed): the same within one folder.
- ``ix_image_metadata_probe`` (image_pk, key, kind, value): the test of one image for a
  filter, walking another order (``name``, ``taken``), narrow as 0008's table was. The
  table's own rows are now three times as wide, and probed in name order (pks at
  random) they no longer stay in the page cache: 44 ms → 152 ms for a deep page, 36 ms
  with this index (the probes name it: ``INDEXED BY``).

SQLite: the table is rebuilt (SQLite cannot add NOT NULL columns without a default, and a
default would hide a row the triggers missed); existing rows are filled from ``images``.
PostgreSQL (a team library): the columns are added, filled, then made NOT NULL, and 0008's
trigger function writes them too.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_TRIGGER_NAMES = ("images_metadata_ins", "images_metadata_upd", "images_metadata_del")

# One row per key of the object (0008's rule for kind and value), with the image's order.
_ROWS = """INSERT INTO image_metadata
             (image_pk, key, kind, value, folder, created_at, id, undescribed)
           SELECT new.pk, key,
             CASE type WHEN 'text' THEN 'text' WHEN 'true' THEN 'boolean'
               WHEN 'false' THEN 'boolean' ELSE 'number' END,
             value, new.folder, new.created_at, new.id, new.alt_text IS NULL
           FROM json_each(new.custom_metadata)
           WHERE type IN ('text', 'integer', 'real', 'true', 'false');"""

_TRIGGERS = (
    f"""CREATE TRIGGER images_metadata_ins AFTER INSERT ON images
        WHEN new.custom_metadata IS NOT NULL BEGIN {_ROWS} END""",
    # Any column the rows carry: rewritten from the new values (a move rewrites a few rows;
    # cheaper to reason about than one UPDATE per column, and as cheap to run).
    f"""CREATE TRIGGER images_metadata_upd
        AFTER UPDATE OF custom_metadata, folder, created_at, id, alt_text ON images BEGIN
          DELETE FROM image_metadata WHERE image_pk = old.pk;
          {_ROWS}
        END""",
    """CREATE TRIGGER images_metadata_del AFTER DELETE ON images BEGIN
          DELETE FROM image_metadata WHERE image_pk = old.pk;
        END""",
)

# 0008's triggers, for the downgrade.
_OLD_ROWS = """INSERT INTO image_metadata (image_pk, key, kind, value)
           SELECT new.pk, key,
             CASE type WHEN 'text' THEN 'text' WHEN 'true' THEN 'boolean'
               WHEN 'false' THEN 'boolean' ELSE 'number' END,
             value
           FROM json_each(new.custom_metadata)
           WHERE type IN ('text', 'integer', 'real', 'true', 'false');"""
_OLD_TRIGGERS = (
    f"""CREATE TRIGGER images_metadata_ins AFTER INSERT ON images
        WHEN new.custom_metadata IS NOT NULL BEGIN {_OLD_ROWS} END""",
    f"""CREATE TRIGGER images_metadata_upd AFTER UPDATE OF custom_metadata ON images BEGIN
          DELETE FROM image_metadata WHERE image_pk = old.pk;
          {_OLD_ROWS}
        END""",
    """CREATE TRIGGER images_metadata_del AFTER DELETE ON images BEGIN
          DELETE FROM image_metadata WHERE image_pk = old.pk;
        END""",
)


# DIALECT (PostgreSQL): 0008's trigger function, writing the four columns too; ``value``
# as 0008 keeps it there (text: a number as its shortest decimal, a boolean "1"/"0").
_PG_FUNCTION = """CREATE OR REPLACE FUNCTION images_metadata() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM image_metadata WHERE image_pk = OLD.pk;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.custom_metadata IS NOT NULL THEN
    INSERT INTO image_metadata
      (image_pk, key, kind, value, folder, created_at, id, undescribed)
    SELECT NEW.pk, e.key,
      CASE jsonb_typeof(e.value) WHEN 'string' THEN 'text' WHEN 'boolean' THEN 'boolean'
        ELSE 'number' END,
      CASE jsonb_typeof(e.value) WHEN 'string' THEN e.value #>> '{}'
        WHEN 'boolean' THEN CASE WHEN e.value = 'true'::jsonb THEN '1' ELSE '0' END
        ELSE trim_scale((e.value #>> '{}')::numeric)::text END,
      NEW.folder, NEW.created_at, NEW.id, NEW.alt_text IS NULL
    FROM jsonb_each(NEW.custom_metadata::jsonb) AS e
    WHERE jsonb_typeof(e.value) IN ('string', 'number', 'boolean');
  END IF;
  RETURN NULL;
END $$"""
# 0008's, for the downgrade.
_PG_OLD_FUNCTION = """CREATE OR REPLACE FUNCTION images_metadata() RETURNS trigger
LANGUAGE plpgsql AS $$
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
_PG_TRIGGER = (
    "CREATE TRIGGER images_metadata AFTER INSERT OR DELETE OR UPDATE OF {columns} "
    "ON images FOR EACH ROW EXECUTE FUNCTION images_metadata()"
)
_CARRIED = ("folder", "created_at", "id", "undescribed")


def _create_indexes() -> None:
    op.create_index(
        "ix_image_metadata_order",
        "image_metadata",
        ["key", "kind", "value", "created_at", "id", "folder", "undescribed"],
    )
    op.create_index(
        "ix_image_metadata_folder_order",
        "image_metadata",
        ["key", "kind", "value", "folder", "created_at", "id", "undescribed"],
    )
    op.create_index(
        "ix_image_metadata_probe", "image_metadata", ["image_pk", "key", "kind", "value"]
    )


def _upgrade_pg() -> None:
    op.execute("DROP TRIGGER IF EXISTS images_metadata ON images")
    op.add_column("image_metadata", sa.Column("folder", sa.Text, nullable=True))
    op.add_column("image_metadata", sa.Column("created_at", sa.BigInteger, nullable=True))
    op.add_column("image_metadata", sa.Column("id", sa.String(40), nullable=True))
    op.add_column("image_metadata", sa.Column("undescribed", sa.Boolean, nullable=True))
    op.execute(
        "UPDATE image_metadata AS m SET folder = i.folder, created_at = i.created_at, "
        "id = i.id, undescribed = i.alt_text IS NULL FROM images AS i WHERE i.pk = m.image_pk"
    )
    for column in _CARRIED:
        op.alter_column("image_metadata", column, nullable=False)
    op.drop_index("ix_image_metadata_lookup", table_name="image_metadata")
    _create_indexes()
    op.execute(_PG_FUNCTION)
    op.execute(_PG_TRIGGER.format(columns="custom_metadata, folder, created_at, id, alt_text"))


def _downgrade_pg() -> None:
    op.execute("DROP TRIGGER IF EXISTS images_metadata ON images")
    for name in ("ix_image_metadata_order", "ix_image_metadata_folder_order"):
        op.drop_index(name, table_name="image_metadata")
    op.drop_index("ix_image_metadata_probe", table_name="image_metadata")
    for column in _CARRIED:
        op.drop_column("image_metadata", column)
    op.create_index(
        "ix_image_metadata_lookup", "image_metadata", ["key", "kind", "value", "image_pk"]
    )
    op.execute(_PG_OLD_FUNCTION)
    op.execute(_PG_TRIGGER.format(columns="custom_metadata"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # DIALECT
        _upgrade_pg()
        return
    for name in _TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.create_table(
        "image_metadata_new",
        sa.Column("image_pk", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("undescribed", sa.Boolean, nullable=False),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO image_metadata_new "
        "(image_pk, key, kind, value, folder, created_at, id, undescribed) "
        "SELECT m.image_pk, m.key, m.kind, m.value, i.folder, i.created_at, i.id, "
        "i.alt_text IS NULL FROM image_metadata m JOIN images i ON i.pk = m.image_pk"
    )
    op.drop_table("image_metadata")
    op.rename_table("image_metadata_new", "image_metadata")
    _create_indexes()
    for stmt in _TRIGGERS:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # DIALECT
        _downgrade_pg()
        return
    for name in _TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.create_table(
        "image_metadata_old",
        sa.Column("image_pk", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO image_metadata_old (image_pk, key, kind, value) "
        "SELECT image_pk, key, kind, value FROM image_metadata"
    )
    op.drop_table("image_metadata")
    op.rename_table("image_metadata_old", "image_metadata")
    op.create_index(
        "ix_image_metadata_lookup", "image_metadata", ["key", "kind", "value", "image_pk"]
    )
    for stmt in _OLD_TRIGGERS:
        op.execute(stmt)
