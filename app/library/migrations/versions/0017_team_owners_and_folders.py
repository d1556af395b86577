"""A team library's shared bookkeeping (issue 20):

- ``kept_folders``: the folders a person made (or renamed, or moved) on a storage whose
  folders are rows (an object store): there is no directory to hold a marker file, and
  every process of a team library must see the same empty folders. On a folder storage
  the directory and its ``.imageshelf-folder`` marker still say it (``folder_ops.py``).
- ``owner`` on ``idempotency_keys`` and ``trash``: the team process whose request or
  trash/restore step is in flight (``sql/owners.py``), so another process recovers
  only what a dead one left. NULL in a folder library (one process: all of it is a
  crash's at open).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_folders",
        sa.Column("path", sa.Text, primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    # A nullable column: one catalogue change on either database, no table rebuilt.
    op.add_column("idempotency_keys", sa.Column("owner", sa.BigInteger, nullable=True))
    op.add_column("trash", sa.Column("owner", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trash") as batch:
        batch.drop_column("owner")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("owner")
    op.drop_table("kept_folders")
