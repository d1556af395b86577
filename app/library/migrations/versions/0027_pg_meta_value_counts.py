"""PostgreSQL: ``meta_value_counts``, each ``meta.KEY=VALUE`` reading's number of images
and of undescribed images, kept by trigger (issue 21, ``4 list2 pg``). A no-op on SQLite.

A page of a common value was three statements: the values' counts (is a value common?
which of its readings do images hold? each range counted up to 2,001 entries, ≈ 0.75 ms
of execution under load 7), the filter's count (every entry of the value's index: 10,000
for a value 10% of images hold, ≈ 3.0 ms; 2,975 undescribed ones, ≈ 1.4 ms), then the
page (≈ 0.2 ms). With one row per ``(key, kind, value)`` the first two are primary-key
reads, asked in one statement (``sql/pg_meta_counts.py``): a page is two statements.

Kept by a row trigger on ``image_metadata`` (whose rows 0008/0014/0018's trigger on
``images`` deletes and re-inserts as an image is added, edited or removed), in the
writing transaction: exact for every snapshot that sees the rows. A value's row is
locked by each transaction adding or removing one of its images until it commits, as
``folder_counts`` (0003) is for a folder; a row whose count falls to 0 stays (the same
answer as no row).

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-30
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

_TABLE = """CREATE TABLE meta_value_counts (
  key text NOT NULL, kind text NOT NULL, value text NOT NULL,
  images bigint NOT NULL, undescribed bigint NOT NULL,
  PRIMARY KEY (key, kind, value))"""

# An UPDATE of an image_metadata row (no trigger writes one; a migration might) counts as
# its old row removed and its new one added.
_FUNCTION = """CREATE FUNCTION meta_value_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE meta_value_counts SET images = images - 1,
      undescribed = undescribed - (OLD.undescribed IS TRUE)::int
    WHERE key = OLD.key AND kind = OLD.kind AND value = OLD.value;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO meta_value_counts AS c (key, kind, value, images, undescribed)
    VALUES (NEW.key, NEW.kind, NEW.value, 1, (NEW.undescribed IS TRUE)::int)
    ON CONFLICT (key, kind, value) DO UPDATE
      SET images = c.images + 1, undescribed = c.undescribed + EXCLUDED.undescribed;
  END IF;
  RETURN NULL;
END $$"""

_TRIGGER = (
    "CREATE TRIGGER image_metadata_counts AFTER INSERT OR DELETE OR UPDATE "
    "ON image_metadata FOR EACH ROW EXECUTE FUNCTION meta_value_counts()"
)

# The listing's test of an undescribed entry is ``m0.undescribed`` (NULL: not).
_FILL = """INSERT INTO meta_value_counts (key, kind, value, images, undescribed)
SELECT key, kind, value, COUNT(*), COUNT(*) FILTER (WHERE undescribed)
FROM image_metadata GROUP BY key, kind, value"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # DIALECT: PostgreSQL only
    op.execute(_TABLE)
    op.execute(_FUNCTION)
    # No image_metadata row is written between the count and the trigger: writers wait
    # for this transaction.
    op.execute("LOCK TABLE image_metadata IN SHARE ROW EXCLUSIVE MODE")
    op.execute(_TRIGGER)
    op.execute(_FILL)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS image_metadata_counts ON image_metadata")
    op.execute("DROP FUNCTION IF EXISTS meta_value_counts()")
    op.execute("DROP TABLE IF EXISTS meta_value_counts")
