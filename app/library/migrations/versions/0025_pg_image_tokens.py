"""PostgreSQL: the images a common ``meta.KEY=VALUE`` value and a common search term have
in common, from one index (issue 21, item 5), as SQLite finds them in FTS5 since 0023. A
no-op on SQLite.

A common value (10,000 of 100,000 images) and a common word (7,925) met in
``meta_listing.search_among`` by hashing the word's entries of ``search_words`` and
probing the hash with each of the value's entries of ``ix_image_metadata_value``: ≈ 4 ms
of the 9.6 ms cursor page "meta common + search" (the slowest of target 4's 246 listing
cases on PostgreSQL). A merge of the two pk-ordered lists is what PostgreSQL plans only
when the word is a literal of the statement.

- ``image_tokens(search_text, custom_metadata)``: an image's tokens, an immutable
  function of two of its columns: 0022's words (the search text cut at spaces and the
  fields' separator, 3+ characters: ``search_tokens``' rule) and one token per
  custom_metadata value, ``\\x1fKEY\\x1fKIND\\x1fVALUE`` with 0008's kind and value (as
  ``image_metadata`` holds them). No word holds ``\\x1f``; no key does either
  (``rules.METADATA_KEY_RE``), so a token names one (key, kind, value).
- ``ix_images_tokens``: a GIN index of them. "A word holding the term and a reading of
  this value" is one scan, GIN intersecting its own lists of rows, and only the ≈ 800
  rows in common are visited: 3.1 → 1.2-1.4 ms (the least of 60, load average 7). Kept
  by PostgreSQL itself as the two columns change: no trigger, no table.

The function uses built-in functions only (a restore runs with an empty search path).
Measured on the benchmark's 100,000-image team library: the index is built in ≈ 8 s
(under load 6), 11 MB.

Revision ID: 0025
Revises: 0023
Create Date: 2026-11-30
"""

from alembic import op

revision = "0025"
down_revision = "0023"
branch_labels = None
depends_on = None

# 0022's search_tokens rule, then 0008's kind and value of each custom_metadata entry
# (migration 0014's images_metadata()), each as one token.
_FUNCTION = r"""CREATE FUNCTION image_tokens(search_text text, custom_metadata text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce((SELECT array_agg(DISTINCT w)
      FROM unnest(string_to_array(translate(search_text, E'\x1f', ' '), ' ')) AS w
      WHERE length(w) >= 3), '{}')
    || coalesce((SELECT array_agg(E'\x1f' || e.key || E'\x1f'
      || CASE jsonb_typeof(e.value) WHEN 'string' THEN 'text'
           WHEN 'boolean' THEN 'boolean' ELSE 'number' END
      || E'\x1f'
      || CASE jsonb_typeof(e.value) WHEN 'string' THEN e.value #>> '{}'
           WHEN 'boolean' THEN CASE WHEN e.value = 'true'::jsonb THEN '1' ELSE '0' END
           ELSE trim_scale((e.value #>> '{}')::numeric)::text END)
      FROM jsonb_each(custom_metadata::jsonb) AS e
      WHERE jsonb_typeof(e.value) IN ('string', 'number', 'boolean')), '{}')
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # DIALECT: PostgreSQL only
    op.execute(_FUNCTION)
    op.execute(
        "CREATE INDEX ix_images_tokens ON images "
        "USING gin (image_tokens(search_text, custom_metadata))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_images_tokens")
    op.execute("DROP FUNCTION IF EXISTS image_tokens(text, text)")
