"""PostgreSQL: a search term's matches without re-checking rows, and a deep page without
walking 50,000 index entries (issue 21, item 5). A no-op on SQLite, whose schema stays
exactly as it was.

Found with ``EXPLAIN (ANALYZE, BUFFERS)`` on the benchmark's team library (100,000
images):

- **Words.** pg_trgm's index gives candidates that are each re-checked against their
  text (trigrams are not exact): a common term's exact count re-read ≈ 8,000 rows of
  ``image_search``. A term without a space (or the fields' separator) is a substring
  of the text exactly when it is a substring of one of the text's space-separated
  tokens; a term of 3+ characters only of a token of 3+. So ``search_vocab`` holds
  every such token once (with the trigram index, re-checking a handful of words), and
  ``search_words`` each image's tokens (``(word, image_pk)``, its primary key read
  index-only): the matches are the entries of the words that hold the term, exact, no
  row read. A term with a space still goes through the trigram index.
- **Order marks.** A page 50,000 deep was an OFFSET walk of the sort's index (≈ 75 ns
  an entry: ≈ 4 ms). ``order_marks`` cuts each sort's lead key into ranges of about
  1,000 images (from the lowest possible key up) and keeps how many images each range
  holds, by trigger, in the transaction that adds, removes or re-keys an image: so the
  images before any range are a sum of a hundred numbers, and a page is a walk of at
  most one range's entries from the range's first key. The ranges are re-cut by
  ``order_marks_rebuild`` (here, and by the housekeeping when uploads have made one
  range far larger: ``sql/order_marks.py``); a larger range is still exact, only a
  longer walk.

Revision ID: 0022
Revises: 0020
Create Date: 2026-11-30
"""

from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

# The tokens of a search text a term of 3+ characters can lie in: split at spaces and at
# the fields' separator (filters.SEARCH_FIELD_SEPARATOR), each of 3+ characters, once.
_TOKENS = r"""CREATE FUNCTION search_tokens(t text) RETURNS text[] LANGUAGE sql IMMUTABLE
STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT w), '{}')
  FROM unnest(string_to_array(translate(t, E'\x1f', ' '), ' ')) AS w
  WHERE length(w) >= 3
$$"""

# Kept from image_search (0016), which follows images' search_text. A word no image has
# any more leaves the vocabulary (writers are one at a time: pg_engine's write lock).
_WORDS_FUNCTION = """CREATE FUNCTION image_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    DELETE FROM search_words WHERE word = ANY (search_tokens(OLD.search_text))
      AND image_pk = OLD.pk;
    DELETE FROM search_vocab v WHERE v.word = ANY (search_tokens(OLD.search_text))
      AND NOT EXISTS (SELECT 1 FROM search_words w WHERE w.word = v.word);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO search_vocab (word) SELECT unnest(search_tokens(NEW.search_text))
      ON CONFLICT DO NOTHING;
    INSERT INTO search_words (word, image_pk)
      SELECT unnest(search_tokens(NEW.search_text)), NEW.pk;
  END IF;
  RETURN NULL;
END $$"""

# The lowest key of every sort: the first range starts there, so every image is in one.
LOWEST = -9223372036854775808
# The sorts' lead keys (newest and oldest share created_at), as their indexes have them.
_TAKEN_KEY = "coalesce({r}.taken_at, {r}.created_at + -4611686018427387904)"

# One image's ranges: +1 (added) or -1 (removed) on the range holding its key.
_ADD_FUNCTION = """CREATE FUNCTION order_mark_add(s text, k bigint, k_name text, d integer)
RETURNS void LANGUAGE sql AS $$
  UPDATE order_marks SET n = n + d
  WHERE sort = s AND (lo, lo_name) = (
    SELECT lo, lo_name FROM order_marks
    WHERE sort = s AND (lo, lo_name) <= (k, k_name)
    ORDER BY lo DESC, lo_name DESC LIMIT 1)
$$"""

