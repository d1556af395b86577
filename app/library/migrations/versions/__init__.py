"""The schema's revisions, one line from ``0001``. ``HEAD`` names the newest: bump it with
every new revision (tests/library/test_migrations_head.py fails until it matches Alembic's
own head). Named here rather than found by listing files, which a PyInstaller bundle or a
zip import does not have. There is no 0015: three branches written at once reserved
0015–0017 and the one that took 0015 landed last as 0018; the line is what counts. Nor is
there a 0021: it was reserved beside 0022, which landed first, and landed after it as 0023.
Nor a 0024: session 8 reserved it for a branch that needed none, and 0025 revises 0023."""

HEAD = "0028"
