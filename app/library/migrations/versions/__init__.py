"""The schema's revisions, one line from ``0001``. ``HEAD`` names the newest: bump it with
every new revision (tests/library/test_migrations_head.py fails until it matches Alembic's
own head). Named here rather than found by listing files, which a PyInstaller bundle or a
zip import does not have."""

HEAD = "0017"
