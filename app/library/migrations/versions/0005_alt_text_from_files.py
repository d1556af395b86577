"""IPTC alt text travels with the files (issue 18).

- ``images.long_description``: IPTC's Extended Description (Accessibility), up to 10,000
  characters, ``NULL`` for none.
- ``settings``: the library's own settings, one text value per key (JSON where a value is
  not a plain string). The first is ``write_alt_text_to_files``; other settings join it
  here rather than each adding a table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("images", sa.Column("long_description", sa.Text(), nullable=True))
    op.create_table(
        "settings",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("settings")
    with op.batch_alter_table("images") as batch:
        batch.drop_column("long_description")
