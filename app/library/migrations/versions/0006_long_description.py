"""IPTC alt text travels with the files (issue 18): ``long_description``.

IPTC's Extended Description (Accessibility), up to 10,000 characters, ``NULL`` for none,
on ``images`` and on ``trash`` (a trashed image keeps every column of its row). The
setting *Write alt text into image files* is a row of the ``settings`` table 0005 made.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("images", sa.Column("long_description", sa.Text(), nullable=True))
    op.add_column("trash", sa.Column("long_description", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in ("trash", "images"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("long_description")
