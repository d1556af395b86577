"""``image_metadata`` also carries its image's ``filename`` and ``taken_at`` (issue 16),
so a ``meta.KEY=VALUE`` listing in ``name`` and ``taken`` order is one range of an index
too, as 0014 made it for ``newest``/``oldest``: a page-number page 500 matches deep over
a common value walks index entries, never 5,000 images each probed for the value
(31.9 ms at 100,000 images before).

- ``filename`` and ``taken_at`` copied from ``images`` by the triggers that already write
  the rows, whose UPDATE now also fires when either changes (a rename, an EXIF date read
  again after an outside edit). Every writer goes through ``images``.
- ``ix_image_metadata_name`` (key, kind, value, filename COLLATE NOCASE, id, folder,
  undescribed): one value by name (the listing's name key, ``listing._ORDER``), either
  direction; folder and undescribed tested on the entry, as 0014's.
- ``ix_image_metadata_taken`` (key, kind, value, the taken key of
  ``exif_facts.TAKEN_SORT_SQL``, created_at, id, taken_at, folder, undescribed): one value
  by date taken; ``taken_at`` in it so the ORDER BY expression is read from the index
  (0012: SQLite reads it from the row otherwise).
- The same two within one folder (``…_folder_name``, ``…_folder_taken``): a folder's
  matches by name or date taken, as ``ix_image_metadata_folder_order`` by date added.
- ``ix_image_metadata_value`` (key, kind, value, image_pk): one value's images in pk
  order, the order the substring index gives its matches in, so a common value and a
  common search term are intersected by one merge of two ordered lists (3.5 ms against
  12 for a set built and probed: ``meta_listing.search_among``). It is 0008's lookup
  index, which 0014 dropped as covered when nothing needed that order.

SQLite: the table is rebuilt (a NOT NULL column without a default, as 0014), rows filled
from ``images``. PostgreSQL (a team library): columns added, filled, ``filename`` made NOT
NULL; the trigger function writes them; the indexes on ``nocase(filename)`` (0002).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_TRIGGER_NAMES = ("images_metadata_ins", "images_metadata_upd", "images_metadata_del")
# exif_facts.TAKEN_SORT_SQL, written out (a migration never changes).
_TAKEN_KEY = "coalesce(taken_at, created_at + -4611686018427387904)"

_COLUMNS = "image_pk, key, kind, value, folder, created_at, id, undescribed"
_NEW_COLUMNS = f"{_COLUMNS}, filename, taken_at"


def _rows(columns: str, carried: str) -> str:
    """0008's rule for kind and value, with the image's columns ``carried``."""
    return f"""INSERT INTO image_metadata ({columns})
           SELECT new.pk, key,
             CASE type WHEN 'text' THEN 'text' WHEN 'true' THEN 'boolean'
               WHEN 'false' THEN 'boolean' ELSE 'number' END,
             value, {carried}
           FROM json_each(new.custom_metadata)
           WHERE type IN ('text', 'integer', 'real', 'true', 'false');"""


def _triggers(rows: str, watched: str) -> tuple[str, ...]:
    return (
        f"""CREATE TRIGGER images_metadata_ins AFTER INSERT ON images
        WHEN new.custom_metadata IS NOT NULL BEGIN {rows} END""",
        # Any column the rows carry: rewritten from the new values.
        f"""CREATE TRIGGER images_metadata_upd AFTER UPDATE OF {watched} ON images BEGIN
          DELETE FROM image_metadata WHERE image_pk = old.pk;
          {rows}
        END""",
        """CREATE TRIGGER images_metadata_del AFTER DELETE ON images BEGIN
          DELETE FROM image_metadata WHERE image_pk = old.pk;
        END""",
    )


_OLD_CARRIED = "new.folder, new.created_at, new.id, new.alt_text IS NULL"
_OLD_WATCHED = "custom_metadata, folder, created_at, id, alt_text"
_WATCHED = f"{_OLD_WATCHED}, filename, taken_at"
_TRIGGERS = _triggers(_rows(_NEW_COLUMNS, f"{_OLD_CARRIED}, new.filename, new.taken_at"), _WATCHED)
_OLD_TRIGGERS = _triggers(_rows(_COLUMNS, _OLD_CARRIED), _OLD_WATCHED)


def _pg_function(columns: str, carried: str) -> str:
    """DIALECT (PostgreSQL): 0008's trigger function (``value`` as text there), writing
    the image's ``carried`` columns too."""
    return f"""CREATE OR REPLACE FUNCTION images_metadata() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM image_metadata WHERE image_pk = OLD.pk;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.custom_metadata IS NOT NULL THEN
    INSERT INTO image_metadata ({columns})
    SELECT NEW.pk, e.key,
      CASE jsonb_typeof(e.value) WHEN 'string' THEN 'text' WHEN 'boolean' THEN 'boolean'
        ELSE 'number' END,
      CASE jsonb_typeof(e.value) WHEN 'string' THEN e.value #>> '{{}}'
        WHEN 'boolean' THEN CASE WHEN e.value = 'true'::jsonb THEN '1' ELSE '0' END
        ELSE trim_scale((e.value #>> '{{}}')::numeric)::text END,
      {carried}
    FROM jsonb_each(NEW.custom_metadata::jsonb) AS e
    WHERE jsonb_typeof(e.value) IN ('string', 'number', 'boolean');
  END IF;
  RETURN NULL;
END $$"""