_COUNT_FUNCTION = f"""CREATE FUNCTION order_marks_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_created bigint; new_created bigint;
  old_taken bigint; new_taken bigint;
  old_name text; new_name text;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    old_created := OLD.created_at;
    old_taken := {_TAKEN_KEY.format(r="OLD")};
    old_name := nocase(OLD.filename);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_created := NEW.created_at;
    new_taken := {_TAKEN_KEY.format(r="NEW")};
    new_name := nocase(NEW.filename);
  END IF;
  IF old_created IS DISTINCT FROM new_created THEN
    IF old_created IS NOT NULL THEN PERFORM order_mark_add('created', old_created, '', -1);
    END IF;
    IF new_created IS NOT NULL THEN PERFORM order_mark_add('created', new_created, '', 1);
    END IF;
  END IF;
  IF old_taken IS DISTINCT FROM new_taken THEN
    IF old_taken IS NOT NULL THEN PERFORM order_mark_add('taken', old_taken, '', -1); END IF;
    IF new_taken IS NOT NULL THEN PERFORM order_mark_add('taken', new_taken, '', 1); END IF;
  END IF;
  IF old_name IS DISTINCT FROM new_name THEN
    IF old_name IS NOT NULL THEN PERFORM order_mark_add('name', 0, old_name, -1); END IF;
    IF new_name IS NOT NULL THEN PERFORM order_mark_add('name', 0, new_name, 1); END IF;
  END IF;
  RETURN NULL;
END $$"""

# Re-cuts every sort's ranges at every ``size``-th image (by lead key: images with the
# same key stay in one range), counted exactly. rank() is the position of the first
# image with that key, so a range holds the images from its rank to the next one's.
_TAKEN_OF_IMAGES = _TAKEN_KEY.format(r="images")
_REBUILD_FUNCTION = f"""CREATE FUNCTION order_marks_rebuild(size integer) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  total bigint := (SELECT count(*) FROM images);
  spec text[];
BEGIN
  DELETE FROM order_marks;
  FOREACH spec SLICE 1 IN ARRAY ARRAY[
    ['created', 'created_at', 'k', ''''''],
    ['taken', '{_TAKEN_OF_IMAGES}', 'k', ''''''],
    ['name', 'nocase(images.filename)', '0', 'k']
  ] LOOP
    EXECUTE format(
      'INSERT INTO order_marks (sort, lo, lo_name, n) '
      'SELECT %L, lo, lo_name, lead(at, 1, %s + 1) OVER (ORDER BY lo, lo_name) - at FROM ('
      '  SELECT CAST({LOWEST} AS bigint) AS lo, ''''::text AS lo_name, 1::bigint AS at'
      '  UNION ALL SELECT DISTINCT %s, %s, at FROM ('
      '    SELECT k, rank() OVER (ORDER BY k) AS at, row_number() OVER (ORDER BY k) AS rn'
      '    FROM (SELECT %s AS k FROM images) AS keyed) AS ranked'
      '  WHERE rn %% %s = 1 AND rn > 1) AS marks',
      spec[1], total, spec[3], spec[4], spec[2], size);
  END LOOP;
END $fn$"""

_TABLES = """
CREATE TABLE search_vocab (word text PRIMARY KEY);
CREATE TABLE search_words (word text NOT NULL, image_pk integer NOT NULL);
CREATE TABLE order_marks (
  sort text NOT NULL, lo bigint NOT NULL, lo_name text NOT NULL, n integer NOT NULL,
  PRIMARY KEY (sort, lo, lo_name))
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # DIALECT: PostgreSQL only
    for statement in filter(str.strip, _TABLES.split(";")):
        op.execute(statement)
    op.execute(_TOKENS)
    # Filled in bulk, indexed after (faster than row by row through the index).
    op.execute(
        "INSERT INTO search_words (word, image_pk) "
        "SELECT unnest(search_tokens(search_text)), pk FROM image_search"
    )
    op.execute("INSERT INTO search_vocab (word) SELECT DISTINCT word FROM search_words")
    op.execute("ALTER TABLE search_words ADD PRIMARY KEY (word, image_pk)")
    op.execute("CREATE INDEX ix_search_vocab ON search_vocab USING gin (word gin_trgm_ops)")
    op.execute(_WORDS_FUNCTION)
    op.execute(
        "CREATE TRIGGER image_search_words AFTER INSERT OR DELETE OR UPDATE OF search_text "
        "ON image_search FOR EACH ROW EXECUTE FUNCTION image_search_words()"
    )
    op.execute(_ADD_FUNCTION)
    op.execute(_COUNT_FUNCTION)
    op.execute(_REBUILD_FUNCTION)
    op.execute("SELECT order_marks_rebuild(1000)")  # sql/order_marks.SPACING
    op.execute(
        "CREATE TRIGGER order_marks AFTER INSERT OR DELETE OR UPDATE OF created_at, filename, "
        "taken_at ON images FOR EACH ROW EXECUTE FUNCTION order_marks_count()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS order_marks ON images")
    op.execute("DROP TRIGGER IF EXISTS image_search_words ON image_search")
    for function in (
        "order_marks_rebuild(integer)",
        "order_marks_count()",
        "order_mark_add(text, bigint, text, integer)",
        "image_search_words()",
        "search_tokens(text)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    for table in ("order_marks", "search_words", "search_vocab"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
