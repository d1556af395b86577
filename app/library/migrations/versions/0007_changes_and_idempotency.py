"""Live changes and idempotency keys (issue 17).

- ``changes``: one row per committed change to an image, numbered (``seq``, never
  reused: AUTOINCREMENT) in the very transaction that made it. Triggers write the rows,
  so every writer — the window, the API, the watcher and reconcile, the command line, a
  second process on the same library — is covered without a line of its own, and no
  change can commit without its number. ``event`` is the contract's name
  (``image.created`` ...). Restored vs created is told by the trash row still being there
  when the image row comes back (``trash_rows.restore`` inserts first, drops after);
  purged is a settled trash row going while no image row has that id.
- ``idempotency_keys``: per API key (a hash of the bearer token) and ``Idempotency-Key``,
  the request's fingerprint and, once it finished, the answer to replay.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_NOW_US = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
# The columns an ImageResponse shows: a change to any of them is an image.updated. A
# write that touches only bookkeeping (a move's pending_path, a re-stat's mtime_ns) is not.
_SHOWN = (
    "folder",
    "filename",
    "original_filename",
    "content_type",
    "size",
    "width",
    "height",
    "sha256",
    "alt_text",
    "long_description",
    "updated_at",
)


def _record(event_sql: str, id_sql: str) -> str:
    return f"INSERT INTO changes (at, event, image_id) VALUES ({_NOW_US}, {event_sql}, {id_sql});"


# DIALECT (PostgreSQL): the same rows from plpgsql triggers; each new change is also
# NOTIFYed (delivered at commit) with its number and the writer's engine
# (``pg_engine.origin``), so every other process announces it within a second.
_PG_NOW_US = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
_PG_FUNCTIONS = (
    f"""CREATE FUNCTION changes_image() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO changes (at, event, image_id) VALUES ({_PG_NOW_US},
      CASE WHEN EXISTS (SELECT 1 FROM trash WHERE id = NEW.id)
        THEN 'image.restored' ELSE 'image.created' END, NEW.id);
  ELSIF TG_OP = 'UPDATE' THEN
    IF {" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _SHOWN)} THEN
      INSERT INTO changes (at, event, image_id) VALUES ({_PG_NOW_US}, 'image.updated', NEW.id);
    END IF;
  ELSE
    INSERT INTO changes (at, event, image_id) VALUES ({_PG_NOW_US}, 'image.deleted', OLD.id);
  END IF;
  RETURN NULL;
END $$""",
    f"""CREATE FUNCTION changes_trash_purge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM images WHERE id = OLD.id) THEN
    INSERT INTO changes (at, event, image_id) VALUES ({_PG_NOW_US}, 'image.purged', OLD.id);
  END IF;
  RETURN NULL;
END $$""",
    """CREATE FUNCTION changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('imageshelf_changes',
    NEW.seq || ' ' || coalesce(current_setting('imageshelf.origin', true), ''));
  RETURN NULL;
END $$""",
    "CREATE TRIGGER changes_image AFTER INSERT OR UPDATE OR DELETE ON images "
    "FOR EACH ROW EXECUTE FUNCTION changes_image()",
    "CREATE TRIGGER changes_trash_purge AFTER DELETE ON trash FOR EACH ROW "
    "WHEN (OLD.intent IS NULL) EXECUTE FUNCTION changes_trash_purge()",
    "CREATE TRIGGER changes_notify AFTER INSERT ON changes FOR EACH ROW "
    "EXECUTE FUNCTION changes_notify()",
)


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("image_id", sa.String(40), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_changes_at", "changes", ["at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=True),  # NULL: the first is still running
        sa.Column("headers", sa.Text, nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_FUNCTIONS:
            op.execute(statement)
        return
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _SHOWN)
    for statement in (
        "CREATE TRIGGER changes_image_insert AFTER INSERT ON images BEGIN "
        + _record(
            "CASE WHEN EXISTS (SELECT 1 FROM trash WHERE id = NEW.id) "
            "THEN 'image.restored' ELSE 'image.created' END",
            "NEW.id",
        )
        + " END",
        f"CREATE TRIGGER changes_image_update AFTER UPDATE ON images WHEN {changed} BEGIN "
        + _record("'image.updated'", "NEW.id")
        + " END",
        "CREATE TRIGGER changes_image_delete AFTER DELETE ON images BEGIN "
        + _record("'image.deleted'", "OLD.id")
        + " END",
        "CREATE TRIGGER changes_trash_purge AFTER DELETE ON trash WHEN OLD.intent IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM images WHERE id = OLD.id) BEGIN "
        + _record("'image.purged'", "OLD.id")
        + " END",
    ):
        op.execute(statement)


def downgrade() -> None:
    for trigger in (
        "changes_trash_purge",
        "changes_image_delete",
        "changes_image_update",
        "changes_image_insert",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.drop_index("ix_idempotency_keys_created", "idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_changes_at", "changes")
    op.drop_table("changes")
