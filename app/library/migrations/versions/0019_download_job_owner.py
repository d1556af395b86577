"""``download_jobs.owner`` (issue 20): the team process preparing a job
(``sql/owners.py``), so that a job whose process died is prepared by another one, and a
job a live process is preparing is left to it. NULL in a folder library (one process:
every unprepared job is resumed at open). Its own revision because 0017 had already
landed when this was added.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column: one catalogue change on either database, no table rebuilt.
    op.add_column("download_jobs", sa.Column("owner", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("download_jobs") as batch:
        batch.drop_column("owner")
