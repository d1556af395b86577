"""Download jobs (issue 17, contract Part 2 "Bulk downloads").

- ``download_jobs``: one per ``POST /v3/images/downloads``: its status (``PENDING``,
  ``PROCESSING``, ``READY``, ``FAILED`` with ``error``), how many entries and, once
  ``READY``, the archive's exact size; ``missing`` (a JSON list of the ids that were not
  there); ``created_at``/``expires_at`` in µs. An expired job's entries go at once; its
  row is kept a while longer (without ``missing``) so its id answers 410, not 404.
- ``download_entries``: the job's frozen list, in archive order: which image, the file it
  read (``relpath``) with the size, mtime and hash it had when the list was made, the
  name inside the archive, and the CRC-32 computed when the job was prepared.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "download_jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("missing", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_download_jobs_expires", "download_jobs", ["expires_at"])
    op.create_table(
        "download_entries",
        sa.Column("job_id", sa.String(40), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("image_id", sa.String(40), nullable=False),
        sa.Column("relpath", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("crc32", sa.BigInteger, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("download_entries")
    op.drop_index("ix_download_jobs_expires", "download_jobs")
    op.drop_table("download_jobs")
