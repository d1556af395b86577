"""PostgreSQL: 0018's name-order indexes on ``image_metadata`` include ``filename``, so a
``meta.KEY=VALUE`` listing in name order walks them alone (issue 21, item 5). A no-op on
SQLite, whose schema stays exactly as it was.

As 0016 found for ``images``: PostgreSQL considers an index-only scan only when every
column a query names is in the index, and the name key ``nocase(filename)`` names
``filename``, which these indexes hold only inside the expression. Each entry walked
then read its table row and recomputed ``nocase()``, or the planner gathered all of a
value's entries and sorted them: a common value's page 5,000 entries deep in name order
took 31 ms (``EXPLAIN ANALYZE``, 100,000 images, load average 12); with ``filename``
included it is one index-only walk, 1.7 ms.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# 0018's name indexes on PostgreSQL: (scope's lead, what is INCLUDEd there).
_NAME = {
    "ix_image_metadata_name": ("", "folder, undescribed, image_pk"),
    "ix_image_metadata_folder_name": ("folder, ", "undescribed, image_pk"),
}


def _name_indexes(extra: str) -> None:
    for name, (lead, tested) in _NAME.items():
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(
            f"CREATE INDEX {name} ON image_metadata "
            f"(key, kind, value, {lead}nocase(filename), id) INCLUDE ({tested}{extra})"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # DIALECT: PostgreSQL only
        _name_indexes(", filename")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _name_indexes("")
