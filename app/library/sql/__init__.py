"""Every SQL statement of the library lives in this package, and nowhere else:

- ``engine``: the engine, its pragmas, migrations (Alembic, ``../migrations``);
- ``rows``: one image's row, tombstones, ignored files; the row → record mapping;
- ``lookup``: the ``/i`` fast path (an image by id on plain ``sqlite3``);
- ``listing``: pages, counts and search.

SQLite-only features sit in ``listing`` (FTS5 trigram search, ``json_each``) and in
``engine`` (pragmas, the ``sqlite3`` lookup); each place another dialect would need its
own answer is marked ``DIALECT``."""
