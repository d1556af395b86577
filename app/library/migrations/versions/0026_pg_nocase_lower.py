"""PostgreSQL: ``nocase()``, the name sort's key (0002), computed by ``lower()`` under the
"C" collation instead of ``translate()``: the same text, ≈ 15× cheaper (issue 21, item 5).
A no-op on SQLite, whose ``COLLATE NOCASE`` is its own.

0002 spelled SQLite's NOCASE (ASCII letters folded, then byte order) as
``translate($1, 'ABC…Z', 'abc…z')``. ``translate()`` looks each character of the name up
in the 26-character list, character by character, multibyte-aware: ≈ 3.5 µs a name
(100,000 names: 368 ms against 24 for reading them). Wherever a name is not read from
an index, the key is computed per row: the images a common ``meta.KEY=VALUE`` value and
a common term have in common are sorted by name when a page of them is read
(``pg_tokens``: 819 rows, 4.7 → 2.1 ms of the statement's execution under load 6), and
every insert, rename and index build computes it too.

``lower()`` under the "C" collation folds ASCII letters only, byte by byte (PostgreSQL's
``asc_tolower``: ``A``-``Z``, nothing else; a UTF-8 character's bytes are all ≥ 0x80 and
left alone), which is exactly what ``translate()`` did: every one of the benchmark's
100,000 names (a third of them not ASCII) gives the same key both ways. The "C" is
explicit, as the database's own ctype (C.UTF-8) would fold other letters too; the result
is put back in the default collation so that the expression, inlined into a query, is
the one the name indexes were built on (an ORDER BY in another collation would not use
them). Same values: the indexes on ``nocase(filename)`` stay valid and are not rebuilt
(PostgreSQL inlines the function's body into their expressions when it loads them).
A process connected before this migration keeps the index expressions it loaded (the
old body) until it reconnects: its plans may then sort names instead of walking an
index, with the same answers.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_NOCASE = (
    "CREATE OR REPLACE FUNCTION nocase(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT {body} $$"
)
_LOWER = 'lower($1 COLLATE "C") COLLATE "default"'
_TRANSLATE = "translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # DIALECT: PostgreSQL only
    op.execute(_NOCASE.format(body=_LOWER))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_NOCASE.format(body=_TRANSLATE))