_PG_OLD_CARRIED = "NEW.folder, NEW.created_at, NEW.id, NEW.alt_text IS NULL"
_PG_TRIGGER = (
    "CREATE TRIGGER images_metadata AFTER INSERT OR DELETE OR UPDATE OF {columns} "
    "ON images FOR EACH ROW EXECUTE FUNCTION images_metadata()"
)
_INDEXES = (
    "ix_image_metadata_name",
    "ix_image_metadata_folder_name",
    "ix_image_metadata_taken",
    "ix_image_metadata_folder_taken",
    "ix_image_metadata_value",
)


def _create_indexes(pg: bool) -> None:
    """The two orders, whole and per folder, and pk order. DIALECT: PostgreSQL's name
    key is 0002's ``nocase(filename)`` (SQLite's NOCASE); the columns only tested on the
    entry, the row id (SQLite's indexes hold it anyway) and ``filename`` are INCLUDEd
    there (an index-only scan needs every column the query names, and ``nocase()``
    names ``filename``: 0016)."""
    name = "nocase(filename)" if pg else "filename COLLATE NOCASE"
    keys = {"name": f"{name}, id", "taken": f"{_TAKEN_KEY}, created_at, id, taken_at"}
    for sort, key in keys.items():
        for scope, lead, tested in (
            ("", "", "folder, undescribed"),
            ("folder_", "folder, ", "undescribed"),
        ):
            if pg:
                extra = ", filename" if sort == "name" else ""
                columns, include = f"{lead}{key}", f" INCLUDE ({tested}, image_pk{extra})"
            else:
                columns, include = f"{lead}{key}, {tested}", ""
            op.execute(
                f"CREATE INDEX ix_image_metadata_{scope}{sort} ON image_metadata "
                f"(key, kind, value, {columns}){include}"
            )
    op.create_index(
        "ix_image_metadata_value", "image_metadata", ["key", "kind", "value", "image_pk"]
    )


def _create_0014_indexes() -> None:
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
    op.add_column("image_metadata", sa.Column("filename", sa.Text, nullable=True))
    op.add_column("image_metadata", sa.Column("taken_at", sa.BigInteger, nullable=True))
    op.execute(
        "UPDATE image_metadata AS m SET filename = i.filename, taken_at = i.taken_at "
        "FROM images AS i WHERE i.pk = m.image_pk"
    )
    op.alter_column("image_metadata", "filename", nullable=False)
    _create_indexes(pg=True)
    op.execute(_pg_function(_NEW_COLUMNS, f"{_PG_OLD_CARRIED}, NEW.filename, NEW.taken_at"))
    op.execute(_PG_TRIGGER.format(columns=_WATCHED))


def _downgrade_pg() -> None:
    op.execute("DROP TRIGGER IF EXISTS images_metadata ON images")
    for name in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_column("image_metadata", "taken_at")
    op.drop_column("image_metadata", "filename")
    op.execute(_pg_function(_COLUMNS, _PG_OLD_CARRIED))
    op.execute(_PG_TRIGGER.format(columns=_OLD_WATCHED))


def _rebuild(columns: list[sa.Column[object]], select: str) -> None:
    """SQLite: ``image_metadata`` made again with ``columns`` (after 0008's four), from
    ``select`` (the rows, in ``_NEW_COLUMNS``/``_COLUMNS`` order), with 0014's indexes."""
    op.create_table(
        "image_metadata_next",
        sa.Column("image_pk", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("undescribed", sa.Boolean, nullable=False),
        *columns,
        sqlite_with_rowid=False,
    )
    op.execute(f"INSERT INTO image_metadata_next {select}")
    op.drop_table("image_metadata")
    op.rename_table("image_metadata_next", "image_metadata")
    _create_0014_indexes()


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # DIALECT
        _upgrade_pg()
        return
    for name in _TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    m = ", ".join(f"m.{c}" for c in _COLUMNS.split(", "))
    _rebuild(
        [
            sa.Column("filename", sa.Text, nullable=False),
            sa.Column("taken_at", sa.BigInteger, nullable=True),
        ],
        f"({_NEW_COLUMNS}) SELECT {m}, i.filename, i.taken_at "
        "FROM image_metadata m JOIN images i ON i.pk = m.image_pk",
    )
    _create_indexes(pg=False)
    for stmt in _TRIGGERS:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # DIALECT
        _downgrade_pg()
        return
    for name in _TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    _rebuild([], f"({_COLUMNS}) SELECT {_COLUMNS} FROM image_metadata")
    for stmt in _OLD_TRIGGERS:
        op.execute(stmt)
